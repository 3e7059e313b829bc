"""Hazard rules: one analysed frame -> the observations the hazard lifecycle tracks.

One module per rule, each behind the small `base.Rule` protocol:

* `no_helmet`: every bare head, keyed by its track (the detector rule);
* `edge_unprotected`: a person's feet inside an edge zone not protected at commissioning;
* `scaffold_unsafe`: a person on a scaffold zone with a bare head, or on a scaffold
  working level whose protection is missing;
* `protection_missing`: commissioned protection no longer there.

What each rule measures: `no_helmet` is as good as the detector's bare-head class
(docs/models.md); the zone rules are geometry on detected people against zones drawn at
commissioning (nothing labels scaffolds or guardrails); `protection_missing` compares the
frame with the commissioned reference view.
"""

from __future__ import annotations

from siteguard.contract.zones import Zone
from siteguard.edge.config import ZoneRules
from siteguard.edge.lifecycle import Observation
from siteguard.edge.rules.base import FrameFacts, Rule
from siteguard.edge.rules.edge_unprotected import EdgeUnprotected
from siteguard.edge.rules.no_helmet import NoHelmet
from siteguard.edge.rules.protection_missing import ProtectionMissing
from siteguard.edge.rules.scaffold_unsafe import ScaffoldUnsafe
from siteguard.pipeline.detections import Detections
from siteguard.pipeline.rules import Violation

RULES: tuple[Rule, ...] = (ProtectionMissing(), NoHelmet(), EdgeUnprotected(), ScaffoldUnsafe())


def observations(
    dets: Detections,
    violations: list[Violation],
    zones: list[Zone],
    rules: ZoneRules,
    size: tuple[int, int],
    protection_gone: dict[str, float] | None = None,
) -> list[Observation]:
    """Every rule's observations of one frame. ``protection_gone``: zone id -> integrity
    score, for protected zones whose commissioned protection is missing in this frame (they
    count as unprotected)."""
    frame = FrameFacts(dets, violations, zones, rules, size, protection_gone or {})
    return [o for rule in RULES for o in rule.observe(frame)]
