"""Shipped ONNX models with their model cards, and the training/export/evaluation code.

Nothing here is imported at run time except to locate the shipped files: the training
modules (`train`, `export`, `evaluate`, `pseudo_label`) import ultralytics lazily and are
only reached from the `siteguard train|export|evaluate` commands.
"""
