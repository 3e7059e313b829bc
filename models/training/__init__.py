"""Training, export, quantisation and evaluation of the shipped models.

Only the `siteguard train|export|quantize|calibrate|evaluate|pseudo-label` commands reach
this package; ultralytics is imported lazily inside it, never at run time.
"""

import os


def ultralytics_offline() -> None:
    """Before ultralytics is imported: no hub weights, fonts or version checks, and no pip
    "AutoUpdate" of a missing requirement (ultralytics reads both as the text "true" /
    "false" once, at import; "1" does not count)."""
    os.environ["YOLO_OFFLINE"] = "true"
    os.environ["YOLO_AUTOINSTALL"] = "false"
