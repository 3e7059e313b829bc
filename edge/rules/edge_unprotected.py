"""edge_unprotected (临边、洞口防护缺失): a person's feet inside an edge zone that was not
protected at commissioning, or whose commissioned protection is gone in this frame."""

from __future__ import annotations

from siteguard.contract.hazards import HazardType
from siteguard.contract.zones import ZoneKind
from siteguard.edge.lifecycle import Observation
from siteguard.edge.rules.base import FrameFacts, person_in_zone


class EdgeUnprotected:
    hazard_type = HazardType.EDGE_UNPROTECTED

    def observe(self, frame: FrameFacts) -> list[Observation]:
        out = []
        for zone in frame.zones:
            if zone.kind is not ZoneKind.EDGE or frame.protected(zone):
                continue
            for row in frame.people_in(zone):
                out.append(
                    person_in_zone(
                        frame,
                        zone,
                        row,
                        self.hazard_type,
                        frame.rules.edge_unprotected_level,
                        f"worker at edge/opening zone {zone.id} with no protection "
                        "(临边、洞口防护缺失, JGJ 80-2016)",
                    )
                )
        return out
