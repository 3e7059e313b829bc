"""Frames in, detections and violations out.

Pure: numpy, OpenCV and onnxruntime only. No network, no MQTT, no web framework, no
environment variables (all configuration is passed in).
"""
