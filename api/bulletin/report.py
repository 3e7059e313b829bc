"""The regulator's monthly bulletin for one jurisdiction, computed from the database.

Counts are of hazards first seen in the month (dismissed false alarms reported apart),
notices issued in the month and their state at the month's end, and escalations made in
the month; the same figures of the five months before give the 环比 and the trend.
Every figure here is a plain query over the stored records, so it can be checked against
the database (tests do).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.bulletin.changes import changes, months_until, trend
from siteguard.api.bulletin.numbering import bulletin_document
from siteguard.api.errors import Invalid, NotFound
from siteguard.api.risk.portfolio import period_of
from siteguard.api.risk.signals import Period, portfolio_risk
from siteguard.api.settings import ApiSettings
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import (
    EscalationRow,
    HazardRow,
    ProjectRow,
)
from siteguard.contract.hazards import HAZARD_NAMES_ZH

TOP_N = 5


def month_figures(
    s: Session, projects: list[ProjectRow], month: str, settings: ApiSettings
) -> dict[str, Any]:
    """One month's figures of a set of projects: the jurisdiction's totals and one row per
    project (the same signals the risk model reads: one computation, one set of
    definitions)."""
    period = Period.month(month)
    start, end = period.start, period.end
    rows: list[dict[str, Any]] = []
    by_type: dict[str, int] = {}
    by_level = {"general": 0, "major": 0}
    risks = portfolio_risk(s, projects, period, lambda p: settings.risk_for(p.risk_product))
    sites = [p.site_id for p in projects]
    escalated: dict[str, int] = dict(
        s.execute(
            select(HazardRow.site_id, func.count(EscalationRow.id))
            .join(HazardRow, HazardRow.id == EscalationRow.hazard_id)
            .where(HazardRow.site_id.in_(sites), EscalationRow.at >= start, EscalationRow.at < end)
            .group_by(HazardRow.site_id)
        ).all()
    )
    for p in projects:
        a, d = risks[p.id]
        sig = d.signals
        for kind, n in d.hazards_by_type.items():
            by_type[kind] = by_type.get(kind, 0) + n
        by_level["general"] += sig.general_hazards
        by_level["major"] += sig.major_hazards
        row = {
            "site_id": p.site_id,
            "name": p.name,
            "contractor": p.contractor,
            "camera_hours": round(sig.camera_hours, 2),
            "hazards": sig.general_hazards + sig.major_hazards,
            "major": sig.major_hazards,
            "dismissed": d.dismissed,
            "notices": sig.notices,
            "notice_items": d.items_issued,
            "items_closed": d.items_closed,
            "items_on_time": d.items_on_time,
            "overdue": d.overdue_items,
            "escalations": escalated.get(p.site_id, 0),
            "score": a.score,
            "factor": a.factor,
            "confidence": a.confidence,
            "inspection": a.inspection,
            "reasons": a.reasons,
            "reasons_zh": a.reasons_zh,
        }
        rows.append(row)

    def total(key: str) -> Any:  # the jurisdiction's figures are the projects' sums
        return sum(r[key] for r in rows)

    items_total = total("notice_items")
    return {
        "period": {"start": iso(start), "end": iso(end)},
        "projects_registered": len(projects),
        "projects_watched": sum(r["camera_hours"] > 0 for r in rows),
        "camera_hours": round(total("camera_hours"), 1),
        "hazards": total("hazards"),
        "major_hazards": by_level["major"],
        "hazards_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "hazards_by_type_zh": {HAZARD_NAMES_ZH.get(k, k): v for k, v in by_type.items()},
        "hazards_by_level": by_level,
        "hazards_by_type_level": by_type_and_level(s, sites, period),
        "dismissed_false_alarms": total("dismissed"),
        "notices_issued": total("notices"),
        "notice_items": items_total,
        "rectified": total("items_closed"),
        "rectification_rate": round(total("items_closed") / items_total, 4)
        if items_total
        else None,
        "on_time_rate": round(total("items_on_time") / items_total, 4) if items_total else None,
        "overdue_at_month_end": total("overdue"),
        "escalations": total("escalations"),
        "top_risk": sorted(rows, key=lambda r: (-r["factor"], r["site_id"]))[:TOP_N],
        "projects": rows,
    }


def by_type_and_level(s: Session, sites: list[str], period: Period) -> dict[str, dict[str, int]]:
    """Hazards first seen in the period (false alarms apart) by type, then level, most
    frequent type first: what the level-coloured bars draw."""
    out: dict[str, dict[str, int]] = {}
    for kind, level, n in s.execute(
        select(HazardRow.hazard_type, HazardRow.level, func.count(HazardRow.id))
        .where(
            HazardRow.site_id.in_(sites),
            HazardRow.first_seen >= period.start,
            HazardRow.first_seen < period.end,
            HazardRow.status != "dismissed",
        )
        .group_by(HazardRow.hazard_type, HazardRow.level)
    ).all():
        levels = out.setdefault(kind, {"general": 0, "major": 0})
        levels["major" if level == "major" else "general"] += n
    return dict(sorted(out.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))


def monthly_bulletin(
    s: Session, jurisdiction: str, month: str, settings: ApiSettings
) -> dict[str, Any]:
    """The month's figures with the document's number and authority, each key figure
    against the previous month (环比) and the last six months' trend."""
    projects = list(
        s.scalars(
            select(ProjectRow)
            .where(ProjectRow.jurisdiction == jurisdiction)
            .order_by(ProjectRow.site_id)
        )
    )
    months = months_until(month)
    figures = {m: month_figures(s, projects, m, settings) for m in months}
    current = figures[month]
    return {
        "jurisdiction": jurisdiction,
        "month": month,
        "document": bulletin_document(jurisdiction, month, settings.bulletin),
        **current,
        "previous_month": months[-2],
        "changes": changes(current, figures[months[-2]]),
        "trend": trend(months, figures),
    }


def jurisdiction_of(who: Principal, jurisdiction: str | None) -> str:
    who.require("regulator")
    if who.role == "admin":
        if not jurisdiction:
            raise Invalid("admin: say which jurisdiction (?jurisdiction=)")
        return jurisdiction
    if jurisdiction and jurisdiction != who.jurisdiction:
        raise NotFound(f"no jurisdiction {jurisdiction!r}")
    return who.jurisdiction


def bulletin_for(
    s: Session, who: Principal, month: str, jurisdiction: str | None, settings: ApiSettings
) -> dict[str, Any]:
    """The caller's jurisdiction's bulletin (an admin names one)."""
    where = jurisdiction_of(who, jurisdiction)
    period_of(month)  # a clear Invalid for 2026-13
    b: dict[str, Any] = monthly_bulletin(s, where, month, settings)
    return b
