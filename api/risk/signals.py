"""One project's risk signals over a period, read from the database, and its assessment.

Periods are half-open [start, end) in naive UTC. "Now" for a past period is its end: a
hazard is unrectified if it was still open when the period ended, whatever happened later,
so a month's figures do not change when the month is over.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.intake.camera_health import camera_hours_by_site, scheduled_hours_by_site
from siteguard.api.risk.model import ProjectSignals, RiskAssessment, RiskSettings, assess
from siteguard.api.store.clock import CHINA, china_time, iso
from siteguard.api.store.tables import (
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)

REPEAT_WINDOW = timedelta(days=30)


def _utc(local: datetime) -> datetime:
    """A naive China-time wall clock -> naive UTC (how times are stored)."""
    return local.replace(tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str

    @classmethod
    def month(cls, month: str) -> Period:
        """'2026-10' -> the calendar month in China time (UTC+8), as naive UTC bounds: a
        hazard found at 07:00 on 1 November in Hefei belongs to November."""
        try:
            first = datetime.strptime(month, "%Y-%m")
        except ValueError as exc:
            raise ValueError(f"month must be YYYY-MM, not {month!r}") from exc
        nxt = datetime(first.year + first.month // 12, first.month % 12 + 1, 1)
        return cls(_utc(first), _utc(nxt), month)

    @classmethod
    def rolling(cls, end: datetime, days: int = 30) -> Period:
        """The `days` before `end` (naive UTC), labelled with China dates like the months."""
        start = end - timedelta(days=days)
        return cls(start, end, f"{china_time(start):%Y-%m-%d}..{china_time(end):%Y-%m-%d}")

    def previous(self) -> Period:
        if len(self.label) == 7:  # a calendar month: the day before its first is in the last
            return Period.month(
                f"{datetime.strptime(self.label, '%Y-%m') - timedelta(days=1):%Y-%m}"
            )
        return Period(self.start - (self.end - self.start), self.start, "previous")


@dataclass(frozen=True)
class SignalDetail:
    """The model's inputs plus the figures people ask about that the score does not use."""

    signals: ProjectSignals
    median_days_to_close: float | None
    overdue_items: int
    dismissed: int
    hazards_by_type: dict[str, int]
    items_issued: int = 0  # lines of the period's notices (dismissed hazards left out)
    items_closed: int = 0  # ... rectified by the period's end
    items_on_time: int = 0  # ... rectified by their own deadline


def closed_at(s: Session, notice_ids: list[int]) -> dict[int, datetime]:
    """When each notice was closed (its last transition to closed)."""
    if not notice_ids:
        return {}
    rows = s.execute(
        select(NoticeHistoryRow.notice_id, NoticeHistoryRow.at).where(
            NoticeHistoryRow.notice_id.in_(notice_ids), NoticeHistoryRow.to_status == "closed"
        )
    ).all()
    out: dict[int, datetime] = {}
    for nid, at in rows:
        out[nid] = max(at, out.get(nid, at))
    return out


@dataclass
class PeriodRecords:
    """What one project's signals for a period are computed from."""

    hazards: list[Any] = field(default_factory=list)  # first seen from start - 30 days
    notices: list[NoticeRow] = field(default_factory=list)  # in play (see load_records)
    closed: dict[int, datetime] = field(default_factory=dict)  # notice id -> closed at
    rejected: int = 0  # rectifications rejected within the period
    camera_hours: float = 0.0
    scheduled_camera_hours: float = 0.0


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
    # plain rows of the columns the signals read: no ORM objects for thousands of hazards
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
    notices = list(
        s.scalars(
            select(NoticeRow)
            .where(
                NoticeRow.project_id.in_(list(out)),
                NoticeRow.issued_at < end,
                NoticeRow.id.not_in(closed_before),
            )
            .options(selectinload(NoticeRow.items).selectinload(NoticeItemRow.hazard))
        )
    )
    closed = closed_at(s, [n.id for n in notices])
    project_of = {n.id: n.project_id for n in notices}
    for n in notices:
        rec = out[n.project_id]
        rec.notices.append(n)
        if n.id in closed:
            rec.closed[n.id] = closed[n.id]
    rejects = s.execute(
        select(NoticeHistoryRow.notice_id, func.count())
        .where(
            NoticeHistoryRow.notice_id.in_(list(project_of) or [0]),
            NoticeHistoryRow.action == "reject",
            NoticeHistoryRow.at >= start,
            NoticeHistoryRow.at < end,
        )
        .group_by(NoticeHistoryRow.notice_id)
    )
    for nid, n_rejects in rejects:
        out[project_of[nid]].rejected += n_rejects
    watched = camera_hours_by_site(s, sites, start, end)
    scheduled = scheduled_hours_by_site(s, sites, start, end)
    for site, rec in by_site.items():
        rec.camera_hours, rec.scheduled_camera_hours = watched[site], scheduled[site]
    return out


def signals_of(rec: PeriodRecords, period: Period) -> SignalDetail:
    start, end = period.start, period.end
    hazards = rec.hazards
    real = [h for h in hazards if h.status != "dismissed"]
    in_period = [h for h in real if h.first_seen >= start]
    seen: dict[tuple[str, str, str], datetime] = {}
    repeats = 0
    for h in real:
        place = (h.camera_id, h.zone, h.hazard_type)
        before = seen.get(place)
        if h.first_seen >= start and before is not None and h.first_seen - before <= REPEAT_WINDOW:
            repeats += 1
        seen[place] = h.first_seen
    by_type: dict[str, int] = {}
    for h in in_period:
        by_type[h.hazard_type] = by_type.get(h.hazard_type, 0) + 1

    notices, closed = rec.notices, rec.closed
    issued = [n for n in notices if n.issued_at >= start]
    on_time = 0
    days: list[float] = []
    items = items_closed = items_on_time = 0
    for n in issued:
        deadline = min((i.deadline for i in n.items), default=n.issued_at)
        c = closed.get(n.id)
        done = c is not None and c < end
        if c is not None and done:
            days.append((c - n.issued_at).total_seconds() / 86400)
            on_time += c <= deadline
        for i in n.items:
            if i.hazard.status != "dismissed":
                items += 1
                items_closed += done
                items_on_time += c is not None and done and c <= i.deadline
    unrectified_major = overdue = 0
    for n in notices:
        c = closed.get(n.id)
        still_open = c is None or c >= end
        for i in n.items:
            if i.hazard.status == "dismissed" or not still_open or i.deadline >= end:
                continue
            overdue += 1
            unrectified_major += i.level == "major"
    signals = ProjectSignals(
        camera_hours=rec.camera_hours,
        scheduled_camera_hours=rec.scheduled_camera_hours,
        general_hazards=sum(h.level != "major" for h in in_period),
        major_hazards=sum(h.level == "major" for h in in_period),
        repeat_hazards=repeats,
        notices=len(issued),
        closed_on_time=on_time,
        unrectified_major=unrectified_major,
        rejected_rectifications=rec.rejected,
    )
    return SignalDetail(
        signals=signals,
        median_days_to_close=round(statistics.median(days), 2) if days else None,
        overdue_items=overdue,
        dismissed=sum(h.status == "dismissed" and h.first_seen >= start for h in hazards),
        hazards_by_type=by_type,
        items_issued=items,
        items_closed=items_closed,
        items_on_time=items_on_time,
    )


def project_signals(s: Session, p: ProjectRow, period: Period) -> SignalDetail:
    return signals_of(load_records(s, [p], period)[p.id], period)


def band_of(factor: float) -> int:
    """The premium band in whole percent, in 5 % steps (what an underwriter would apply)."""
    return round((factor - 1) * 20) * 5


def project_risk(
    s: Session, p: ProjectRow, period: Period, cfg: RiskSettings
) -> tuple[RiskAssessment, SignalDetail]:
    detail = project_signals(s, p, period)
    return assess(detail.signals, cfg), detail


def portfolio_risk(
    s: Session,
    projects: list[ProjectRow],
    period: Period,
    cfg_of: Callable[[ProjectRow], RiskSettings],
) -> dict[int, tuple[RiskAssessment, SignalDetail]]:
    """project_risk for many projects at once (project id -> assessment, signals)."""
    records = load_records(s, projects, period)
    out = {}
    for p in projects:
        detail = signals_of(records[p.id], period)
        out[p.id] = (assess(detail.signals, cfg_of(p)), detail)
    return out


def risk_json(
    p: ProjectRow, period: Period, a: RiskAssessment, d: SignalDetail, cfg: RiskSettings
) -> dict[str, Any]:
    sig = asdict(d.signals)
    sig["camera_hours"] = round(sig["camera_hours"], 2)
    sig["scheduled_camera_hours"] = round(sig["scheduled_camera_hours"], 2)
    return {
        "site_id": p.site_id,
        "name": p.name,
        "policy_no": p.policy_no,
        "jurisdiction": p.jurisdiction,
        "period": {
            "label": period.label,
            "start": iso(period.start),
            "end": iso(period.end),
        },
        "score": a.score,
        "factor": a.factor,
        "band_percent": band_of(a.factor),
        "base_rate_per_mille": cfg.base_rate_per_mille,
        "rate_per_mille": a.rate_per_mille,
        "band_limits": [round(1 - cfg.band, 4), round(1 + cfg.band, 4)],
        "confidence": a.confidence,
        "inspection": a.inspection,
        "reasons": a.reasons,
        "reasons_zh": a.reasons_zh,
        "components": a.components,
        "contributions": a.contributions,
        "signals": sig,
        "median_days_to_close": d.median_days_to_close,
        "overdue_items": d.overdue_items,
        "dismissed_false_alarms": d.dismissed,
        "hazards_by_type": d.hazards_by_type,
    }
