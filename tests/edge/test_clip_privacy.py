"""Clip frames are stored evidence too: the ring keeps each analysed frame (scaled to the
clip's width) with its detections, and the faces are pixelated when a clip is written
from it, at the clip's scale, never on the frame the analysis still holds. A stored
picture is also searched on tiles for heads too small for the whole frame."""

import threading
from types import SimpleNamespace

import numpy as np

from siteguard.contract.events import EventState
from siteguard.contract.zones import Zone
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
    head = (slice(50, 110), slice(210, 290))  # the person's head end, at half scale
    far = (slice(300, 340), slice(20, 60))  # nowhere near the person
    for scene_blocks in (0, 320):
        runner = runner_for_still(1, scene_blocks=scene_blocks)
        [kept, plain] = CameraRunner._clip_images(
            runner, [(clip, 1280, nobody, low), (clip, 1280, nobody, None)]
        )
        assert not np.array_equal(kept[head], before[head])  # pixelated
        # the scene outside the evidence is coarsened (2 px blocks at 640 px) unless off
        assert np.array_equal(kept[far], before[far]) is (scene_blocks == 0)
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
        return self.picture_uri(event_id, seq)

    def picture_uri(self, event_id, seq):
        return f"http://box/evidence/{event_id}/{seq}.jpg"


def runner_for_still(still_tiles, blur=True, scene_blocks=0, zones=()):
    """Just what `CameraRunner._evidence` and `_clip_images` use of a camera runner."""
    evidence = EvidenceConfig(dir="/nonexistent", blur_faces=blur)
    evidence.privacy.still_tiles = still_tiles
    evidence.privacy.scene_blocks = scene_blocks
    worker = SimpleNamespace(
        evidence=Shelf(),
        config=SimpleNamespace(evidence=evidence),
        detector_lock=threading.Lock(),
    )
    runner = SimpleNamespace(
        worker=worker,
        main=None,
        detector=CentreHead(),
        _write_clip=print,
        cfg=SimpleNamespace(zones=list(zones)),
    )
    runner._evidence_kept = lambda image, zones=(): CameraRunner._evidence_kept(
        runner, image, zones
    )
    return runner


def test_a_stored_picture_also_pixelates_heads_only_its_tiles_show():
    """An update's picture (no main stream): the tiles' small heads are pixelated, though
    the whole frame's inference found nobody; without tiles they stay as they were."""
    rng = np.random.default_rng(1)
    frame = SimpleNamespace(image=rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8), t=0.0)
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    ev = SimpleNamespace(state=EventState.UPDATE, event_id="e1", seq=1, zones=[])
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


def test_a_stored_picture_is_coarse_outside_the_evidence_and_sharp_in_the_hazards_zone():
    """With `PrivacyConfig.scene_blocks`, what is neither a reported box nor the zone the
    hazard is about is pixelated (a face the model never saw); the reported worker (around
    the face region, which is pixelated anyway) and the zone's polygon (not its bounding
    rectangle) stay as they were. A zone the event does not name is coarsened too."""
    rng = np.random.default_rng(2)
    image = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    frame = SimpleNamespace(image=image, t=0.0)
    person = default_taxonomy().id_of("person")
    worker = Detections(np.array([[100, 100, 300, 700]]), np.array([0.9]), np.array([person]))
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    edge = Zone(  # a slab edge drawn as a triangle: its bounding box is twice its area
        id="edge-1", kind="edge", polygon=[(0.5, 0.5), (0.9, 0.5), (0.9, 0.9)], protected=True
    )
    other = Zone(
        id="net-2", kind="edge", polygon=[(0.1, 0.8), (0.3, 0.8), (0.3, 0.95)], protected=True
    )
    legs = (slice(420, 680), slice(120, 280))  # inside the reported person, below its head
    in_zone = (slice(560, 600), slice(1600, 1700))  # inside the triangle
    corner = (slice(900, 940), slice(980, 1020))  # in its bounding box, not in the triangle
    stranger = (slice(100, 140), slice(1300, 1340))  # no box, no zone
    in_other = (slice(950, 990), slice(500, 540))  # in the zone the event does not name
    for zones, sharp_zone in (([], False), (["edge-1"], True)):
        ev = SimpleNamespace(state=EventState.UPDATE, event_id="e2", seq=1, zones=zones)
        runner = runner_for_still(1, scene_blocks=320, zones=[edge, other])
        CameraRunner._evidence(runner, ev, frame, worker, [], nobody)
        [still] = runner.worker.evidence.saved
        assert np.array_equal(still[legs], image[legs])
        assert np.array_equal(still[in_zone], image[in_zone]) is sharp_zone, zones
        for coarse in (corner, stranger, in_other):
            assert not np.array_equal(still[coarse], image[coarse]), (zones, coarse)
        block = still[stranger]  # 6 px blocks at 1920 px: a 40 px face is a few blocks
        assert len(np.unique(block.reshape(-1, 3), axis=0)) <= (40 // 6 + 2) ** 2


class MainStreamJobs:
    """A substream camera's main stream: takes the picture jobs, runs none of them."""

    def __init__(self):
        self.jobs = []

    def submit(self, job):
        self.jobs.append(job)
        return True


def test_a_substream_cameras_tiles_are_searched_on_the_evidence_thread_once():
    """With a main stream the picture is made on its evidence thread: the analysis
    returns without the nine tile inferences, which run when the job renders, once,
    whether it renders the main stream's frame or falls back to the analysed one."""
    rng = np.random.default_rng(5)
    frame = SimpleNamespace(image=rng.integers(0, 255, (360, 640, 3), dtype=np.uint8), t=0.0)
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    ev = SimpleNamespace(state=EventState.UPDATE, event_id="e3", seq=2, zones=[])
    runner = runner_for_still(3)
    runner.main, runner._main_picture_t = MainStreamJobs(), -1e9
    uri = CameraRunner._evidence(runner, ev, frame, nobody, [], nobody)
    assert uri == "http://box/evidence/e3/2.jpg"
    assert runner.detector.calls == 0  # nothing on the analysis thread
    [job] = runner.main.jobs
    main_frame = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    picture = job.render(main_frame, 3.0, 3.0)
    assert runner.detector.calls == 9
    centre = (slice(1080 // 2 - 15, 1080 // 2 + 15), slice(1920 // 2 - 15, 1920 // 2 + 15))
    assert not np.array_equal(picture[centre], main_frame[centre])  # the tiles' head, scaled
    job.fallback()
    assert runner.detector.calls == 9  # searched once
