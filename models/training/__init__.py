"""Training, export, quantisation and evaluation of the shipped models.

Only the `siteguard train|export|quantize|calibrate|evaluate|pseudo-label` commands reach
this package; ultralytics is imported lazily inside it, never at run time.
"""
