"""The seam every hazard rule plugs into: one analysed frame in, observations out.

A rule is a small object with the hazard type it reports and `observe(frame)`; the edge
worker runs every enabled rule on every analysed frame (`edge.rules.observations`). The
facts of a frame (detections, the detector's violations, zones, which commissioned
protection is gone) are computed once and shared by the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from siteguard.contract.events import EventBox
from siteguard.contract.hazards import HazardLevel, HazardType
from siteguard.contract.zones import Zone
from siteguard.edge.config import ZoneRules
from siteguard.edge.lifecycle import Observation
from siteguard.pipeline.detections import Detections, box_ioa
from siteguard.pipeline.rules import Violation
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.zones import people_in_zone


@dataclass(frozen=True)
class FrameFacts:
    dets: Detections
    violations: list[Violation]
    zones: list[Zone]
    rules: ZoneRules
    size: tuple[int, int]  # width, height
    protection_gone: dict[str, float] = field(default_factory=dict)  # zone id -> score

    @cached_property
    def bare_heads(self) -> list[Violation]:
        return [v for v in self.violations if v.type == HazardType.NO_HELMET]

    @cached_property
    def _head_boxes(self) -> npt.NDArray[np.float32]:
        return np.array([v.box for v in self.bare_heads], np.float32).reshape(-1, 4)

    def people_in(self, zone: Zone) -> list[int]:
        """Rows of the people whose feet are in the zone."""
        w, h = self.size
        return [int(r) for r in np.flatnonzero(people_in_zone(self.dets, zone, w, h))]

    def protected(self, zone: Zone) -> bool:
        """Protected at commissioning and still there in this frame."""
        return zone.protected and zone.id not in self.protection_gone

    def bare_headed(self, row: int) -> bool:
        """Is this person's head one of the frame's bare heads? (share of a bare-head box
        inside the person box, at least `rules.bare_head_ioa`)."""
        heads = self._head_boxes
        if not len(heads):
            return False
        share = box_ioa(heads, self.dets.xyxy[row : row + 1])[:, 0]
        return bool(share.max() >= self.rules.bare_head_ioa)


def person_in_zone(
    frame: FrameFacts,
    zone: Zone,
    row: int,
    hazard_type: HazardType,
    level: HazardLevel,
    reason: str,
) -> Observation:
    """The observation of one person (a detection row) in one zone."""
    return Observation(
        key=f"{hazard_type.value}/{zone.id}/{subject(frame.dets, row)}",
        hazard_type=hazard_type,
        level=level,
        score=float(frame.dets.confidence[row]),
        boxes=(event_box(frame.dets, row),),
        zones=(zone.id,),
        reason=reason,
    )


@runtime_checkable
class Rule(Protocol):
    hazard_type: HazardType

    def observe(self, frame: FrameFacts) -> list[Observation]: ...


def event_box(dets: Detections, row: int) -> EventBox:
    tid = int(dets.tracker_id[row])
    return EventBox(
        label=default_taxonomy().name_of(int(dets.class_id[row])),
        score=round(float(dets.confidence[row]), 4),
        box=tuple(round(float(v), 1) for v in dets.xyxy[row]),
        track_id=tid if tid >= 0 else None,
    )


def subject(dets: Detections, row: int) -> str:
    """What an observation is about: the track, or (untracked) the place in the frame."""
    tid = int(dets.tracker_id[row])
    if tid >= 0:
        return f"track-{tid}"
    x1, y1, x2, y2 = dets.xyxy[row]
    return f"cell-{int((x1 + x2) / 2) // 64}-{int((y1 + y2) / 2) // 64}"
