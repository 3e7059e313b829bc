"""Model outputs -> boxes: the two YOLO ONNX layouts ultralytics exports, and class-aware NMS.

* ``raw``: ``(B, 4 + nc, N)``, rows cx, cy, w, h then one score per class (YOLOv8/11/12).
* ``end2end``: ``(B, max_det, 6)``, rows x1, y1, x2, y2, score, class (YOLOv10/26 and
  ``export(nms=True)``); already suppressed.

Everything is vectorised numpy; the greedy suppression itself runs in OpenCV's C++.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


class OutputKind(StrEnum):
    RAW = "raw"
    END2END = "end2end"


class OutputLayoutError(ValueError):
    """The model's output does not have the layout its card declares."""


def decode(
    output: npt.NDArray[np.floating],
    kind: OutputKind,
    num_classes: int,
    conf: float,
    iou: float,
    max_det: int,
) -> list[tuple[F32, F32, I64]]:
    """Decode a batched output into per-image (xyxy, score, model class index)."""
    if kind is OutputKind.RAW:
        if output.ndim != 3 or output.shape[1] != 4 + num_classes:
            raise OutputLayoutError(
                f"raw output must be (B, 4+{num_classes}, N), got {tuple(output.shape)}"
            )
        return [decode_raw(o, conf, iou, max_det) for o in output]
    if output.ndim != 3 or output.shape[2] < 6:
        raise OutputLayoutError(
            f"end2end output must be (B, max_det, 6), got {tuple(output.shape)}"
        )
    return [decode_end2end(o, conf, max_det, num_classes) for o in output]


def decode_raw(
    pred: npt.NDArray[np.floating], conf: float, iou: float, max_det: int
) -> tuple[F32, F32, I64]:
    """One image's ``(4 + nc, N)`` prediction -> boxes after threshold and class-aware NMS."""
    scores = pred[4:]
    cls = scores.argmax(axis=0)
    best = np.take_along_axis(scores, cls[None, :], axis=0)[0]
    keep = best >= conf
    if not keep.any():
        return _empty()
    cxcywh = pred[:4, keep].T.astype(np.float32)
    xyxy = np.empty_like(cxcywh)
    xyxy[:, :2] = cxcywh[:, :2] - cxcywh[:, 2:] / 2
    xyxy[:, 2:] = cxcywh[:, :2] + cxcywh[:, 2:] / 2
    score = best[keep].astype(np.float32)
    cls_k = cls[keep].astype(np.int64)
    idx = nms(xyxy, score, cls_k, iou, max_det)
    return xyxy[idx], score[idx], cls_k[idx]


def decode_end2end(
    pred: npt.NDArray[np.floating], conf: float, max_det: int, num_classes: int
) -> tuple[F32, F32, I64]:
    keep = pred[:, 4] >= conf
    rows = pred[keep][:max_det]
    cls = rows[:, 5].round().astype(np.int64)
    if len(cls) and (cls.min() < 0 or cls.max() >= num_classes):
        raise OutputLayoutError(f"end2end output has class ids outside 0..{num_classes - 1}")
    return rows[:, :4].astype(np.float32), rows[:, 4].astype(np.float32), cls


def nms(xyxy: F32, score: F32, cls: I64, iou: float, max_det: int) -> I64:
    """Class-aware greedy NMS; indices of the kept boxes, best score first."""
    if len(xyxy) == 0:
        return np.zeros(0, np.int64)
    xywh = xyxy.copy()
    xywh[:, 2:] -= xywh[:, :2]
    nms_batched: Any = cv2.dnn.NMSBoxesBatched  # its stubs want lists; arrays are accepted
    kept = nms_batched(xywh, score, cls.astype(np.int32), 0.0, iou, top_k=max_det)
    idx = np.asarray(kept, dtype=np.int64).reshape(-1)
    # OpenCV keeps score order within classes; return global best-first order.
    return idx[np.argsort(-score[idx], kind="stable")][:max_det]


def _empty() -> tuple[F32, F32, I64]:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
