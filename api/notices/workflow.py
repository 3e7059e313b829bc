"""The rectification workflow, with role checks, a full history and the audit chain.

issued --acknowledge (contractor)--> rectifying --submit proof (contractor)--> submitted
submitted --accept (inspector: re-inspected)--> closed
submitted --reject (inspector)--> rectifying
While rectifying, the contractor replies to each item (`reply_to_item`: text and proof
photos, no state change); ``submit`` then sends the notice to re-inspection once every
open item has a reply, or carries one reply for all items not yet answered (`replies`).
A hazard can be dismissed as a false alarm by an inspector, with a reason (kept, and
counted as model feedback); a notice whose hazards are all dismissed or closed is closed.

Parallel requests take turns: a transition locks the notice row (`lock_row`) and checks
the state it finds then, so of N parallel ``acknowledge`` calls exactly one moves the
notice and the others are refused (409, "cannot acknowledge a notice that is
rectifying"); the history holds each transition once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.errors import Conflict, Invalid, NotFound
from siteguard.api.hazards.views import hazard_summary
from siteguard.api.notices import replies
from siteguard.api.platform import push
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus, NoticeStatus, status_zh
from siteguard.api.store.clock import utc_naive
from siteguard.api.store.tables import (
    HazardRow,
    NoticeHistoryRow,
    NoticeItemReplyRow,
    NoticeItemRow,
    NoticeRow,
)

Row = TypeVar("Row", bound=Any)


def lock_row(s: Session, table: type[Row], row_id: int) -> Row:
    """The row, locked until the caller's transaction ends and read afresh (a parallel
    request that got there first has committed by then, and what it changed shows).

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the row. SQLite has no row locks: a write
    takes the database's write lock (waiting, up to the busy timeout, for the
    transaction that holds it), so a no-op write comes first, and reads after it see
    every commit before it."""
    if s.get_bind().dialect.name != "postgresql":
        s.execute(update(table).where(table.id == row_id).values(id=table.id))
    row: Row = s.scalars(
        select(table)
        .where(table.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: tuple[str, ...]


ACTION_ZH = {
    "acknowledge": "签收",
    "submit": "提交整改回复",
    "accept": "复查通过",
    "reject": "复查退回",
}
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
    for fresh in (False, True):  # refuse without the lock if the state already says so
        if fresh:
            notice = lock_row(s, NoticeRow, notice.id)
        if notice.status not in t.sources:
            raise Conflict(
                f"cannot {action} a notice that is {notice.status}",
                f"通知单当前为「{status_zh(notice.status)}」，不能{ACTION_ZH[action]}（请刷新页面）",
            )
    if action == "reject" and not comment.strip():
        raise Invalid(
            "a rejection needs a comment saying what is still wrong",
            "复查退回须填写意见，说明仍未整改到位之处",
        )
    if action == "submit":
        attachments = replies.prepare_submission(s, notice, who, comment, attachments or [], at)
    _record(s, notice, who, action, t.target, comment, attachments or [], at)
    if action == "accept":
        for item in notice.items:
            s.refresh(item.hazard)  # as stored now, not as loaded before the lock
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


def reply_to_item(
    s: Session,
    notice: NoticeRow,
    no: int,
    who: Principal,
    text: str,
    attachments: list[str],
    at: datetime | None = None,
) -> NoticeItemReplyRow:
    """The contractor's reply to item ``no`` (1-based) of a notice being rectified: what
    was done, with proof photos. The notice's state stays; answering again supersedes."""
    who.require("contractor")
    if not 1 <= no <= len(notice.items):
        raise NotFound(
            f"notice {notice.number} has no item {no} (items 1..{len(notice.items)})",
            f"通知单 {notice.number} 没有第 {no} 项（共 {len(notice.items)} 项）",
        )
    for fresh in (False, True):
        if fresh:
            notice = lock_row(s, NoticeRow, notice.id)
        if notice.status == NoticeStatus.ISSUED:
            raise Conflict(
                "acknowledge the notice (签收) before replying to its items",
                "请先签收通知单，再逐项回复",
            )
        if notice.status != NoticeStatus.RECTIFYING:
            raise Conflict(
                f"cannot reply to an item of a notice that is {notice.status}",
                f"通知单当前为「{status_zh(notice.status)}」，不能回复整改项（请刷新页面）",
            )
    item = notice.items[no - 1]
    s.refresh(item.hazard)  # as stored now
    if not replies.is_open(item):
        raise Conflict(
            f"item {no} is {item.hazard.status}: it needs no reply",
            f"第 {no} 项已是「{status_zh(item.hazard.status)}」，无需回复",
        )
    return replies.add_reply(s, notice, no, who, text, attachments, replies.VIA_ITEM, at)


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
        raise Invalid("dismissing a false alarm needs a reason", "判为误报须填写理由")
    item = s.scalar(select(NoticeItemRow).where(NoticeItemRow.hazard_id == hazard.id))
    # the notice first, then the hazard (a parallel dismissal of the notice's other
    # hazard waits, and then sees this one dismissed)
    notice = lock_row(s, NoticeRow, item.notice_id) if item is not None else None
    hazard = lock_row(s, HazardRow, hazard.id)
    if hazard.status in (HazardStatus.CLOSED, HazardStatus.DISMISSED):
        raise Conflict(
            f"hazard {hazard.id} is already {hazard.status}",
            f"隐患 #{hazard.id} 已是「{status_zh(hazard.status)}」",
        )
    hazard.status, hazard.resolution = HazardStatus.DISMISSED, f"false alarm: {reason}"
    audit.append(
        s,
        who.name,
        "hazard.dismissed",
        "hazard",
        hazard.id,
        {"reason": reason, "type": hazard.hazard_type, "camera": hazard.camera_id},
    )
    if notice is not None and notice.status != NoticeStatus.CLOSED and not _still_open(s, notice):
        _record(s, notice, who, "dismiss", "closed", f"all hazards dismissed: {reason}", [], at)
    return hazard


def _still_open(s: Session, notice: NoticeRow) -> int:
    """How many of the notice's hazards are neither closed nor dismissed (as stored now)."""
    return (
        s.scalar(
            select(func.count())
            .select_from(NoticeItemRow)
            .join(HazardRow, HazardRow.id == NoticeItemRow.hazard_id)
            .where(
                NoticeItemRow.notice_id == notice.id,
                HazardRow.status.not_in([HazardStatus.CLOSED, HazardStatus.DISMISSED]),
            )
        )
        or 0
    )


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


SUPERVISE = "supervise"  # 督办: a history entry that changes no state


def record_supervision(
    s: Session, notice: NoticeRow, who: Principal, comment: str, at: datetime | None = None
) -> NoticeHistoryRow:
    """A regulator's 督办 in the notice's history: who, when, what is required (the notice's
    state stays as it is; `bulletin.supervision` writes the audit record and the push)."""
    row = NoticeHistoryRow(
        notice_id=notice.id,
        at=utc_naive(at or datetime.now(UTC)),
        actor=who.name,
        role=who.role,
        action=SUPERVISE,
        from_status=notice.status,
        to_status=notice.status,
        comment=comment,
        attachments="[]",
    )
    s.add(row)
    s.flush()
    return row
