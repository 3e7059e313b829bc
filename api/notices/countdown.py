"""How long is left until a deadline, or how long it is past: '剩余 2 天 5 小时' /
'已逾期 6 天' ('2 d 5 h left' / '6 d overdue'). Worked out on the server from stored times
(naive UTC), so every reader sees the same figure whatever their device's clock or zone;
the deadline itself is shown in China time beside it."""

from __future__ import annotations

import math
from datetime import datetime

DAY, HOUR, MINUTE = 86400, 3600, 60

_WORDS = {
    "zh": {
        "left_dh": "剩余 {d} 天 {h} 小时",
        "left_h": "剩余 {h} 小时",
        "left_m": "剩余 {m} 分钟",
        "late_d": "已逾期 {d} 天",
        "late_h": "已逾期 {h} 小时",
        "late_m": "已逾期 {m} 分钟",
    },
    "en": {
        "left_dh": "{d} d {h} h left",
        "left_h": "{h} h left",
        "left_m": "{m} min left",
        "late_d": "{d} d overdue",
        "late_h": "{h} h overdue",
        "late_m": "{m} min overdue",
    },
}


def seconds_left(deadline: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` to ``deadline`` (both naive UTC); negative once past it
    (a deadline is overdue when ``now`` is after it, as escalation counts it)."""
    return math.floor((deadline - now).total_seconds())


def countdown_text(seconds: int, lang: str = "zh") -> str:
    """Left: days and hours (hours, or minutes, on the last day), rounded down; past:
    whole days overdue (hours, or minutes, within the first day)."""
    words = _WORDS.get(lang, _WORDS["zh"])
    if seconds >= 0:
        d, rest = divmod(seconds, DAY)
        h, m = rest // HOUR, max(1, rest % HOUR // MINUTE)
        if d:
            return words["left_dh"].format(d=d, h=h)
        return words["left_h"].format(h=h) if h else words["left_m"].format(m=m)
    late = -seconds
    if late >= DAY:
        return words["late_d"].format(d=late // DAY)
    if late >= HOUR:
        return words["late_h"].format(h=late // HOUR)
    return words["late_m"].format(m=max(1, late // MINUTE))
