"""protection_missing (防护设施缺失): protection commissioned in a zone (guardrail, net,
cover) is no longer there: the frame differs from the commissioned reference view, or the
detector no longer sees it (`pipeline.protection`)."""

from __future__ import annotations

from siteguard.contract.hazards import HazardType
from siteguard.edge.lifecycle import Observation
from siteguard.edge.rules.base import FrameFacts


class ProtectionMissing:
    hazard_type = HazardType.PROTECTION_MISSING

    def observe(self, frame: FrameFacts) -> list[Observation]:
        return [
            Observation(
                key=f"protection_missing/{zone_id}",
                hazard_type=self.hazard_type,
                level=frame.rules.protection_missing_level,
                score=round(1.0 - score, 4),
                zones=(zone_id,),
                reason=f"protection commissioned in zone {zone_id} is missing (structure score "
                f"{score:.2f} vs the reference view; 防护设施缺失, JGJ 80-2016 / JGJ 59-2011)",
            )
            for zone_id, score in frame.protection_gone.items()
        ]
