"""A hazard as every payload shows it (API, push, alerts), and its response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import HazardRow


class HazardOut(BaseModel):
    id: int
    site_id: str
    camera_id: str
    hazard_type: str
    zone: str | None
    level: str
    status: HazardStatus
    first_seen: str
    last_seen: str
    reason: str
    evidence_uri: str | None
    event_count: int


class EventMessageOut(BaseModel):
    event_id: str
    seq: int
    state: str
    level: str
    frame_time: str
    source: str


class HazardDetailOut(HazardOut):
    resolution: str | None
    events: list[EventMessageOut]


def hazard_summary(h: HazardRow) -> dict[str, Any]:
    return {
        "id": h.id,
        "site_id": h.site_id,
        "camera_id": h.camera_id,
        "hazard_type": h.hazard_type,
        "zone": h.zone or None,
        "level": h.level,
        "status": h.status,
        "first_seen": iso(h.first_seen),
        "last_seen": iso(h.last_seen),
        "reason": h.reason,
        "evidence_uri": h.evidence_uri,
        "event_count": h.event_count,
    }


def hazard_detail(h: HazardRow) -> dict[str, Any]:
    """The summary with the resolution and every event message (events loaded)."""
    return dict(
        hazard_summary(h),
        resolution=h.resolution,
        events=[
            {
                "event_id": e.event_id,
                "seq": e.seq,
                "state": e.state,
                "level": e.level,
                "frame_time": iso(e.frame_time),
                "source": e.source,
            }
            for e in h.events
        ],
    )
