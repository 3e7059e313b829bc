"""Where a notice stands, item by item: each item's state in step with the notice, its
replies, its countdown; the re-inspection's result; who signed for it and how it closed.
What the JSON, the console page, the printed page and the PDF show beyond the notice as
issued (`views.notice_view`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from siteguard.api.notices.countdown import seconds_left
from siteguard.api.notices.queries import notice_history
from siteguard.api.notices.replies import current_round, is_open, replies_by_item, reply_json
from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.clock import china_text, iso
from siteguard.api.store.tables import NoticeHistoryRow, NoticeItemRow, NoticeRow


class ItemStatus(StrEnum):
    ISSUED = "issued"  # 已签发: the notice is not signed for yet
    RECTIFYING = "rectifying"  # 整改中: no reply yet
    REPLIED = "replied"  # 已回复: answered in this round, not yet submitted
    RETURNED = "returned"  # 复查退回: its reply was in the rejected submission
    SUBMITTED = "submitted"  # 待复查
    CLOSED = "closed"  # 已关闭: re-inspected and accepted
    DISMISSED = "dismissed"  # 误报


ITEM_STATUS_ZH = {
    ItemStatus.ISSUED: "已签发",
    ItemStatus.RECTIFYING: "整改中",
    ItemStatus.REPLIED: "已回复",
    ItemStatus.RETURNED: "复查退回",
    ItemStatus.SUBMITTED: "待复查",
    ItemStatus.CLOSED: "已关闭",
    ItemStatus.DISMISSED: "误报",
}
NOTICE_STATUS_ZH = {
    NoticeStatus.ISSUED: "已签发",
    NoticeStatus.RECTIFYING: "整改中",
    NoticeStatus.SUBMITTED: "待复查",
    NoticeStatus.CLOSED: "已关闭",
}


def item_status(notice_status: str, item: NoticeItemRow, replied_in: int | None, rnd: int) -> str:
    """The item's state: its hazard's end (closed, dismissed) first, else the notice's,
    and while rectifying whether it has its reply (``replied_in``: the latest reply's
    round, None: no reply)."""
    if item.hazard.status == HazardStatus.DISMISSED:
        return ItemStatus.DISMISSED
    if item.hazard.status == HazardStatus.CLOSED or notice_status == NoticeStatus.CLOSED:
        return ItemStatus.CLOSED
    if notice_status == NoticeStatus.ISSUED:
        return ItemStatus.ISSUED
    if notice_status == NoticeStatus.SUBMITTED:
        return ItemStatus.SUBMITTED
    if replied_in is None:
        return ItemStatus.RECTIFYING
    return ItemStatus.REPLIED if replied_in == rnd else ItemStatus.RETURNED


def notice_due(n: NoticeRow, now: datetime) -> int | None:
    """Seconds to the earliest deadline of the notice's open items (negative: overdue);
    None once nothing on it is open or it is closed."""
    if n.status == NoticeStatus.CLOSED:
        return None
    deadlines = [it.deadline for it in n.items if is_open(it)]
    return seconds_left(min(deadlines), now) if deadlines else None


def _entry(r: NoticeHistoryRow | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "action": r.action,
        "at": iso(r.at),
        "at_local": china_text(r.at),
        "by": r.actor,
        "comment": r.comment,
    }


def notice_progress(s: Session, n: NoticeRow, now: datetime) -> dict[str, Any]:
    """The notice's standing now (``now``: naive UTC): per item (by item id) its state,
    overdue flag, seconds to its deadline and replies; for the notice its round, whether
    it is overdue, the last re-inspection, the sign-off (签收) and the closure."""
    history = notice_history(s, n.id)
    rnd = current_round(s, n.id)
    replies = replies_by_item(s, n.id)
    items: dict[int, dict[str, Any]] = {}
    for it in n.items:
        rows = replies.get(it.id, [])
        open_ = is_open(it) and n.status != NoticeStatus.CLOSED
        due = seconds_left(it.deadline, now) if open_ else None
        items[it.id] = {
            "status": item_status(n.status, it, rows[-1].round if rows else None, rnd),
            "open": open_,
            "due_in_s": due,
            "overdue": due is not None and due < 0,
            "escalated": it.hazard.status == HazardStatus.ESCALATED,
            "resolution": it.hazard.resolution,
            "replies": [reply_json(r, rnd) for r in rows],
        }
    checks = [r for r in history if r.action in ("accept", "reject")]
    check = _entry(checks[-1] if checks else None)
    if check is not None:
        check["result"] = "accepted" if check["action"] == "accept" else "rejected"
    due = notice_due(n, now)
    open_items = [v for v in items.values() if v["open"]]
    return {
        "round": rnd,
        "due_in_s": due,
        "overdue": due is not None and due < 0,
        "items": items,
        "reinspection": check,
        "rejected": n.status == NoticeStatus.RECTIFYING
        and check is not None
        and check["result"] == "rejected",
        "acknowledged": _entry(next((r for r in history if r.action == "acknowledge"), None)),
        "closure": _entry(
            next((r for r in reversed(history) if r.to_status == NoticeStatus.CLOSED), None)
        ),
        "answered": sum(1 for v in open_items if v["replies"]),
        "open_items": len(open_items),
        # open items without a reply in this round (after a rejection: all, at first)
        "stale": sum(1 for v in open_items if not any(r["current"] for r in v["replies"])),
        "fresh": any(r["current"] for v in open_items for r in v["replies"][-1:]),
    }
