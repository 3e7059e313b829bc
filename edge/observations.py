"""One analysed frame -> the observations the hazard lifecycle tracks.

* ``no_helmet``: every bare head, keyed by its track (the detector rule);
* ``edge_unprotected``: a person's feet inside an edge zone not protected at commissioning;
* ``scaffold_unsafe``: a person on a scaffold zone with a bare head, or on a scaffold
  working level whose protection is missing.
"""

from __future__ import annotations

import numpy as np

from siteguard.edge.config import ZoneRules
from siteguard.edge.lifecycle import Observation
from siteguard.pipeline.detections import Detections, box_ioa
from siteguard.pipeline.events import EventBox, HazardType
from siteguard.pipeline.rules import Violation
from siteguard.pipeline.taxonomy import default_taxonomy
from siteguard.pipeline.zones import Zone, ZoneKind, people_in_zone


def _box(dets: Detections, row: int) -> EventBox:
    tid = int(dets.tracker_id[row])
    return EventBox(
        label=default_taxonomy().name_of(int(dets.class_id[row])),
        score=round(float(dets.confidence[row]), 4),
        box=tuple(round(float(v), 1) for v in dets.xyxy[row]),
        track_id=tid if tid >= 0 else None,
    )


def _subject(dets: Detections, row: int) -> str:
    tid = int(dets.tracker_id[row])
    if tid >= 0:
        return f"track-{tid}"
    x1, y1, x2, y2 = dets.xyxy[row]
    return f"cell-{int((x1 + x2) / 2) // 64}-{int((y1 + y2) / 2) // 64}"  # untracked: by place


def observations(
    dets: Detections,
    violations: list[Violation],
    zones: list[Zone],
    rules: ZoneRules,
    size: tuple[int, int],
    protection_gone: dict[str, float] | None = None,
) -> list[Observation]:
    """``protection_gone``: zone id -> integrity score, for protected zones whose
    commissioned protection is missing in this frame (they count as unprotected)."""
    w, h = size
    gone = protection_gone or {}
    out: list[Observation] = []
    for zone_id, score in gone.items():
        out.append(
            Observation(
                key=f"protection_missing/{zone_id}",
                hazard_type=HazardType.PROTECTION_MISSING,
                level=rules.protection_missing_level,
                score=round(1.0 - score, 4),
                zones=(zone_id,),
                reason=f"protection commissioned in zone {zone_id} is missing (structure score "
                f"{score:.2f} vs the reference view; 防护设施缺失, JGJ 80-2016 / JGJ 59-2011)",
            )
        )
    heads = [v for v in violations if v.type == "no_helmet"]
    for v in heads:
        out.append(
            Observation(
                key=f"no_helmet/{_subject(dets, v.detection_index)}",
                hazard_type=HazardType.NO_HELMET,
                level=v.level,
                score=v.score,
                reason=v.reason,
                boxes=(_box(dets, v.detection_index),),
            )
        )
    head_boxes = np.array([v.box for v in heads], np.float32).reshape(-1, 4)
    for zone in zones:
        for row in (int(r) for r in np.flatnonzero(people_in_zone(dets, zone, w, h))):
            person = dets.xyxy[row : row + 1]
            bare = len(head_boxes) and box_ioa(head_boxes, person)[:, 0].max() >= 0.6
            protected = zone.protected and zone.id not in gone
            if zone.kind is ZoneKind.EDGE and not protected:
                out.append(
                    Observation(
                        key=f"edge_unprotected/{zone.id}/{_subject(dets, row)}",
                        hazard_type=HazardType.EDGE_UNPROTECTED,
                        level=rules.edge_unprotected_level,
                        score=float(dets.confidence[row]),
                        boxes=(_box(dets, row),),
                        zones=(zone.id,),
                        reason=f"worker at edge/opening zone {zone.id} with no protection "
                        "(临边、洞口防护缺失, JGJ 80-2016)",
                    )
                )
            elif zone.kind is ZoneKind.SCAFFOLD and (bare or not protected):
                why = "without a hard hat" if bare else "on a level without guardrail/net"
                out.append(
                    Observation(
                        key=f"scaffold_unsafe/{zone.id}/{_subject(dets, row)}",
                        hazard_type=HazardType.SCAFFOLD_UNSAFE,
                        level=rules.scaffold_unsafe_level,
                        score=float(dets.confidence[row]),
                        boxes=(_box(dets, row),),
                        zones=(zone.id,),
                        reason=f"worker on scaffold zone {zone.id} {why} "
                        "(脚手架不规范, JGJ 130-2011)",
                    )
                )
    return out
