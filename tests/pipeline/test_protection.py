import cv2
import numpy as np
import pytest

from siteguard.pipeline.protection import ProtectionCheckConfig, ProtectionReference

ZONE = [(0.0, 0.5), (1.0, 0.5), (1.0, 0.9), (0.0, 0.9)]  # a band across the lower view


def site(rails: bool, brightness: int = 0, shift: int = 0, seed: int = 0):
    """A slab edge with a guardrail: top rail, mid rail, posts, toe board."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(110, 6, (240, 320, 3)), 0, 255).astype(np.uint8)  # concrete-ish
    cv2.rectangle(img, (0, 200), (320, 240), (70, 70, 70), -1)  # the slab below
    if rails:
        for y in (130, 160):
            cv2.line(img, (0, y + shift), (320, y + shift), (30, 200, 240), 3)  # yellow rails
        for x in range(10, 320, 60):
            cv2.line(img, (x + shift, 125), (x + shift, 205), (30, 200, 240), 3)  # posts
        cv2.rectangle(img, (0, 195 + shift), (320, 205 + shift), (20, 120, 200), -1)  # toe board
    return np.clip(img.astype(np.int16) + brightness, 0, 255).astype(np.uint8)


@pytest.fixture
def ref():
    return ProtectionReference(site(rails=True), ZONE)


def test_intact_protection_scores_high_removed_scores_low(ref):
    assert ref.score(site(rails=True, seed=1)) > 0.8
    assert ref.score(site(rails=False, seed=1)) < 0.3
    assert ref.missing(site(rails=False)) is True and ref.missing(site(rails=True)) is False


def test_lighting_change_and_small_camera_shake_are_tolerated(ref):
    assert ref.score(site(rails=True, brightness=60, seed=2)) > 0.7
    assert ref.score(site(rails=True, brightness=-50, seed=3)) > 0.7
    assert ref.score(site(rails=True, shift=2, seed=4)) > 0.7


def test_people_in_front_of_the_rail_are_masked_not_counted_as_missing(ref):
    live = site(rails=True, seed=5)
    people = np.array([[40, 100, 110, 230], [180, 100, 250, 230]], np.float32)
    for x1, y1, x2, y2 in people.astype(int):
        cv2.rectangle(live, (x1, y1), (x2, y2), (90, 40, 20), -1)  # bodies hide the rails
    assert ref.score(live, people) > 0.8
    assert ref.score(live) < ref.score(live, people)  # without masking they would look like gaps


def test_a_mostly_hidden_zone_gives_no_verdict(ref):
    crowd = np.array([[0, 100, 260, 240]], np.float32)
    assert ref.score(site(rails=False), crowd) is None
    assert ref.missing(site(rails=False), crowd) is None


def test_a_reference_without_structure_is_refused():
    flat = np.full((240, 320, 3), 120, np.uint8)
    with pytest.raises(ValueError, match="re-commission"):
        ProtectionReference(flat, ZONE, ProtectionCheckConfig())


def test_live_frames_of_another_size_are_compared_at_the_reference_size(ref):
    big = cv2.resize(site(rails=True, seed=6), (640, 480))
    assert ref.score(big) > 0.7


def test_occluders_are_scaled_from_the_live_frame_to_the_reference(ref):
    live = cv2.resize(site(rails=True, seed=7), (640, 480))  # twice the reference size
    people = np.array([[80, 200, 220, 460], [360, 200, 500, 460]], np.float32)  # live pixels
    for x1, y1, x2, y2 in people.astype(int):
        cv2.rectangle(live, (x1, y1), (x2, y2), (90, 40, 20), -1)
    assert ref.score(live, people) > 0.8
    near = ref.live_structure(live)  # computed once, shared by the zones of a frame
    assert ref.score(live, people, near) == ref.score(live, people)
