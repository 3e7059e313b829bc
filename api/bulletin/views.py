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


class BulletinOut(BaseModel):
    jurisdiction: str
    month: str
    period: BulletinPeriodOut
    projects_registered: int
    projects_watched: int
    camera_hours: float
    hazards: int
    hazards_by_type: dict[str, int]
    hazards_by_type_zh: dict[str, int]
    hazards_by_level: dict[str, int]
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
