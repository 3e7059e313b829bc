"""The rules seam: one module per rule behind the `Rule` protocol; the scaffold rule's
bare-head share is configuration (zone_rules.bare_head_ioa), not a constant in code."""

import numpy as np

from siteguard.contract.hazards import HazardType
from siteguard.contract.zones import Zone, ZoneKind
from siteguard.edge.config import ZoneRules
from siteguard.edge.rules import RULES, observations
from siteguard.edge.rules.base import Rule
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.rules import evaluate
from siteguard.pipeline.taxonomy import default_taxonomy

TAX = default_taxonomy()
SCAFFOLD = Zone(
    id="deck-2", kind=ZoneKind.SCAFFOLD, polygon=[(0, 0), (1, 0), (1, 1), (0, 1)], protected=True
)
EDGE = Zone(id="slab", kind=ZoneKind.EDGE, polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])


def frame(head_box):
    """A person (0..100 x 0..200) and a bare head at `head_box`."""
    boxes = np.array([[0, 0, 100, 200], head_box], np.float32)
    return Detections(
        xyxy=boxes,
        confidence=np.array([0.9, 0.8], np.float32),
        class_id=np.array([TAX.id_of("person"), TAX.id_of("head")], np.int64),
    )


def test_one_rule_per_hazard_type_behind_one_protocol():
    assert sorted(r.hazard_type for r in RULES) == sorted(HazardType)
    assert all(isinstance(r, Rule) for r in RULES)


def test_the_bare_head_share_is_configuration():
    # the head box half inside the person box: 0.5 of it
    dets = frame([80, 10, 120, 50])
    violations = evaluate(dets)
    assert [v.type for v in violations] == ["no_helmet"]

    def scaffold(rules):
        obs = observations(dets, violations, [SCAFFOLD], rules, (400, 400))
        return [o for o in obs if o.hazard_type is HazardType.SCAFFOLD_UNSAFE]

    assert scaffold(ZoneRules()) == []  # 0.5 < the default 0.6: not this person's head
    [o] = scaffold(ZoneRules(bare_head_ioa=0.4))
    assert "without a hard hat" in o.reason and o.zones == ("deck-2",)


def test_each_zone_rule_reports_its_own_level():
    dets = frame([20, 10, 60, 50])
    obs = observations(dets, evaluate(dets), [EDGE], ZoneRules(), (400, 400))
    edge = [o for o in obs if o.hazard_type is HazardType.EDGE_UNPROTECTED]
    assert len(edge) == 1 and edge[0].level.value == "major"
    assert {o.hazard_type for o in obs} == {HazardType.NO_HELMET, HazardType.EDGE_UNPROTECTED}
