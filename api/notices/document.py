"""The Chinese wording of where a notice stands, as the printed page and the PDF write it
(签收, 复查意见, 最终状态, each item's state and countdown): one source for both."""

from __future__ import annotations

from typing import Any

from siteguard.api.notices.countdown import countdown_text
from siteguard.api.notices.progress import ITEM_STATUS_ZH, NOTICE_STATUS_ZH

FALSE_ALARM = "false alarm: "  # how `workflow.dismiss` writes a dismissal's resolution


def _check(c: dict[str, Any] | None) -> str:
    if c is None:
        return ""
    result = "复查通过" if c["result"] == "accepted" else "复查不通过"
    opinion = f"：{c['comment']}" if c["comment"].strip() else ""
    return f"{result}{opinion}（复查人 {c['by']}，{c['at_local']}）"


def _final(n: dict[str, Any]) -> str:
    status = NOTICE_STATUS_ZH.get(n["status"], n["status"])
    closure = n["progress"]["closure"]
    if closure is not None:
        how = "复查通过" if closure["action"] == "accept" else "隐患均判为误报"
        return f"{status}（{how}，{closure['at_local']}）"
    if n["due_in_s"] is not None:
        return f"{status}（{countdown_text(n['due_in_s'], 'zh')}）"
    return status


def item_lines(item: dict[str, Any]) -> dict[str, str]:
    """One item's state, countdown and (dismissed) reason in Chinese."""
    reason = item["resolution"]
    return {
        "status": ITEM_STATUS_ZH.get(item["status"], item["status"]),
        "countdown": "" if item["due_in_s"] is None else countdown_text(item["due_in_s"], "zh"),
        "dismissed": reason.removeprefix(FALSE_ALARM) if item["status"] == "dismissed" else "",
    }


def notice_lines(n: dict[str, Any]) -> dict[str, Any]:
    """The notice's 签收, 复查意见 and 最终状态 lines (empty where nothing happened yet,
    so a fresh notice prints empty boxes to sign by hand), and each item's lines by no."""
    signed = n["progress"]["acknowledged"]
    return {
        "signed": f"{signed['by']}（{signed['at_local']}）" if signed else "",
        "check": _check(n["reinspection"]),
        "final": _final(n),
        "replied": sum(1 for it in n["items"] if it["replies"]),
        "items": {it["no"]: item_lines(it) for it in n["items"]},
    }
