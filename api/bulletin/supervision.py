"""督办: a regulator formally supervises a hazard (and the notice it is on, if any).

A supervision names who (the regulator's key and jurisdiction), when, what is required
(text, required) and an optional deadline. It is one `SupervisionRow`, and in the same
transaction: an entry in the notice's history (`workflow.record_supervision`, action
``supervise``; no state changes), an audit record (``hazard.supervised``) and a signed
push to the supervision platform (message type ``supervision``, keyed by the record's id).
A hazard on no notice yet is supervised on its own: the notice it lands on later shows the
supervision in its banner (the banner reads supervisions by the notice's hazards).

Only regulators (and admins) supervise, and only hazards in their jurisdiction: another
jurisdiction's hazard is "not found", like every out-of-scope record.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.errors import Conflict, Invalid
from siteguard.api.hazards.queries import load_hazard
from siteguard.api.hazards.views import hazard_summary
from siteguard.api.notices import workflow
from siteguard.api.notices.queries import notice_of_hazard
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, status_zh
from siteguard.api.store.clock import CHINA, china_text, iso, iso_or_none, now_naive, utc_naive
from siteguard.api.store.tables import NoticeRow, ProjectRow, SupervisionRow

REQUIREMENT_MAX = 2000


def end_of_china_day(day: date) -> datetime:
    """A deadline picked as a date: the end of that day in China time (like 整改时限)."""
    return datetime.combine(day, time(23, 59, 59), CHINA)


def supervise(
    s: Session,
    who: Principal,
    hazard_id: int,
    requirement: str,
    deadline: datetime | None = None,
    now: datetime | None = None,
) -> SupervisionRow:
    """Record a 督办 of the hazard by ``who``, with its history entry, audit and push."""
    who.require("regulator")
    h = load_hazard(s, who, hazard_id)  # out of scope: NotFound
    requirement = requirement.strip()
    if not requirement:
        raise Invalid(
            "a supervision needs a requirement saying what must be done", "督办须填写督办要求"
        )
    if len(requirement) > REQUIREMENT_MAX:
        raise Invalid(
            f"the requirement is longer than {REQUIREMENT_MAX} characters",
            f"督办要求不能超过 {REQUIREMENT_MAX} 字",
        )
    at = utc_naive(now) if now else now_naive()
    due = utc_naive(deadline) if deadline is not None else None
    if due is not None and due <= at:
        raise Invalid(f"the deadline {iso(due)} is not in the future", "督办期限须晚于当前时间")
    if h.status in (HazardStatus.CLOSED, HazardStatus.DISMISSED):
        raise Conflict(
            f"hazard {h.id} is already {h.status}", f"隐患 #{h.id} 已是「{status_zh(h.status)}」"
        )
    notice = notice_of_hazard(s, h.id)
    project = s.scalar(select(ProjectRow).where(ProjectRow.site_id == h.site_id))
    row = SupervisionRow(
        hazard_id=h.id,
        notice_id=notice.id if notice is not None else None,
        at=at,
        actor=who.name,
        role=who.role,
        jurisdiction=who.jurisdiction or (project.jurisdiction if project else ""),
        requirement=requirement,
        deadline=due,
    )
    s.add(row)
    s.flush()
    if notice is not None:
        workflow.record_supervision(s, notice, who, requirement, at)
    detail = {
        "supervision": row.id,
        "notice": notice.number if notice is not None else None,
        "requirement": requirement,
        "deadline": iso_or_none(due),
        "jurisdiction": row.jurisdiction,
    }
    audit.append(s, who.name, "hazard.supervised", "hazard", h.id, detail)
    push.enqueue(
        s,
        "supervision",
        f"supervision:{row.id}",
        dict(
            hazard_summary(h),
            site_name=project.name if project else "",
            supervision=supervision_json(row, notice),
        ),
        who.name,
    )
    return row


def supervision_json(row: SupervisionRow, notice: NoticeRow | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "hazard_id": row.hazard_id,
        "notice": notice.number if notice is not None else None,
        "at": iso(row.at),
        "by": row.actor,
        "role": row.role,
        "jurisdiction": row.jurisdiction,
        "requirement": row.requirement,
        "deadline": iso_or_none(row.deadline),
    }


def supervisions_of(s: Session, hazard_ids: list[int]) -> list[SupervisionRow]:
    """The supervisions of these hazards, newest first."""
    if not hazard_ids:
        return []
    return list(
        s.scalars(
            select(SupervisionRow)
            .where(SupervisionRow.hazard_id.in_(hazard_ids))
            .order_by(SupervisionRow.id.desc())
        )
    )


def hazard_supervisions(s: Session, who: Principal, hazard_id: int) -> list[dict[str, Any]]:
    """A hazard's supervisions as JSON, for anyone who may see the hazard."""
    load_hazard(s, who, hazard_id)
    notice = notice_of_hazard(s, hazard_id)
    return [supervision_json(r, notice) for r in supervisions_of(s, [hazard_id])]


def notice_banner(s: Session, notice: NoticeRow) -> list[dict[str, Any]]:
    """What the notice page's 督办 banner shows (China time), newest first."""
    rows = supervisions_of(s, [i.hazard_id for i in notice.items])
    return [
        {
            "hazard_id": r.hazard_id,
            "at": china_text(r.at),
            "by": r.actor,
            "jurisdiction": r.jurisdiction,
            "requirement": r.requirement,
            "deadline": china_text(r.deadline) if r.deadline is not None else None,
        }
        for r in rows
    ]
