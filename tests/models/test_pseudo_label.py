"""Uniting two person detectors' pseudo-labels: a box the second detector adds is kept only
when it is nobody the first one found (IoU below `SAME_PERSON` with every first box)."""

from siteguard.models.training.pseudo_label import SAME_PERSON, unite


def test_the_second_detector_adds_only_new_people():
    fall = [[0.10, 0.10, 0.30, 0.60], [0.50, 0.20, 0.70, 0.90]]
    pose = [
        [0.11, 0.12, 0.31, 0.61],  # the first person again, slightly shifted
        [0.80, 0.30, 0.95, 0.95],  # someone the fall model missed
        [0.50, 0.20, 0.70, 0.50],  # the top half of the second person: IoU 0.43, kept
    ]
    united = unite(fall, pose)
    assert united[:2] == fall
    assert united[2:] == [pose[1], pose[2]]
    assert unite(fall, []) == fall and unite([], pose) == pose
    # the threshold decides: at IoU 0.4 the half box counts as the same person
    assert unite(fall, pose, same=0.4) == [*fall, pose[1]]
    assert SAME_PERSON == 0.5
