"""The contractor's replies to a notice's items (整改回复, one per item, with proof photos).

A notice is re-inspected in rounds: round 1 until the first rejection, round 2 after it,
and so on. A reply belongs to the round it was given in. The contractor answers the items
one by one (or sends one reply for every item not yet answered: the whole-notice reply of
the API's ``submit``), then submits the notice for re-inspection (`workflow.apply`):

- every open item (its hazard neither closed nor dismissed) must have a reply;
- after a rejection, at least one of them must be new (given in the current round), so a
  rejected reply is not sent back unchanged.

Replies are never changed: answering an item again adds a row, the latest one counts.
Each is recorded in the audit chain (``notice.item_reply``, the notice's state unchanged)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.errors import Invalid
from siteguard.api.records import audit
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import china_text, iso, utc_naive
from siteguard.api.store.tables import (
    NoticeHistoryRow,
    NoticeItemReplyRow,
    NoticeItemRow,
    NoticeRow,
)

VIA_ITEM, VIA_NOTICE = "item", "notice"


def is_open(item: NoticeItemRow) -> bool:
    """The item still needs the contractor: its hazard is neither closed nor dismissed."""
    return item.hazard.status not in (HazardStatus.CLOSED, HazardStatus.DISMISSED)


def current_round(s: Session, notice_id: int) -> int:
    """1 + the rejections the notice has had so far."""
    rejected = s.scalar(
        select(func.count())
        .select_from(NoticeHistoryRow)
        .where(NoticeHistoryRow.notice_id == notice_id, NoticeHistoryRow.action == "reject")
    )
    return 1 + (rejected or 0)


def replies_by_item(s: Session, notice_id: int) -> dict[int, list[NoticeItemReplyRow]]:
    """Every reply to the notice's items, oldest first, by item id."""
    out: dict[int, list[NoticeItemReplyRow]] = defaultdict(list)
    for r in s.scalars(
        select(NoticeItemReplyRow)
        .where(NoticeItemReplyRow.notice_id == notice_id)
        .order_by(NoticeItemReplyRow.id)
    ):
        out[r.item_id].append(r)
    return out


def add_reply(
    s: Session,
    notice: NoticeRow,
    no: int,
    who: Principal,
    text: str,
    attachments: list[str],
    via: str = VIA_ITEM,
    at: datetime | None = None,
) -> NoticeItemReplyRow:
    """Store the reply to item ``no`` (1-based) and record it in the audit chain; the
    caller holds the notice's lock and has checked the state and the role."""
    if not text.strip():
        raise Invalid(
            f"the reply to item {no} must say what was done", f"第 {no} 项的回复须说明整改情况"
        )
    if not attachments:
        raise Invalid(
            f"the reply to item {no} needs at least one proof photo",
            f"第 {no} 项的回复须附至少一张整改照片",
        )
    item = notice.items[no - 1]
    row = NoticeItemReplyRow(
        notice_id=notice.id,
        item_id=item.id,
        round=current_round(s, notice.id),
        via=via,
        at=utc_naive(at or datetime.now(UTC)),
        actor=who.name,
        role=who.role,
        text=text.strip(),
        attachments=json.dumps(attachments),
    )
    s.add(row)
    s.flush()
    audit.append(
        s,
        who.name,
        "notice.item_reply",
        "notice",
        notice.number,
        {
            "from": notice.status,
            "to": notice.status,  # a reply changes no state
            "item": no,
            "hazard": item.hazard_id,
            "round": row.round,
            "via": via,
            "reply": row.text,
            "attachments": attachments,
        },
    )
    return row


def prepare_submission(
    s: Session,
    notice: NoticeRow,
    who: Principal,
    reply: str,
    attachments: list[str],
    at: datetime | None = None,
) -> list[str]:
    """Before the notice goes to re-inspection: a whole-notice reply (text + photos) is
    stored as the reply of every open item with none in this round; without one, every
    open item must already have a reply (and, after a rejection, one at least a new one).
    Returns the proof photos the submission carries."""
    if reply.strip() or attachments:
        if not attachments:
            raise Invalid(
                "a rectification reply needs at least one proof photo",
                "整改回复须附至少一张整改照片",
            )
        if not reply.strip():
            raise Invalid("a rectification reply must say what was done", "整改回复须说明整改情况")
        rnd = current_round(s, notice.id)
        replies = replies_by_item(s, notice.id)
        for no, item in enumerate(notice.items, 1):
            if is_open(item) and not any(r.round == rnd for r in replies.get(item.id, [])):
                add_reply(s, notice, no, who, reply, attachments, VIA_NOTICE, at)
        return attachments
    rnd = current_round(s, notice.id)
    replies = replies_by_item(s, notice.id)
    open_items = [(no, it) for no, it in enumerate(notice.items, 1) if is_open(it)]
    missing = [no for no, it in open_items if not replies.get(it.id)]
    if missing:
        raise Invalid(
            f"items {', '.join(map(str, missing))} have no reply yet: reply to each item "
            "(text and proof photos) before submitting, or send one reply with photos for all",
            f"第 {'、'.join(map(str, missing))} 项尚未回复：请逐项回复（说明和整改照片）后再提交，"
            "或填写一份带照片的总回复",
        )
    latest = [replies[it.id][-1] for _no, it in open_items]
    if rnd > 1 and not any(r.round == rnd for r in latest):
        raise Invalid(
            "the last re-inspection rejected these replies: reply again to the items it "
            "names before submitting",
            "上次复查未通过：请先重新回复被退回的整改项，再提交",
        )
    photos: list[str] = []
    for r in latest:
        photos += [p for p in json.loads(r.attachments) if p not in photos]
    return photos


def reply_json(r: NoticeItemReplyRow, rnd: int) -> dict[str, Any]:
    """A reply as the JSON and the pages show it (``current``: given in round ``rnd``)."""
    return {
        "round": r.round,
        "via": r.via,
        "at": iso(r.at),
        "at_local": china_text(r.at),
        "actor": r.actor,
        "text": r.text,
        "attachments": json.loads(r.attachments or "[]"),
        "current": r.round == rnd,
    }
