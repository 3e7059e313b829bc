"""scaffold_unsafe (脚手架不规范): a person on a scaffold zone with a bare head, or on a
working level whose protection (guardrail, net) is missing."""

from __future__ import annotations

from siteguard.contract.hazards import HazardType
from siteguard.contract.zones import ZoneKind
from siteguard.edge.lifecycle import Observation
from siteguard.edge.rules.base import FrameFacts, person_in_zone


class ScaffoldUnsafe:
    hazard_type = HazardType.SCAFFOLD_UNSAFE

    def observe(self, frame: FrameFacts) -> list[Observation]:
        out = []
        for zone in frame.zones:
            if zone.kind is not ZoneKind.SCAFFOLD:
                continue
            for row in frame.people_in(zone):
                bare = frame.bare_headed(row)
                if not bare and frame.protected(zone):
                    continue
                why = "without a hard hat" if bare else "on a level without guardrail/net"
                out.append(
                    person_in_zone(
                        frame,
                        zone,
                        row,
                        self.hazard_type,
                        frame.rules.scaffold_unsafe_level,
                        f"worker on scaffold zone {zone.id} {why} (脚手架不规范, JGJ 130-2011)",
                    )
                )
        return out
