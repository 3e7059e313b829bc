"""What each hazard type requires of the contractor, citing the standard, and by when.

The texts follow the domain brief's table; the standards each cites are the hazard
catalogue's (`contract.hazards`: GB 2811-2019, JGJ 59-2011, JGJ 80-2016, JGJ 130-2011);
deadlines by level are configuration (`DeadlinePolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from siteguard.api.store.clock import CHINA
from siteguard.contract.hazards import CATALOGUE, HazardType


@dataclass(frozen=True)
class Measure:
    hazard_type: HazardType
    title_zh: str  # 问题 (the issue-list line)
    measure_zh: str  # 整改措施

    @property
    def standards(self) -> tuple[str, ...]:
        """The standards cited (the hazard catalogue's)."""
        return CATALOGUE[self.hazard_type].standards


MEASURES: dict[str, Measure] = {
    "no_helmet": Measure(
        HazardType.NO_HELMET,
        "作业人员未佩戴安全帽",
        "立即停止违章作业；为进入施工现场的全部人员配发符合标准的安全帽并督促正确佩戴（系紧下颏带）；"
        "对相关人员进行安全教育并留存记录。",
    ),
    "edge_unprotected": Measure(
        HazardType.EDGE_UNPROTECTED,
        "临边、洞口防护缺失，人员在无防护临边作业",
        "立即撤离临边作业人员；按规范设置防护栏杆"
        "（上杆离地1.2 m、中间设横杆、底部设不低于180 mm挡脚板）并张挂密目安全网，洞口设置盖板或防护栏杆并设警示标志；验收合格后方可恢复作业。",
    ),
    "scaffold_unsafe": Measure(
        HazardType.SCAFFOLD_UNSAFE,
        "脚手架作业不规范（作业层防护缺失或人员未佩戴安全帽）",
        "作业层外侧设置防护栏杆和挡脚板并满挂密目式安全立网；作业人员必须佩戴安全帽、系挂安全带；"
        "脚手架经检查验收合格后方可使用。",
    ),
    "protection_missing": Measure(
        HazardType.PROTECTION_MISSING,
        "已验收的防护设施（防护栏杆/安全网/盖板）被拆除或缺失",
        "立即恢复被拆除的防护设施并重新验收；"
        "因作业需要临时拆除的，须经审批并采取替代防护措施，作业完毕立即恢复。",
    ),
}


class DeadlinePolicy(BaseModel):
    """整改时限: days after issue, the deadline being the end of that day in China time,
    and never sooner than `min_hours` after issue (a major hazard issued at 23:16 is not
    due at 23:59 the same evening, but at the end of the next day)."""

    model_config = ConfigDict(extra="forbid")
    major_days: int = Field(0, ge=0, description="0 = the same day")
    general_days: int = Field(3, ge=0)
    min_hours: float = Field(
        4,
        ge=0,
        le=72,
        description="At least this long to rectify: a deadline sooner after issue moves "
        "to the end of the next day",
    )

    def deadline(self, level: str, issued_at: datetime) -> datetime:
        days = self.major_days if level == "major" else self.general_days
        at = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)  # naive: UTC
        local = at.astimezone(CHINA).date() + timedelta(days=days)
        due = datetime.combine(local, time(23, 59, 59), CHINA)
        while due - at < timedelta(hours=self.min_hours):
            due += timedelta(days=1)
        return due
