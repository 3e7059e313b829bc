"""Response models of the regulator's views."""

from __future__ import annotations

from pydantic import BaseModel

from siteguard.api.hazards.views import HazardOut


class AlertOut(BaseModel):
    type: str  # major_hazard | escalation
    at: str
    site_name: str
    jurisdiction: str
    hazard: HazardOut


class BulletinPeriodOut(BaseModel):
    start: str
    end: str


class BulletinProjectOut(BaseModel):
    site_id: str
    name: str
    contractor: str
    camera_hours: float
    hazards: int
    major: int
    dismissed: int
    notices: int
    notice_items: int
    items_closed: int
    items_on_time: int
    overdue: int
    escalations: int
    score: float
    factor: float
    confidence: float
    inspection: str
    reasons: list[str]
    reasons_zh: list[str]


class BulletinDocumentOut(BaseModel):
    number: str | None  # 文号, e.g. 包建安〔2026〕11号; None: the jurisdiction is not configured
    authority: str | None  # 发文机关; None: not configured
    issue_date: str  # ISO date (China calendar)
    configured: bool


class BulletinChangeOut(BaseModel):
    """One key figure against the previous month (环比)."""

    key: str
    unit: str  # count | hours | rate
    value: float | None
    previous: float | None
    delta: float | None  # rates: as a fraction (0.031 = 3.1 percentage points)
    percent: float | None  # counts only, of last month's figure; None when it was 0
    direction: str | None  # up | down | flat
    assessment: str  # better | worse | neutral


class BulletinTrendOut(BaseModel):
    months: list[str]  # oldest first, ending with the bulletin's month
    series: dict[str, list[float | None]]


class BulletinOut(BaseModel):
    jurisdiction: str
    month: str
    document: BulletinDocumentOut
    period: BulletinPeriodOut
    projects_registered: int
    projects_watched: int
    camera_hours: float
    hazards: int
    hazards_by_type: dict[str, int]
    hazards_by_type_zh: dict[str, int]
    hazards_by_level: dict[str, int]
    hazards_by_type_level: dict[str, dict[str, int]]
    major_hazards: int
    dismissed_false_alarms: int
    notices_issued: int
    notice_items: int
    rectified: int
    rectification_rate: float | None
    on_time_rate: float | None
    overdue_at_month_end: int
    escalations: int
    top_risk: list[BulletinProjectOut]
    projects: list[BulletinProjectOut]
    previous_month: str
    changes: list[BulletinChangeOut]
    trend: BulletinTrendOut
