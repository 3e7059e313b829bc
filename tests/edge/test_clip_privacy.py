"""Clip frames are stored evidence too: the ring keeps each analysed frame (scaled to the
clip's width) with its detections, and the faces are pixelated when a clip is written
from it, at the clip's scale, never on the frame the analysis still holds."""

import numpy as np

from siteguard.edge.camera_runner import CameraRunner
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
