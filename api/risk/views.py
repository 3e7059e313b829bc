"""Response models of the insurer's views."""

from __future__ import annotations

from pydantic import BaseModel


class PeriodOut(BaseModel):
    label: str
    start: str
    end: str


class SignalsOut(BaseModel):
    camera_hours: float
    scheduled_camera_hours: float
    general_hazards: int
    major_hazards: int
    repeat_hazards: int
    notices: int
    closed_on_time: int
    unrectified_major: int
    rejected_rectifications: int


class RiskOut(BaseModel):
    site_id: str
    name: str
    policy_no: str
    jurisdiction: str
    period: PeriodOut
    score: float
    factor: float
    band_percent: int
    base_rate_per_mille: float
    rate_per_mille: float
    band_limits: list[float]
    confidence: float
    inspection: str
    reasons: list[str]
    reasons_zh: list[str]
    components: dict[str, float]
    contributions: dict[str, float]
    factor_contributions: dict[str, float]
    signals: SignalsOut
    median_days_to_close: float | None
    overdue_items: int
    dismissed_false_alarms: int
    hazards_by_type: dict[str, int]


class PortfolioRowOut(RiskOut):
    previous_factor: float
    trend: str


class PremiumOut(BaseModel):
    site_id: str
    period: str
    contract_value: float
    base_rate_per_mille: float
    factor: float
    rate_per_mille: float
    base_premium: float
    premium: float
    premium_range: list[float]
    confidence: float
    reasons: list[str]
