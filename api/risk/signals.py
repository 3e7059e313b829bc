"""One project's risk signals over a period, read from the database, and its assessment.

Periods are half-open [start, end) in naive UTC. "Now" for a past period is its end: a
hazard is unrectified if it was still open when the period ended, whatever happened later,
so a month's figures do not change when the month is over.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from siteguard.api.risk.model import (
    ProjectSignals,
    RiskAssessment,
    RiskSettings,
    assess,
    factor_shares,
)
from siteguard.api.risk.records import REPEAT_WINDOW, PeriodRecords, load_records
from siteguard.api.store.clock import CHINA, china_time, iso
from siteguard.api.store.tables import ProjectRow

__all__ = ["REPEAT_WINDOW", "Period", "PeriodRecords", "load_records"]


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
        if not 1970 <= first.year <= 9998:  # its previous month and China offset must exist
            raise ValueError(f"month must be between 1970-01 and 9998-12, not {month!r}")
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
            if not i.dismissed:
                items += 1
                items_closed += done
                items_on_time += c is not None and done and c <= i.deadline
    unrectified_major = overdue = 0
    for n in notices:
        c = closed.get(n.id)
        still_open = c is None or c >= end
        for i in n.items:
            if i.dismissed or not still_open or i.deadline >= end:
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
        "factor_contributions": factor_contributions(a, cfg),
        "signals": sig,
        "median_days_to_close": d.median_days_to_close,
        "overdue_items": d.overdue_items,
        "dismissed_false_alarms": d.dismissed,
        "hazards_by_type": d.hazards_by_type,
    }


def factor_contributions(a: RiskAssessment, cfg: RiskSettings) -> dict[str, float]:
    """Each component's share of (factor - 1), in factor units (they sum to factor - 1)."""
    return {k: round(v, 6) for k, v in factor_shares(a.contributions, a.score, cfg).items()}
