"""The rectification workflow, with role checks, a full history and the audit chain.

issued --acknowledge (contractor)--> rectifying --submit proof (contractor)--> submitted
submitted --accept (inspector: re-inspected)--> closed
submitted --reject (inspector)--> rectifying
A hazard can be dismissed as a false alarm by an inspector, with a reason (kept, and
counted as model feedback); a notice whose hazards are all dismissed or closed is closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.errors import Conflict, Invalid, NotFound
from siteguard.api.hazards.views import hazard_summary
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.clock import utc_naive
from siteguard.api.store.tables import HazardRow, NoticeHistoryRow, NoticeItemRow, NoticeRow


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: tuple[str, ...]


TRANSITIONS = {
    "acknowledge": Transition(
        frozenset({NoticeStatus.ISSUED}), NoticeStatus.RECTIFYING, ("contractor",)
    ),
    "submit": Transition(
        frozenset({NoticeStatus.RECTIFYING}), NoticeStatus.SUBMITTED, ("contractor",)
    ),
    "accept": Transition(frozenset({NoticeStatus.SUBMITTED}), NoticeStatus.CLOSED, ("inspector",)),
    "reject": Transition(
        frozenset({NoticeStatus.SUBMITTED}), NoticeStatus.RECTIFYING, ("inspector",)
    ),
}


def apply(
    s: Session,
    notice: NoticeRow,
    action: str,
    who: Principal,
    comment: str = "",
    attachments: list[str] | None = None,
    at: datetime | None = None,
) -> NoticeRow:
    t = TRANSITIONS.get(action)
    if t is None:
        raise NotFound(f"unknown action {action!r} (actions: {', '.join(TRANSITIONS)})")
    who.require(*t.roles)
    if notice.status not in t.sources:
        raise Conflict(f"cannot {action} a notice that is {notice.status}")
    if action == "reject" and not comment.strip():
        raise Invalid("a rejection needs a comment saying what is still wrong")
    if action == "submit" and not attachments:
        raise Invalid("a rectification reply needs at least one proof photo")
    _record(s, notice, who, action, t.target, comment, attachments or [], at)
    if action == "accept":
        for item in notice.items:
            if item.hazard.status != HazardStatus.DISMISSED:
                item.hazard.status = HazardStatus.CLOSED
                item.hazard.resolution = f"rectified; re-inspected by {who.name}"
                push.enqueue(
                    s,
                    "hazard.closed",
                    f"hazard:{item.hazard.id}:closed",
                    dict(hazard_summary(item.hazard), notice=notice.number),
                    who.name,
                )
    return notice


def dismiss(
    s: Session,
    hazard: HazardRow,
    who: Principal,
    reason: str,
    at: datetime | None = None,
) -> HazardRow:
    """Dismiss a false alarm; the notice it is on closes when nothing on it is left open."""
    who.require("inspector")
    if not reason.strip():
        raise Invalid("dismissing a false alarm needs a reason")
    if hazard.status in (HazardStatus.CLOSED, HazardStatus.DISMISSED):
        raise Conflict(f"hazard {hazard.id} is already {hazard.status}")
    hazard.status, hazard.resolution = HazardStatus.DISMISSED, f"false alarm: {reason}"
    audit.append(
        s,
        who.name,
        "hazard.dismissed",
        "hazard",
        hazard.id,
        {"reason": reason, "type": hazard.hazard_type, "camera": hazard.camera_id},
    )
    item = s.scalar(select(NoticeItemRow).where(NoticeItemRow.hazard_id == hazard.id))
    notice = item.notice if item is not None else None
    if (
        notice is not None
        and notice.status != NoticeStatus.CLOSED
        and all(
            i.hazard.status in (HazardStatus.CLOSED, HazardStatus.DISMISSED) for i in notice.items
        )
    ):
        _record(s, notice, who, "dismiss", "closed", f"all hazards dismissed: {reason}", [], at)
    return hazard


def _record(
    s: Session,
    notice: NoticeRow,
    who: Principal,
    action: str,
    target: str,
    comment: str,
    attachments: list[str],
    at: datetime | None = None,
) -> None:
    s.add(
        NoticeHistoryRow(
            notice_id=notice.id,
            at=utc_naive(at or datetime.now(UTC)),
            actor=who.name,
            role=who.role,
            action=action,
            from_status=notice.status,
            to_status=target,
            comment=comment,
            attachments=json.dumps(attachments),
        )
    )
    audit.append(
        s,
        who.name,
        f"notice.{action}",
        "notice",
        notice.number,
        {"from": notice.status, "to": target, "comment": comment, "attachments": attachments},
    )
    notice.status = target
