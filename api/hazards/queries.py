"""Hazards the caller may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.access.keys import Principal, check_site, scope_filter
from siteguard.api.errors import NotFound
from siteguard.api.statuses import OPEN_STATUSES
from siteguard.api.store.tables import HazardRow, ProjectRow


def visible_hazards(
    s: Session,
    who: Principal,
    site_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[HazardRow]:
    """Newest first, within the caller's scope."""
    q = select(HazardRow).order_by(HazardRow.last_seen.desc()).limit(limit)
    if who.role in ("contractor", "edge"):  # their sites, registered as projects or not
        q = q.where(HazardRow.site_id.in_(sorted(who.site_ids) or [""]))
    elif (cond := scope_filter(who)) is not None:  # by the project's jurisdiction / insurer
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id).where(cond)
    if site_id:
        q = q.where(HazardRow.site_id == site_id)
    if status:
        q = q.where(HazardRow.status == status)
    return list(s.scalars(q))


def load_hazard(s: Session, who: Principal, hazard_id: int) -> HazardRow:
    """The hazard with its events, if the caller may see it (else NotFound: names do not
    leak)."""
    h = s.scalar(
        select(HazardRow).where(HazardRow.id == hazard_id).options(selectinload(HazardRow.events))
    )
    if h is None:
        raise NotFound(f"no hazard {hazard_id}")
    try:
        check_site(s, who, h.site_id)
    except NotFound:
        raise NotFound(f"no hazard {hazard_id}") from None
    return h


def latest_frames(s: Session, site_id: str) -> dict[str, str]:
    """camera -> the newest evidence picture (an annotated frame) the edge has sent, served
    through the API (which keeps a copy)."""
    rows = s.execute(
        select(HazardRow.camera_id, HazardRow.id)
        .where(HazardRow.site_id == site_id, HazardRow.evidence_uri.is_not(None))
        .order_by(HazardRow.evidence_time)
    ).all()
    return {cam: f"/api/v1/hazards/{hid}/evidence.jpg" for cam, hid in rows}


def latest_frame(s: Session, site_id: str, camera_id: str) -> tuple[str, datetime] | None:
    """The camera's newest evidence picture (URL through the API) and its frame time."""
    row = s.execute(
        select(HazardRow.id, HazardRow.evidence_time)
        .where(
            HazardRow.site_id == site_id,
            HazardRow.camera_id == camera_id,
            HazardRow.evidence_uri.is_not(None),
            HazardRow.evidence_time.is_not(None),
        )
        .order_by(HazardRow.evidence_time.desc())
        .limit(1)
    ).first()
    if row is None or row[1] is None:
        return None
    return f"/api/v1/hazards/{row[0]}/evidence.jpg", row[1]


def open_hazards(s: Session, site_id: str, limit: int = 100) -> list[HazardRow]:
    """A site's hazards not yet closed or dismissed, newest first."""
    return list(
        s.scalars(
            select(HazardRow)
            .where(HazardRow.site_id == site_id, HazardRow.status.in_(OPEN_STATUSES))
            .order_by(HazardRow.first_seen.desc())
            .limit(limit)
        )
    )
