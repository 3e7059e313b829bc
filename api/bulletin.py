"""The regulator's monthly bulletin for one jurisdiction, computed from the database.

Counts are of hazards first seen in the month (dismissed false alarms reported apart),
notices issued in the month and their state at the month's end, and escalations made in
the month. Every figure here is a plain query over the stored records, so it can be
checked against the database (tests do).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.measures import HAZARD_NAMES_ZH
from siteguard.api.risk_signals import Period, notices_until, project_risk, risk_json
from siteguard.api.settings import ApiSettings
from siteguard.api.tables import (
    EscalationRow,
    HazardRow,
    ProjectRow,
)

TOP_N = 5


def monthly_bulletin(
    s: Session, jurisdiction: str, month: str, settings: ApiSettings
) -> dict[str, Any]:
    period = Period.month(month)
    start, end = period.start, period.end
    projects = list(
        s.scalars(
            select(ProjectRow)
            .where(ProjectRow.jurisdiction == jurisdiction)
            .order_by(ProjectRow.site_id)
        )
    )
    rows: list[dict[str, Any]] = []
    by_type: dict[str, int] = {}
    by_level = {"general": 0, "major": 0}
    totals = dict(
        hazards=0,
        dismissed=0,
        notices=0,
        items=0,
        items_closed=0,
        items_on_time=0,
        overdue=0,
        escalations=0,
        camera_hours=0.0,
    )
    for p in projects:
        hazards = list(
            s.scalars(
                select(HazardRow).where(
                    HazardRow.site_id == p.site_id,
                    HazardRow.first_seen >= start,
                    HazardRow.first_seen < end,
                )
            )
        )
        real = [h for h in hazards if h.status != "dismissed"]
        for h in real:
            by_type[h.hazard_type] = by_type.get(h.hazard_type, 0) + 1
            by_level[h.level] = by_level.get(h.level, 0) + 1
        notices, closed = notices_until(s, p, end)
        items = closed_items = on_time = overdue = 0
        for n in notices:
            c = closed.get(n.id)
            done = c is not None and c < end
            for i in n.items:
                if i.hazard.status == "dismissed":
                    continue
                if n.issued_at >= start:
                    items += 1
                    closed_items += done
                    on_time += done and c is not None and c <= i.deadline
                if not done and i.deadline < end:
                    overdue += 1
        escalations = len(
            s.scalars(
                select(EscalationRow.id)
                .join(HazardRow, HazardRow.id == EscalationRow.hazard_id)
                .where(
                    HazardRow.site_id == p.site_id,
                    EscalationRow.at >= start,
                    EscalationRow.at < end,
                )
            ).all()
        )
        cfg = settings.risk_for(p.risk_product)
        a, d = project_risk(s, p, period, cfg)
        risk = risk_json(p, period, a, d, cfg)
        row = {
            "site_id": p.site_id,
            "name": p.name,
            "contractor": p.contractor,
            "camera_hours": risk["signals"]["camera_hours"],
            "hazards": len(real),
            "major": sum(h.level == "major" for h in real),
            "dismissed": len(hazards) - len(real),
            "notices": sum(n.issued_at >= start for n in notices),
            "notice_items": items,
            "items_closed": closed_items,
            "overdue": overdue,
            "escalations": escalations,
            "score": a.score,
            "factor": a.factor,
            "confidence": a.confidence,
            "inspection": a.inspection,
            "reasons": a.reasons,
            "reasons_zh": a.reasons_zh,
        }
        rows.append(row)
        for k in ("hazards", "dismissed", "notices", "items_closed", "overdue"):
            totals[k] += row[k]
        totals["items"] += items
        totals["items_on_time"] += on_time
        totals["escalations"] += escalations
        totals["camera_hours"] += row["camera_hours"]
    watched = [r for r in rows if r["camera_hours"] > 0]
    items_total = int(totals["items"])
    return {
        "jurisdiction": jurisdiction,
        "month": month,
        "period": {"start": start.isoformat() + "Z", "end": end.isoformat() + "Z"},
        "projects_registered": len(projects),
        "projects_watched": len(watched),
        "camera_hours": round(float(totals["camera_hours"]), 1),
        "hazards": int(totals["hazards"]),
        "hazards_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "hazards_by_type_zh": {HAZARD_NAMES_ZH.get(k, k): v for k, v in by_type.items()},
        "hazards_by_level": by_level,
        "dismissed_false_alarms": int(totals["dismissed"]),
        "notices_issued": int(totals["notices"]),
        "notice_items": items_total,
        "rectified": int(totals["items_closed"]),
        "rectification_rate": round(totals["items_closed"] / items_total, 4)
        if items_total
        else None,
        "on_time_rate": round(totals["items_on_time"] / items_total, 4) if items_total else None,
        "overdue_at_month_end": int(totals["overdue"]),
        "escalations": int(totals["escalations"]),
        "top_risk": sorted(rows, key=lambda r: (-r["factor"], r["site_id"]))[:TOP_N],
        "projects": rows,
    }
