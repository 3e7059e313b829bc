"""The states a hazard and a notice go through (stored as their text values)."""

from __future__ import annotations

from enum import StrEnum


class HazardStatus(StrEnum):
    OPEN = "open"  # 待处理: found, on no notice yet
    ISSUED = "issued"  # on a notice being rectified
    ESCALATED = "escalated"  # a major hazard's notice is overdue (pushed to the platform)
    CLOSED = "closed"  # rectified and re-inspected
    DISMISSED = "dismissed"  # a false alarm, with the inspector's reason


# hazards that still need someone
OPEN_STATUSES = (HazardStatus.OPEN, HazardStatus.ISSUED, HazardStatus.ESCALATED)


class NoticeStatus(StrEnum):
    ISSUED = "issued"  # 已签发
    RECTIFYING = "rectifying"  # 整改中 (acknowledged, or a reply was rejected)
    SUBMITTED = "submitted"  # 待复查: the contractor replied with proof
    CLOSED = "closed"  # 已闭环: re-inspected and accepted


# what a Chinese reader calls each state (the console's words, for the domain's refusals)
STATUS_ZH = {
    "open": "待处理",
    "issued": "已签发",
    "escalated": "已升级",
    "closed": "已关闭",
    "dismissed": "误报",
    "rectifying": "整改中",
    "submitted": "待复查",
}


def status_zh(status: str) -> str:
    return STATUS_ZH.get(status, status)
