"""What each hazard type requires of the contractor, citing the standard, and by when.

The texts follow the domain brief's table (GB 2811-2019, JGJ 59-2011, JGJ 80-2016,
JGJ 130-2011); deadlines by level are configuration (`DeadlinePolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field

CHINA = timezone(timedelta(hours=8), "CST")


def china_time(stored: datetime) -> datetime:
    """A stored time (naive UTC) as a China wall-clock time."""
    return stored.replace(tzinfo=UTC).astimezone(CHINA)


def china_text(stored: datetime) -> str:
    """A stored time as people on site read it: '2026-11-23 07:00'."""
    return china_time(stored).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Measure:
    title_zh: str  # 问题 (the issue-list line)
    measure_zh: str  # 整改措施
    standards: tuple[str, ...]


MEASURES: dict[str, Measure] = {
    "no_helmet": Measure(
        "作业人员未佩戴安全帽",
        "立即停止违章作业；为进入施工现场的全部人员配发符合标准的安全帽并督促正确佩戴（系紧下颏带）；"
        "对相关人员进行安全教育并留存记录。",
        ("GB 2811-2019", "JGJ 59-2011"),
    ),
    "edge_unprotected": Measure(
        "临边、洞口防护缺失，人员在无防护临边作业",
        "立即撤离临边作业人员；按规范设置防护栏杆"
        "（上杆离地1.2 m、中间设横杆、底部设不低于180 mm挡脚板）并张挂密目安全网，洞口设置盖板或防护栏杆并设警示标志；验收合格后方可恢复作业。",
        ("JGJ 80-2016", "JGJ 59-2011"),
    ),
    "scaffold_unsafe": Measure(
        "脚手架作业不规范（作业层防护缺失或人员未佩戴安全帽）",
        "作业层外侧设置防护栏杆和挡脚板并满挂密目式安全立网；作业人员必须佩戴安全帽、系挂安全带；"
        "脚手架经检查验收合格后方可使用。",
        ("JGJ 130-2011", "JGJ 59-2011"),
    ),
    "protection_missing": Measure(
        "已验收的防护设施（防护栏杆/安全网/盖板）被拆除或缺失",
        "立即恢复被拆除的防护设施并重新验收；"
        "因作业需要临时拆除的，须经审批并采取替代防护措施，作业完毕立即恢复。",
        ("JGJ 80-2016", "JGJ 59-2011"),
    ),
}

HAZARD_NAMES_ZH = {
    "no_helmet": "未佩戴安全帽",
    "edge_unprotected": "临边、洞口防护缺失",
    "scaffold_unsafe": "脚手架不规范",
    "protection_missing": "防护设施缺失",
}
LEVEL_ZH = {"general": "一般隐患", "major": "重大隐患"}


class DeadlinePolicy(BaseModel):
    """整改时限: days after issue, the deadline being the end of that day in China time."""

    model_config = ConfigDict(extra="forbid")
    major_days: int = Field(0, ge=0, description="0 = the same day")
    general_days: int = Field(3, ge=0)

    def deadline(self, level: str, issued_at: datetime) -> datetime:
        days = self.major_days if level == "major" else self.general_days
        local = issued_at.astimezone(CHINA).date() + timedelta(days=days)
        return datetime.combine(local, time(23, 59, 59), CHINA)
