"""`Detections`: the one value type for boxes, used from the detector to the event.

Parallel numpy arrays (one row per box) so that every operation is vectorised:
``xyxy`` (N, 4) float32 in source-image pixels, ``confidence`` (N,) float32,
``class_id`` (N,) int64 in taxonomy ids, ``tracker_id`` (N,) int64 (-1 = untracked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from siteguard.pipeline.taxonomy import Taxonomy, default_taxonomy

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def _no_tracks(n: int) -> IntArray:
    return np.full(n, -1, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Detections:
    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    tracker_id: IntArray = field(default_factory=lambda: _no_tracks(0))

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        trk = np.asarray(self.tracker_id, dtype=np.int64).reshape(-1)
        if len(trk) == 0 and n:
            trk = _no_tracks(n)
        if not (len(conf) == len(cls) == len(trk) == n):
            raise ValueError(
                f"Detections arrays differ in length: xyxy={n}, confidence={len(conf)}, "
                f"class_id={len(cls)}, tracker_id={len(trk)}"
            )
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "class_id", cls)
        object.__setattr__(self, "tracker_id", trk)

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int64),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        """Boolean mask, integer array or slice: a new `Detections` with those rows."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=self.tracker_id[index],
        )

    def of_class(self, *names: str, taxonomy: Taxonomy | None = None) -> Detections:
        tax = taxonomy or default_taxonomy()
        ids = [tax.id_of(n) for n in names]
        return self[np.isin(self.class_id, ids)]

    def above(self, threshold: float) -> Detections:
        return self[self.confidence >= threshold]

    def with_trackers(self, tracker_id: IntArray) -> Detections:
        return Detections(self.xyxy, self.confidence, self.class_id, tracker_id)

    @property
    def area(self) -> FloatArray:
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        out: FloatArray = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return out

    def anchors(self, where: str = "bottom_center") -> FloatArray:
        """Points per box: ``bottom_center`` (a person's feet) or ``center``."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        y: npt.NDArray[np.floating[Any]]
        if where == "bottom_center":
            y = self.xyxy[:, 3]
        elif where == "center":
            y = (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2
        else:
            raise ValueError(f"unknown anchor {where!r}")
        return np.stack([x, y], axis=1).astype(np.float32)

    def labels(self, taxonomy: Taxonomy | None = None) -> list[str]:
        tax = taxonomy or default_taxonomy()
        return [tax.name_of(int(c)) for c in self.class_id]

    def to_records(self, taxonomy: Taxonomy | None = None) -> list[dict[str, Any]]:
        """The JSON form used by `siteguard detect --json` and hazard events."""
        return [
            {"label": label, "score": round(float(s), 4), "box": [round(float(v), 1) for v in b]}
            for label, s, b in zip(self.labels(taxonomy), self.confidence, self.xyxy, strict=True)
        ]

    @staticmethod
    def concat(parts: list[Detections]) -> Detections:
        if not parts:
            return Detections.empty()
        return Detections(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            tracker_id=np.concatenate([p.tracker_id for p in parts]),
        )


def box_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes -> (N, M)."""
    inter = _intersection(a, b)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    iou: FloatArray = (inter / np.maximum(union, 1e-9)).astype(np.float32)
    return iou


def box_ioa(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise intersection over the area of ``a``: how much of each a-box lies in each b-box."""
    inter = _intersection(a, b)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    ioa: FloatArray = (inter / np.maximum(area_a[:, None], 1e-9)).astype(np.float32)
    return ioa


def _intersection(a: FloatArray, b: FloatArray) -> FloatArray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter: FloatArray = (wh[..., 0] * wh[..., 1]).astype(np.float32)
    return inter
