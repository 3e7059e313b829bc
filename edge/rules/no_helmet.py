"""no_helmet (未佩戴安全帽): every bare head the detector rule found, keyed by its track."""

from __future__ import annotations

from siteguard.contract.hazards import HazardType
from siteguard.edge.lifecycle import Observation
from siteguard.edge.rules.base import FrameFacts, event_box, subject


class NoHelmet:
    hazard_type = HazardType.NO_HELMET

    def observe(self, frame: FrameFacts) -> list[Observation]:
        return [
            Observation(
                key=f"no_helmet/{subject(frame.dets, v.detection_index)}",
                hazard_type=self.hazard_type,
                level=v.level,
                score=v.score,
                reason=v.reason,
                boxes=(event_box(frame.dets, v.detection_index),),
            )
            for v in frame.bare_heads
        ]
