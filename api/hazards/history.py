"""A hazard's history as its page tells it, oldest first: found by the model, confirmed
(确认隐患), issued on a notice, every step of that notice's workflow (acknowledged, proof
submitted, re-inspected: accepted or rejected), supervised (督办), escalated, dismissed.

Read from where each step is kept: the hazard row (found, confirmed), the notice and its
history, the supervisions, the escalations, and, for a dismissal, its audit record (the
only place that keeps its time)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.notices.queries import notice_history
from siteguard.api.notices.replies import replies_by_item
from siteguard.api.notices.workflow import SUPERVISE
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.tables import (
    AuditRow,
    EscalationRow,
    HazardRow,
    NoticeHistoryRow,
    NoticeRow,
    SupervisionRow,
)

# what each entry says, in the words of `api/console/text.py` (``hv_<action>``)
ACTIONS = (
    "found",
    "confirm",
    "issue",
    "acknowledge",
    "submit",
    "accept",
    "reject",
    "dismiss",
    "supervise",
    "escalate",
    "close",  # the notice closed as its last open hazard was dismissed
)
# a notice history action as this history names it
NOTICE_ACTIONS = {"dismiss": "close"}


@dataclass(frozen=True)
class Entry:
    at: datetime  # naive UTC
    action: str  # one of ACTIONS
    actor: str = ""
    role: str = ""  # the actor's role ("" when not a person's step)
    from_status: str = ""  # the notice's states, for its workflow steps
    to_status: str = ""
    comment: str = ""
    attachments: list[str] = field(default_factory=list)  # stored proof photos


def _notice_entry(r: NoticeHistoryRow) -> Entry:
    return Entry(
        r.at,
        NOTICE_ACTIONS.get(r.action, r.action),
        r.actor,
        r.role,
        r.from_status,
        r.to_status,
        r.comment,
        [str(a) for a in json.loads(r.attachments or "[]")],
    )


def _dismissal(s: Session, h: HazardRow) -> Entry | None:
    row = s.scalar(
        select(AuditRow)
        .where(
            AuditRow.entity == "hazard",
            AuditRow.entity_id == str(h.id),
            AuditRow.action == "hazard.dismissed",
        )
        .order_by(AuditRow.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    reason = json.loads(row.detail).get("reason", "")
    return Entry(row.at, "dismiss", row.actor, comment=str(reason))


def hazard_history(s: Session, h: HazardRow, notice: NoticeRow | None) -> list[Entry]:
    """Everything that happened to the hazard, oldest first."""
    out = [Entry(h.first_seen, "found", h.camera_id, "edge")]
    if h.confirmed_at is not None:
        out.append(Entry(h.confirmed_at, "confirm", h.confirmed_by))
    if notice is not None:
        out.append(Entry(notice.issued_at, "issue", notice.issuer))
        # the notice's 督办 entries may be about its other hazards: those come from below
        out += [_notice_entry(r) for r in notice_history(s, notice.id) if r.action != SUPERVISE]
    for sv in s.scalars(select(SupervisionRow).where(SupervisionRow.hazard_id == h.id)):
        out.append(Entry(sv.at, "supervise", sv.actor, sv.role, comment=sv.requirement))
    esc = s.scalar(select(EscalationRow).where(EscalationRow.hazard_id == h.id))
    if esc is not None:
        out.append(Entry(esc.at, "escalate"))
    if h.status == HazardStatus.DISMISSED and (gone := _dismissal(s, h)) is not None:
        out.append(gone)
    return sorted(out, key=lambda e: e.at)  # stable: same-time steps keep their order


@dataclass(frozen=True)
class Proof:
    """The contractor's latest rectification reply for the hazard (整改照片)."""

    photos: list[str]  # stored proof photos (proof/<notice>/<sha256>.jpg)
    at: datetime  # naive UTC
    actor: str
    text: str


def hazard_proof(
    s: Session, h: HazardRow, notice: NoticeRow | None, entries: list[Entry]
) -> Proof | None:
    """The latest reply to the hazard's own item of its notice, else the photos of the
    latest submission of the notice (a reply for all its items); None before any."""
    if notice is None:
        return None
    item = next((i for i in notice.items if i.hazard_id == h.id), None)
    mine = replies_by_item(s, notice.id).get(item.id, []) if item is not None else []
    if mine:
        r = mine[-1]
        return Proof([str(p) for p in json.loads(r.attachments or "[]")], r.at, r.actor, r.text)
    for e in reversed(entries):
        if e.action == "submit" and e.attachments:
            return Proof(e.attachments, e.at, e.actor, e.comment)
    return None
