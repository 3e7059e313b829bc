"""Tiled detection for far-field cameras: tiles cover the frame, boxes come back in frame
pixels, boxes cut by a tile edge are dropped, and with the real model a crowd of bare heads
far from the camera is found on tiles where the whole frame misses it."""

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from siteguard.cli import main
from siteguard.edge.camera import CameraConfig
from siteguard.models.registry import default_model_path
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.detector import OnnxDetector
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tiling import TiledDetector, tile_windows, with_tiles

HEAD = default_taxonomy().id_of("head")


@pytest.mark.parametrize("w,h,grid", [(1920, 1080, 2), (640, 352, 3), (101, 77, 4)])
def test_tiles_cover_the_frame_and_overlap_as_asked(w, h, grid):
    windows = tile_windows(w, h, grid, 0.25)
    assert len(windows) == grid * grid
    covered = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in windows:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    (ax0, _, ax1, _), (bx0, _, _, _) = windows[0], windows[1]
    assert (ax1 - bx0) == pytest.approx(0.25 * (ax1 - ax0), abs=1.5)


def test_bad_grids_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="at least 2"):
        tile_windows(100, 100, 1, 0.25)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        tile_windows(100, 100, 2, 1.0)
    with pytest.raises(ValueError, match="between 1 and 4"):
        with_tiles(SimpleNamespace(), 5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CameraConfig(id="c", url="x.mp4", tiles=5)


class SquareFinder:
    """A fake detector that, like a real one, misses what is small at its input size: it
    reports white squares whose side is at least a fifth of the picture it is given."""

    card = SimpleNamespace(thresholds=SimpleNamespace(iou=0.5, max_det=300))
    model = None
    input_size = (64, 64)

    def detect(self, frames, conf=None):
        out = []
        for f in frames:
            mask = (f[:, :, 0] > 200).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            boxes = [
                (x, y, x + bw, y + bh)
                for x, y, bw, bh, _ in stats[1:n]
                if max(bw, bh) >= max(f.shape[:2]) / 5
            ]
            out.append(
                Detections(np.array(boxes, np.float32), [0.9] * len(boxes), [HEAD] * len(boxes))
            )
        return out


def test_small_things_are_found_on_tiles_and_cut_pieces_are_dropped():
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[30:110, 40:120] = 255  # 80 px: under a fifth of the frame, over a fifth of a tile
    frame[120:290, 220:380] = 255  # large, and every 2x2 tile edge cuts through it
    whole = SquareFinder().detect([frame])[0]
    assert whole.xyxy.tolist() == [[220, 120, 380, 290]]
    tiled = TiledDetector(SquareFinder(), grid=2).detect([frame])[0]
    boxes = sorted(tiled.xyxy.tolist())
    # the small square in frame pixels, the large one once: its cut pieces are not reported
    assert boxes == [[40, 30, 120, 110], [220, 120, 380, 290]]


def test_a_square_seen_whole_in_two_overlapping_tiles_is_reported_once():
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[175:225, 270:340] = 255  # in the band that all four tiles share
    assert len(SquareFinder().detect([frame])[0]) == 0
    tiled = TiledDetector(SquareFinder(), grid=2).detect([frame])[0]
    assert tiled.xyxy.tolist() == [[270, 175, 340, 225]]


@pytest.fixture
def far_field(fixtures):
    """A 1080p frame with a crowd of 8 bare-headed workers in the middle distance: the
    labelled test photo hhw-000160 at its own size on a grey yard."""
    crowd = cv2.imread(str(fixtures / "images" / "hhw-000160.jpg"))
    frame = np.full((1080, 1920, 3), 120, np.uint8)
    frame[300 : 300 + crowd.shape[0], 700 : 700 + crowd.shape[1]] = crowd
    return frame, (700, 300, 700 + crowd.shape[1], 300 + crowd.shape[0])


def test_tiles_find_far_field_heads_that_the_whole_frame_misses(far_field):
    frame, (x0, y0, x1, y1) = far_field
    detector = OnnxDetector(default_model_path())
    whole = detector.detect([frame])[0]
    tiled = with_tiles(detector, 2).detect([frame])[0]
    heads_whole = whole[whole.class_id == HEAD]
    heads_tiled = tiled[tiled.class_id == HEAD]
    assert len(heads_tiled) >= 7 and len(heads_tiled) >= len(heads_whole) + 2
    inside = (
        (heads_tiled.xyxy[:, 0] >= x0 - 2)
        & (heads_tiled.xyxy[:, 1] >= y0 - 2)
        & (heads_tiled.xyxy[:, 2] <= x1 + 2)
        & (heads_tiled.xyxy[:, 3] <= y1 + 2)
    )
    assert inside.all()  # in frame pixels, on the crowd, none on the empty yard


def test_detect_and_evaluate_take_tiles(tmp_path, far_field, capsys):
    frame, _ = far_field
    cv2.imwrite(str(tmp_path / "yard.jpg"), frame)
    assert main(["detect", "--json", "--tiles", "2", str(tmp_path / "yard.jpg")]) == 0
    [rec] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (rec["width"], rec["height"]) == (1920, 1080)
    assert sum(d["label"] == "head" for d in rec["detections"]) >= 7
    assert len(rec["violations"]) >= 7
    with pytest.raises(SystemExit):
        main(["detect", "--tiles", "5", str(tmp_path / "yard.jpg")])
    code = main(["evaluate", str(default_model_path()), "--data", str(tmp_path), "--tiles", "2",
                 "--write-card"])  # fmt: skip
    assert code == 2 and "whole-frame" in capsys.readouterr().out
