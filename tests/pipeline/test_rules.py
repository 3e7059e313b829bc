import numpy as np
import pytest

from siteguard.contract.hazards import HazardLevel
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.rules import NoHelmetRule, RuleConfig, evaluate, no_helmet
from siteguard.pipeline.taxonomy import default_taxonomy

TAX = default_taxonomy()


def dets(*rows):
    """rows of (label, score, x1, y1, x2, y2)"""
    if not rows:
        return Detections.empty()
    return Detections(
        xyxy=np.array([r[2:] for r in rows], np.float32),
        confidence=np.array([r[1] for r in rows], np.float32),
        class_id=np.array([TAX.id_of(r[0]) for r in rows]),
    )


def test_a_bare_head_on_a_person_is_a_violation_tied_to_that_person():
    d = dets(
        ("person", 0.9, 100, 100, 160, 300),
        ("head", 0.8, 115, 100, 145, 135),
        ("person", 0.9, 300, 100, 360, 300),
        ("hardhat", 0.9, 315, 95, 345, 130),
    )
    [v] = evaluate(d)
    assert v.type == "no_helmet" and v.level is HazardLevel.GENERAL
    assert v.person_box == (100, 100, 160, 300)
    assert v.box == (115, 100, 145, 135)
    assert "bare head" in v.reason and "GB 2811" in v.reason
    assert v.detection_index == 1


def test_a_head_with_no_person_box_is_still_a_violation():
    [v] = evaluate(dets(("head", 0.7, 10, 10, 30, 30)))
    assert v.person_box is None and "no person box" in v.reason


def test_a_head_in_a_persons_lower_half_is_not_tied_to_that_person():
    [v] = evaluate(dets(("person", 0.9, 0, 0, 100, 400), ("head", 0.7, 30, 300, 60, 330)))
    assert v.person_box is None


def test_helmeted_workers_give_no_violation():
    d = dets(
        ("person", 0.9, 0, 0, 60, 200),
        ("hardhat", 0.9, 15, 0, 45, 30),
        ("vest", 0.8, 5, 60, 55, 120),
    )
    assert evaluate(d) == []


def test_a_stronger_hardhat_on_the_same_head_wins():
    d = dets(("head", 0.5, 10, 10, 40, 40), ("hardhat", 0.8, 11, 9, 41, 41))
    assert evaluate(d) == []
    d = dets(("head", 0.9, 10, 10, 40, 40), ("hardhat", 0.5, 11, 9, 41, 41))
    assert len(evaluate(d)) == 1


def test_min_score_level_and_disable_come_from_config():
    d = dets(("head", 0.4, 10, 10, 40, 40))
    assert no_helmet(d, NoHelmetRule(min_score=0.5)) == []
    [v] = no_helmet(d, NoHelmetRule(level=HazardLevel.MAJOR))
    assert v.level is HazardLevel.MAJOR and v.to_record()["level"] == "major"
    assert evaluate(d, RuleConfig(no_helmet=NoHelmetRule(enabled=False))) == []


def test_config_rejects_unknown_keys_and_bad_ranges():
    with pytest.raises(ValueError):
        RuleConfig.model_validate({"no_helmet": {"min_scor": 0.5}})
    with pytest.raises(ValueError):
        NoHelmetRule(person_ioa=1.5)


def test_many_heads_are_associated_in_one_vectorised_pass():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(50):
        x = i * 100.0
        rows.append(("person", 0.9, x, 0, x + 60, 200))
        if rng.random() < 0.5:
            rows.append(("head", 0.8, x + 15, 0, x + 45, 30))
    d = dets(*rows)
    vs = evaluate(d)
    assert len(vs) == sum(1 for r in rows if r[0] == "head")
    assert all(v.person_box is not None and v.person_box[0] == v.box[0] - 15 for v in vs)
