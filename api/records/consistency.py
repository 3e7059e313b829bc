"""The notice and hazard tables checked against the audit chain: an edit made straight in
the database (a notice marked closed, a hazard dismissed, a notice's items changed)
leaves the tables saying something the chain never recorded."""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.tables import AuditRow, HazardRow, NoticeRow


def table_problems(s: Session) -> list[str]:
    created: set[str] = set()
    dismissed: set[str] = set()
    issued: dict[str, set[int]] = {}
    last_status: dict[str, str] = {}
    transitions: dict[str, int] = defaultdict(int)
    for action, entity_id, detail in s.execute(
        select(AuditRow.action, AuditRow.entity_id, AuditRow.detail)
        .where(AuditRow.entity.in_(("hazard", "notice")))
        .order_by(AuditRow.id)
    ):
        if action == "hazard.created":
            created.add(entity_id)
        elif action == "hazard.dismissed":
            dismissed.add(entity_id)
        elif action == "notice.issued":
            issued[entity_id] = {int(h) for h in json.loads(detail).get("hazards", [])}
            last_status[entity_id] = NoticeStatus.ISSUED
        elif action.startswith("notice."):
            last_status[entity_id] = str(json.loads(detail).get("to", ""))
            transitions[entity_id] += 1
    problems = []
    for h in s.scalars(select(HazardRow)):
        hid = str(h.id)
        if hid not in created:
            problems.append(f"hazard {h.id}: in the table but never recorded as created")
        if (h.status == HazardStatus.DISMISSED) != (hid in dismissed):
            problems.append(
                f"hazard {h.id}: the table says {h.status}, the chain "
                f"{'records' if hid in dismissed else 'has no'} dismissal"
            )
    notices = s.scalars(select(NoticeRow).options(selectinload(NoticeRow.items)))
    for n in notices:
        if n.number not in issued:
            problems.append(f"notice {n.number}: in the table but never recorded as issued")
            continue
        if {i.hazard_id for i in n.items} != issued[n.number]:
            problems.append(f"notice {n.number}: its items differ from those it was issued with")
        if n.status != last_status[n.number]:
            problems.append(
                f"notice {n.number}: the table says {n.status}, the chain's last "
                f"transition says {last_status[n.number]}"
            )
    return problems
