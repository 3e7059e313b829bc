import numpy as np
import pytest

from siteguard.contract.zones import Zone, ZoneKind
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.tracker import IouTracker, TrackerConfig
from siteguard.pipeline.zones import people_in_zone, points_in_polygon

TAX = default_taxonomy()


def dets(rows):
    return Detections(
        xyxy=np.array([r[2:] for r in rows], np.float32).reshape(-1, 4),
        confidence=np.array([r[1] for r in rows], np.float32),
        class_id=np.array([TAX.id_of(r[0]) for r in rows], np.int64),
    )


def test_points_in_convex_and_concave_polygons():
    square = np.array([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]])
    pts = np.array([[0.3, 0.3], [0.6, 0.3], [0.05, 0.05], [0.49, 0.49]])
    assert points_in_polygon(pts, square).tolist() == [True, False, False, True]
    # U shape: the notch between the arms is outside
    u = np.array([[0, 0], [0.3, 0], [0.3, 0.6], [0.6, 0.6], [0.6, 0], [0.9, 0], [0.9, 1], [0, 1]])
    assert points_in_polygon(np.array([[0.45, 0.3], [0.45, 0.8], [0.1, 0.3]]), u).tolist() == [
        False,
        True,
        True,
    ]


def test_feet_decide_zone_membership_not_the_box_centre():
    zone = Zone(
        id="slab-3f", kind=ZoneKind.EDGE, polygon=[(0.0, 0.8), (1.0, 0.8), (1.0, 1.0), (0.0, 1.0)]
    )
    d = dets(
        [
            ("person", 0.9, 10, 20, 50, 90),  # feet at y=90 of 100: inside the bottom band
            ("person", 0.9, 60, 10, 90, 70),  # feet at y=70: outside
            ("head", 0.9, 10, 85, 20, 95),  # not a person
        ]
    )
    assert people_in_zone(d, zone, 100, 100).tolist() == [True, False, False]


def test_zone_validation():
    with pytest.raises(ValueError, match="no area"):
        Zone(id="z", kind="edge", polygon=[(0, 0), (0.5, 0.5), (1, 1)])
    with pytest.raises(ValueError):
        Zone(id="z", kind="edge", polygon=[(0, 0), (1.5, 0), (1, 1)])
    with pytest.raises(ValueError):
        Zone(id="z", kind="roof", polygon=[(0, 0), (1, 0), (1, 1)])


def test_tracker_keeps_ids_while_people_move_and_separates_classes():
    tr = IouTracker()
    a = tr.update(
        dets(
            [
                ("person", 0.9, 0, 0, 40, 100),
                ("person", 0.9, 200, 0, 240, 100),
                ("head", 0.9, 10, 0, 30, 20),
            ]
        ),
        t=0.0,
    )
    ids = a.tracker_id.tolist()
    assert len(set(ids)) == 3 and min(ids) > 0
    b = tr.update(dets([("person", 0.9, 205, 0, 245, 100), ("person", 0.9, 5, 0, 45, 100)]), t=0.5)
    assert b.tracker_id.tolist() == [ids[1], ids[0]]  # order of detections does not matter


def test_low_score_detections_keep_tracks_alive_but_do_not_start_them():
    tr = IouTracker(TrackerConfig(high_score=0.5))
    first = tr.update(dets([("person", 0.9, 0, 0, 40, 100)]), 0.0).tracker_id[0]
    assert tr.update(dets([("person", 0.3, 2, 0, 42, 100)]), 0.5).tracker_id.tolist() == [first]
    assert tr.update(dets([("person", 0.3, 300, 0, 340, 100)]), 1.0).tracker_id.tolist() == [-1]


def test_tracks_expire_after_max_lost_seconds():
    tr = IouTracker(TrackerConfig(max_lost_s=2.0))
    first = tr.update(dets([("person", 0.9, 0, 0, 40, 100)]), 0.0).tracker_id[0]
    tr.update(Detections.empty(), 1.0)
    assert tr.update(dets([("person", 0.9, 0, 0, 40, 100)]), 1.9).tracker_id[0] == first
    tr.update(Detections.empty(), 3.0)
    assert tr.update(dets([("person", 0.9, 0, 0, 40, 100)]), 4.5).tracker_id[0] != first
    assert tr.active == 1
