"""The regulator's alerts: major hazards and escalations of overdue notices, in scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, scope_filter
from siteguard.api.hazards.views import hazard_summary
from siteguard.api.store.clock import iso
from siteguard.api.store.tables import EscalationRow, HazardRow, ProjectRow


def alerts(
    s: Session, who: Principal, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Major hazards and escalations the caller may see, newest first."""
    cond = scope_filter(who)

    def scoped(q: Any) -> Any:
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id)
        return q if cond is None else q.where(cond)

    majors = s.execute(
        scoped(select(HazardRow, ProjectRow).where(HazardRow.level == "major"))
        .where(HazardRow.first_seen >= (since or datetime.min))
        .order_by(HazardRow.first_seen.desc())
        .limit(limit)
    ).all()
    escalated = s.execute(
        scoped(
            select(EscalationRow, HazardRow, ProjectRow).join(
                HazardRow, HazardRow.id == EscalationRow.hazard_id
            )
        )
        .where(EscalationRow.at >= (since or datetime.min))
        .order_by(EscalationRow.at.desc())
        .limit(limit)
    ).all()
    out = [
        {
            "type": "major_hazard",
            "at": iso(h.first_seen),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for h, p in majors
    ] + [
        {
            "type": "escalation",
            "at": iso(e.at),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for e, h, p in escalated
    ]
    return sorted(out, key=lambda a: a["at"], reverse=True)[:limit]
