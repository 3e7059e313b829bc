"""Clip frames are stored evidence too: the ring keeps each analysed frame (scaled to the
clip's width) with its detections, and the faces are pixelated when a clip is written
from it, at the clip's scale, never on the frame the analysis still holds. A stored
picture is also searched on tiles for heads too small for the whole frame."""

import threading
from types import SimpleNamespace

import numpy as np

from siteguard.contract.events import EventState
from siteguard.edge.camera_runner import CameraRunner
from siteguard.edge.evidence_store import EvidenceConfig
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.taxonomy import default_taxonomy


def test_a_clip_frame_has_the_candidate_persons_head_pixelated_at_the_clip_scale():
    rng = np.random.default_rng(0)
    full = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # the analysed frame
    clip = full[::2, ::2].copy()  # the clip keeps it at half the width
    person = default_taxonomy().id_of("person")
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    low = Detections(np.array([[400, 100, 600, 700]]), np.array([0.05]), np.array([person]))
    before = clip.copy()
    [kept, plain] = CameraRunner._clip_images(
        [(clip, 1280, nobody, low), (clip, 1280, nobody, None)]
    )
    head = (slice(50, 110), slice(210, 290))  # the person's head end, at half scale
    assert not np.array_equal(kept[head], before[head])  # pixelated
    far = (slice(300, 340), slice(20, 60))  # nowhere near the person
    assert np.array_equal(kept[far], before[far])
    assert np.array_equal(plain, before)  # no privacy candidates kept: as it was
    assert np.array_equal(clip, before)  # the ring's frame itself is untouched


class CentreHead:
    """A detector that sees a faint 12 px head in the middle of each crop it is given."""

    def __init__(self):
        self.calls = 0

    def detect(self, frames, conf=None):
        self.calls += 1
        head = default_taxonomy().id_of("head")
        out = []
        for f in frames:
            h, w = f.shape[:2]
            box = np.array([[w / 2 - 6, h / 2 - 6, w / 2 + 6, h / 2 + 6]])
            out.append(Detections(box, np.array([0.05]), np.array([head])))
        return out


class Shelf:
    """The evidence store's snapshot shelf: keeps what it is given."""

    def __init__(self):
        self.saved = []

    def save_snapshot(self, event_id, seq, image):
        self.saved.append(image)
        return f"http://box/evidence/{event_id}/{seq}.jpg"


def runner_for_still(still_tiles, blur=True):
    evidence = EvidenceConfig(dir="/nonexistent", blur_faces=blur)
    evidence.privacy.still_tiles = still_tiles
    worker = SimpleNamespace(
        evidence=Shelf(),
        config=SimpleNamespace(evidence=evidence),
        detector_lock=threading.Lock(),
    )
    return SimpleNamespace(worker=worker, main=None, detector=CentreHead(), _write_clip=print)


def test_a_stored_picture_also_pixelates_heads_only_its_tiles_show():
    """An update's picture (no main stream): the tiles' small heads are pixelated, though
    the whole frame's inference found nobody; without tiles they stay as they were."""
    rng = np.random.default_rng(1)
    frame = SimpleNamespace(image=rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), t=0.0)
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    ev = SimpleNamespace(state=EventState.UPDATE, event_id="e1", seq=1)
    centre = (slice(0, 0), slice(0, 0))
    for tiles in (3, 1):
        runner = runner_for_still(tiles)
        CameraRunner._evidence(runner, ev, frame, nobody, [], nobody)
        [still] = runner.worker.evidence.saved
        # the middle tile of a 3x3 grid (25 % overlap) is centred on the frame's centre
        centre = (slice(360, 372), slice(634, 646))
        changed = not np.array_equal(still[centre], frame.image[centre])
        assert changed is (tiles == 3), tiles
        assert runner.detector.calls == (9 if tiles == 3 else 0)  # a tile at a time
    runner = runner_for_still(3, blur=False)  # privacy off: no candidates, no tiles
    CameraRunner._evidence(runner, ev, frame, nobody, [], None)
    assert runner.detector.calls == 0
    assert np.array_equal(runner.worker.evidence.saved[0][centre], frame.image[centre])
