"""A hazard as every payload shows it (API, push, alerts), and its response models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import HazardRow

if TYPE_CHECKING:
    from siteguard.api.hazards.confirm import Confirmation


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
    confirmed: bool = Field(description="确认隐患: an inspector confirmed it, or issued it")
    confirmed_by: str | None = Field(description="Who confirmed it (the issuer: on_issue)")
    confirmed_at: str | None = Field(description="When it was confirmed (ISO 8601 UTC)")
    confirmed_on_issue: bool = Field(description="Confirmed by issuing its notice")
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


def hazard_detail(h: HazardRow, confirmed: Confirmation | None = None) -> dict[str, Any]:
    """The summary with the resolution, its confirmation (`confirm.confirmation`) and every
    event message (events loaded)."""
    return dict(
        hazard_summary(h),
        resolution=h.resolution,
        confirmed=confirmed is not None,
        confirmed_by=confirmed.by if confirmed else None,
        confirmed_at=iso(confirmed.at) if confirmed else None,
        confirmed_on_issue=bool(confirmed and confirmed.on_issue),
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
