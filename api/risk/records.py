"""What a period's risk signals are read from: many projects' hazards, notices in play,
their items, closings and rejections, and camera hours, in a fixed number of queries of
plain columns (no ORM objects: a portfolio of hundreds holds tens of thousands of rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.intake.camera_health import camera_hours_by_site, scheduled_hours_by_site
from siteguard.api.store.tables import (
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)


class Period(Protocol):
    """A half-open [start, end) in naive UTC (signals.Period)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


REPEAT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ItemRecord:
    """One notice line as the signals read it."""

    level: str
    deadline: datetime
    dismissed: bool  # its hazard was dismissed as a false alarm (at any time)


@dataclass
class NoticeRecord:
    id: int
    issued_at: datetime
    items: list[ItemRecord] = field(default_factory=list)


@dataclass
class PeriodRecords:
    """What one project's signals for a period are computed from."""

    hazards: list[Any] = field(default_factory=list)  # first seen from start - 30 days
    notices: list[NoticeRecord] = field(default_factory=list)  # in play (see load_records)
    closed: dict[int, datetime] = field(default_factory=dict)  # notice id -> closed at
    rejected: int = 0  # rectifications rejected within the period
    camera_hours: float = 0.0
    scheduled_camera_hours: float = 0.0


def closed_at(s: Session, notice_ids: list[int]) -> dict[int, datetime]:
    """When each notice was closed (its last transition to closed)."""
    if not notice_ids:
        return {}
    rows = s.execute(
        select(NoticeHistoryRow.notice_id, func.max(NoticeHistoryRow.at))
        .where(NoticeHistoryRow.notice_id.in_(notice_ids), NoticeHistoryRow.to_status == "closed")
        .group_by(NoticeHistoryRow.notice_id)
    ).all()
    return {nid: at for nid, at in rows}


def load_records(
    s: Session, projects: list[ProjectRow], period: Period
) -> dict[int, PeriodRecords]:
    """project id -> its records for a period, for many projects in a fixed number of
    queries (a portfolio of hundreds costs what one project costs, times the rows).

    Notices in play are those issued before the period's end and not closed before its
    start: closed is final, so an earlier closed notice can neither be overdue nor rejected
    in the period, and the cost stays flat as a project's history grows."""
    start, end = period.start, period.end
    out = {p.id: PeriodRecords() for p in projects}
    if not projects:
        return out
    by_site = {p.site_id: out[p.id] for p in projects}
    sites = list(by_site)
    for h in s.execute(
        select(
            HazardRow.site_id,
            HazardRow.camera_id,
            HazardRow.zone,
            HazardRow.hazard_type,
            HazardRow.level,
            HazardRow.status,
            HazardRow.first_seen,
        )
        .where(
            HazardRow.site_id.in_(sites),
            HazardRow.first_seen >= start - REPEAT_WINDOW,
            HazardRow.first_seen < end,
        )
        .order_by(HazardRow.first_seen)
    ):
        by_site[h.site_id].hazards.append(h)
    closed_before = select(NoticeHistoryRow.notice_id).where(
        NoticeHistoryRow.to_status == "closed", NoticeHistoryRow.at < start
    )
    in_play = select(NoticeRow.id).where(
        NoticeRow.project_id.in_(list(out)),
        NoticeRow.issued_at < end,
        NoticeRow.id.not_in(closed_before),
    )
    notices: dict[int, NoticeRecord] = {}
    project_of: dict[int, int] = {}
    for nid, pid, issued in s.execute(
        select(NoticeRow.id, NoticeRow.project_id, NoticeRow.issued_at)
        .where(NoticeRow.id.in_(in_play))
        .order_by(NoticeRow.id)
    ):
        notices[nid] = NoticeRecord(nid, issued)
        project_of[nid] = pid
        out[pid].notices.append(notices[nid])
    for nid, level, deadline, status in s.execute(
        select(
            NoticeItemRow.notice_id, NoticeItemRow.level, NoticeItemRow.deadline, HazardRow.status
        )
        .join(HazardRow, HazardRow.id == NoticeItemRow.hazard_id)
        .where(NoticeItemRow.notice_id.in_(in_play))
        .order_by(NoticeItemRow.id)
    ):
        notices[nid].items.append(ItemRecord(level, deadline, status == "dismissed"))
    for nid, at in s.execute(
        select(NoticeHistoryRow.notice_id, func.max(NoticeHistoryRow.at))
        .where(NoticeHistoryRow.notice_id.in_(in_play), NoticeHistoryRow.to_status == "closed")
        .group_by(NoticeHistoryRow.notice_id)
    ):
        out[project_of[nid]].closed[nid] = at
    for nid, n_rejects in s.execute(
        select(NoticeHistoryRow.notice_id, func.count())
        .where(
            NoticeHistoryRow.notice_id.in_(in_play),
            NoticeHistoryRow.action == "reject",
            NoticeHistoryRow.at >= start,
            NoticeHistoryRow.at < end,
        )
        .group_by(NoticeHistoryRow.notice_id)
    ):
        out[project_of[nid]].rejected += n_rejects
    watched = camera_hours_by_site(s, sites, start, end)
    scheduled = scheduled_hours_by_site(s, sites, start, end)
    for site, rec in by_site.items():
        rec.camera_hours, rec.scheduled_camera_hours = watched[site], scheduled[site]
    return out
