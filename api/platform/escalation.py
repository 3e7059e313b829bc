"""Escalation of overdue major hazards (整改逾期): to the housing & construction
department, emergency management and the insurance regulator, once per hazard.

State lives in the database (`escalations`), so the scheduler survives restarts and
replicas: a hazard is escalated once whichever process finds it first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.hazards.views import hazard_summary
from siteguard.api.platform.push import enqueue
from siteguard.api.records import audit
from siteguard.api.store.clock import iso, now_naive
from siteguard.api.store.tables import EscalationRow, HazardRow, NoticeItemRow


def overdue_major(s: Session, now: datetime) -> list[NoticeItemRow]:
    escalated = select(EscalationRow.hazard_id)
    return list(
        s.scalars(
            select(NoticeItemRow)
            .join(HazardRow)
            .where(
                NoticeItemRow.level == "major",
                NoticeItemRow.deadline < now,
                HazardRow.status.not_in(["closed", "dismissed"]),
                HazardRow.id.not_in(escalated),
            )
        )
    )


def escalate_overdue(sessions: sessionmaker[Session], now: datetime | None = None) -> int:
    """Escalate every overdue major hazard not yet escalated; return how many."""
    now = now or now_naive()
    count = 0
    with sessions() as s:
        items = overdue_major(s, now)
    for item_id in [i.id for i in items]:
        try:
            with sessions.begin() as s:
                item = s.get_one(NoticeItemRow, item_id)
                h = item.hazard
                s.add(EscalationRow(hazard_id=h.id, at=now))
                s.flush()  # a replica that got here first makes this fail: escalated once
                h.status = "escalated" if h.status != "escalated" else h.status
                data = dict(
                    hazard_summary(h),
                    notice=item.notice.number,
                    deadline=iso(item.deadline),
                    site_name=item.notice.project.name,
                    jurisdiction=item.notice.project.jurisdiction,
                )
                enqueue(s, "hazard.escalated", f"hazard:{h.id}:escalated", data)
                audit.append(
                    s,
                    "scheduler",
                    "hazard.escalated",
                    "hazard",
                    h.id,
                    {"notice": item.notice.number, "deadline": data["deadline"]},
                )
                count += 1
        except IntegrityError:
            continue
    return count
