"""A small ByteTrack-style IoU tracker: stable ids for people (and heads) across frames.

At the 1-5 fps an edge box detects at, workers move little between frames, so IoU
association (confident detections first, then weak ones to keep tracks alive through a
dip in score) is enough; no motion model. Class-aware: a head never continues a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from siteguard.pipeline.detections import Detections, box_iou


class TrackerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match_iou: float = Field(0.25, gt=0, le=1, description="IoU needed to continue a track")
    high_score: float = Field(0.5, ge=0, le=1, description="Detections at or above start tracks")
    max_lost_s: float = Field(3.0, gt=0, description="Seconds a track survives unseen")


@dataclass
class _Track:
    id: int
    box: np.ndarray
    class_id: int
    last_seen: float


class IouTracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: list[_Track] = []
        self._next_id = 1

    @property
    def active(self) -> int:
        return len(self._tracks)

    def update(self, dets: Detections, t: float) -> Detections:
        """Assign tracker ids to ``dets`` observed at time ``t`` (seconds, monotonic)."""
        cfg = self.config
        self._tracks = [tr for tr in self._tracks if t - tr.last_seen <= cfg.max_lost_s]
        ids = np.full(len(dets), -1, np.int64)
        free_tracks = list(range(len(self._tracks)))
        high = np.flatnonzero(dets.confidence >= cfg.high_score)
        low = np.flatnonzero(dets.confidence < cfg.high_score)
        for rows in (high, low):
            free_tracks = self._associate(dets, rows, free_tracks, ids, t)
        for r in high:
            if ids[r] < 0:
                ids[r] = self._next_id
                self._tracks.append(
                    _Track(self._next_id, dets.xyxy[r].copy(), int(dets.class_id[r]), t)
                )
                self._next_id += 1
        return dets.with_trackers(ids)

    def _associate(
        self, dets: Detections, rows: np.ndarray, free: list[int], ids: np.ndarray, t: float
    ) -> list[int]:
        if not len(rows) or not free:
            return free
        boxes = np.stack([self._tracks[i].box for i in free])
        classes = np.array([self._tracks[i].class_id for i in free])
        iou = box_iou(dets.xyxy[rows], boxes)
        iou[dets.class_id[rows][:, None] != classes[None, :]] = 0.0
        pairs = np.argwhere(iou >= self.config.match_iou)
        pairs = pairs[np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")]
        used_d: set[int] = set()
        used_t: set[int] = set()
        for d, k in pairs:  # greedy, best IoU first; pairs are few (people per camera)
            if d in used_d or k in used_t:
                continue
            used_d.add(d)
            used_t.add(k)
            track = self._tracks[free[k]]
            track.box = dets.xyxy[rows[d]].copy()
            track.last_seen = t
            ids[rows[d]] = track.id
        return [i for j, i in enumerate(free) if j not in used_t]
