"""The home dashboard's figures, in the caller's scope (a contractor's sites, an insurer's
or inspector's insured projects, a regulator's jurisdiction, everything for an admin).

- **counts**: hazards still open (待处理, being rectified or escalated), of which major;
  notices overdue (not closed, an open item past its deadline: the notice's own
  ``overdue``); notices closed in the last
  7 days (their closing transition in the notice history).
- **trend**: new hazards per China-time day over the last 7 or 30 days, general and
  major apart, the days with none included.
- **ranking**: projects by open major hazards, then by open hazards (the first `TOP`).

Every figure is one grouped query over the scoped projects, so the page costs the same
with 5 projects or 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, scope_filter
from siteguard.api.statuses import OPEN_STATUSES, NoticeStatus
from siteguard.api.store.clock import china_day, now_naive
from siteguard.api.store.tables import (
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)

TREND_DAYS = (7, 30)
TOP = 10


@dataclass
class DayCount:
    day: str  # YYYY-MM-DD, China time
    general: int = 0
    major: int = 0

    @property
    def total(self) -> int:
        return self.general + self.major


@dataclass
class Figures:
    open: int
    open_major: int
    overdue: int
    closed_week: int
    trend: list[DayCount]
    ranking: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trend_max(self) -> int:
        return max([d.total for d in self.trend] + [1])


def _scoped(q: Any, who: Principal) -> Any:
    cond = scope_filter(who)
    return q if cond is None else q.where(cond)


def figures(s: Session, who: Principal, days: int = 7, now: datetime | None = None) -> Figures:
    """The dashboard of ``who`` at ``now`` (naive UTC) with a trend of ``days`` days."""
    if days not in TREND_DAYS:
        days = TREND_DAYS[0]
    now = now or now_naive()
    on_projects = HazardRow.site_id == ProjectRow.site_id
    open_rows = s.execute(
        _scoped(
            select(HazardRow.level, func.count())
            .join(ProjectRow, on_projects)
            .where(HazardRow.status.in_(OPEN_STATUSES))
            .group_by(HazardRow.level),
            who,
        )
    ).all()
    open_by_level = {level: n for level, n in open_rows}
    notices = select(NoticeRow.id).join(ProjectRow, ProjectRow.id == NoticeRow.project_id)
    overdue = s.scalar(
        _scoped(
            select(func.count(distinct(NoticeRow.id)))
            .join(ProjectRow, ProjectRow.id == NoticeRow.project_id)
            .join(NoticeItemRow, NoticeItemRow.notice_id == NoticeRow.id)
            # an open item past its deadline, as the notice itself says (a false alarm
            # dismissed after its deadline makes no notice overdue)
            .join(HazardRow, HazardRow.id == NoticeItemRow.hazard_id)
            .where(
                NoticeRow.status != NoticeStatus.CLOSED,
                NoticeItemRow.deadline < now,
                HazardRow.status.in_(OPEN_STATUSES),
            ),
            who,
        )
    )
    closed_week = s.scalar(
        select(func.count(distinct(NoticeHistoryRow.notice_id))).where(
            NoticeHistoryRow.to_status == NoticeStatus.CLOSED,
            NoticeHistoryRow.at >= now - timedelta(days=7),
            NoticeHistoryRow.notice_id.in_(_scoped(notices, who)),
        )
    )
    return Figures(
        open=sum(open_by_level.values()),
        open_major=open_by_level.get("major", 0),
        overdue=int(overdue or 0),
        closed_week=int(closed_week or 0),
        trend=_trend(s, who, days, now),
        ranking=_ranking(s, who),
    )


def _trend(s: Session, who: Principal, days: int, now: datetime) -> list[DayCount]:
    today = date.fromisoformat(china_day(now))
    names = [(today - timedelta(days=d)).isoformat() for d in range(days - 1, -1, -1)]
    out = {day: DayCount(day) for day in names}
    # a day and a half more than asked for: China days start 8 h before UTC days
    rows = s.execute(
        _scoped(
            select(HazardRow.first_seen, HazardRow.level)
            .join(ProjectRow, HazardRow.site_id == ProjectRow.site_id)
            .where(HazardRow.first_seen >= now - timedelta(days=days + 1)),
            who,
        )
    ).all()
    for seen, level in rows:
        day = out.get(china_day(seen))
        if day is not None:
            if level == "major":
                day.major += 1
            else:
                day.general += 1
    return list(out.values())


def _ranking(s: Session, who: Principal) -> list[dict[str, Any]]:
    major = func.sum(case((HazardRow.level == "major", 1), else_=0))
    rows = s.execute(
        _scoped(
            select(ProjectRow.site_id, ProjectRow.name, func.count(HazardRow.id), major)
            .join(HazardRow, HazardRow.site_id == ProjectRow.site_id)
            .where(HazardRow.status.in_(OPEN_STATUSES))
            .group_by(ProjectRow.site_id, ProjectRow.name),
            who,
        )
    ).all()
    ranked = sorted(rows, key=lambda r: (-(r[3] or 0), -r[2], r[0]))[:TOP]
    return [
        {"site_id": sid, "name": name or sid, "open": n, "open_major": int(m or 0)}
        for sid, name, n, m in ranked
    ]
