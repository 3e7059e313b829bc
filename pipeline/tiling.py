"""Tiled detection for far-field cameras: the whole frame plus overlapping tiles.

A 1080p frame letterboxed to a 416 px model input shrinks 4.6 times, and a worker's head
30 m from the camera ends up a few pixels wide: the detector misses most heads that small
(docs/models.md, "where the errors are"). Running the model again on a grid of tiles shows
it those heads at up to ``grid`` times the size, at ``1 + grid**2`` times the compute.
Boxes from the tiles are shifted back into frame pixels; a tile box that touches a cut
inside the frame is dropped (it is part of something larger, which the whole frame or a
neighbouring tile sees whole), and the rest is merged with the whole frame's by class-aware
NMS at the card's IoU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from siteguard.pipeline.decode import nms
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import ModelRef, OnnxDetector
from siteguard.pipeline.model_card import ModelCard

CUT_MARGIN_PX = 2.0  # a tile box within this many pixels of an inner cut is cut off
MAX_GRID = 4
TILES_HELP = (
    "far-field cameras: also detect on an N x N grid of overlapping tiles, so that small "
    "heads are seen larger (1 = the whole frame only; 2 costs 5x the compute)"
)


def tile_windows(
    width: int, height: int, grid: int, overlap: float
) -> list[tuple[int, int, int, int]]:
    """``grid`` x ``grid`` windows (x0, y0, x1, y1) covering the frame, neighbours sharing
    ``overlap`` of a tile's side."""
    if grid < 2:
        raise ValueError(f"tiling needs a grid of at least 2, got {grid}")
    if not 0 <= overlap < 1:
        raise ValueError(f"tile overlap must be in [0, 1), got {overlap}")

    def spans(size: int) -> list[tuple[int, int]]:
        side = size / (grid - (grid - 1) * overlap)
        step = side * (1 - overlap)
        return [(round(i * step), min(size, round(i * step + side))) for i in range(grid)]

    return [(x0, y0, x1, y1) for y0, y1 in spans(height) for x0, x1 in spans(width)]


class TiledDetector:
    """An `OnnxDetector` that also looks at tiles; the same `detect` contract."""

    def __init__(self, detector: OnnxDetector, grid: int = 2, overlap: float = 0.25) -> None:
        tile_windows(64, 64, grid, overlap)  # validate now, not on the first frame
        self.detector, self.grid, self.overlap = detector, grid, overlap

    @property
    def card(self) -> ModelCard:
        return self.detector.card

    @property
    def model(self) -> ModelRef:
        return self.detector.model

    @property
    def input_size(self) -> tuple[int, int]:
        return self.detector.input_size

    def warmup(self, runs: int = 2) -> None:
        self.detector.warmup(runs)

    def detect(
        self, frames: Sequence[npt.NDArray[np.uint8]], conf: float | None = None
    ) -> list[Detections]:
        return [self._detect_one(f, conf) for f in frames]

    def _detect_one(self, frame: npt.NDArray[np.uint8], conf: float | None) -> Detections:
        h, w = frame.shape[:2]
        windows = tile_windows(w, h, self.grid, self.overlap)
        crops = [frame] + [frame[y0:y1, x0:x1] for x0, y0, x1, y1 in windows]
        whole, *tiles = self.detector.detect(crops, conf=conf)
        parts = [whole]
        for (x0, y0, x1, y1), d in zip(windows, tiles, strict=True):
            xyxy = d.xyxy + np.array([x0, y0, x0, y0], np.float32)
            cut = np.zeros(len(d), bool)
            # only the tile's inner edges are cuts; the frame's own edges are not
            if x0 > 0:
                cut |= xyxy[:, 0] <= x0 + CUT_MARGIN_PX
            if y0 > 0:
                cut |= xyxy[:, 1] <= y0 + CUT_MARGIN_PX
            if x1 < w:
                cut |= xyxy[:, 2] >= x1 - CUT_MARGIN_PX
            if y1 < h:
                cut |= xyxy[:, 3] >= y1 - CUT_MARGIN_PX
            parts.append(Detections(xyxy[~cut], d.confidence[~cut], d.class_id[~cut]))
        merged = Detections.concat(parts)
        t = self.card.thresholds
        keep = nms(merged.xyxy, merged.confidence, merged.class_id, t.iou, t.max_det)
        return merged[keep]


AnyDetector = OnnxDetector | TiledDetector


def with_tiles(detector: OnnxDetector, grid: int) -> AnyDetector:
    """The detector itself for ``grid`` 1, else the detector on the whole frame and tiles."""
    if not 1 <= grid <= MAX_GRID:
        raise ValueError(f"tiles must be between 1 and {MAX_GRID}, got {grid}")
    return detector if grid == 1 else TiledDetector(detector, grid)
