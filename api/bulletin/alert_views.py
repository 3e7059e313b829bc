"""Response and request models of the regulator's alerts view, 已阅 marks and 督办."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from siteguard.api.hazards.views import HazardOut


class ReadMarkOut(BaseModel):
    by: str
    at: str


class NoticeRefOut(BaseModel):
    id: int
    number: str


class AlertItemOut(BaseModel):
    type: Literal["major_hazard", "escalation"]
    key: str  # "<type>-<hazard id>"
    at: str
    site_name: str
    jurisdiction: str
    hazard: HazardOut
    evidence_url: str | None
    read: ReadMarkOut | None  # the caller's 已阅 mark
    supervisions: int  # 督办 records of the hazard
    notice: NoticeRefOut | None


class AlertSummaryOut(BaseModel):
    unread: int
    major: int
    escalated: int


class AlertListOut(BaseModel):
    alerts: list[AlertItemOut]
    total: int
    page: int
    pages: int
    per_page: int
    summary: AlertSummaryOut
    counts: dict[str, dict[str, int]]  # filter -> value -> alerts ("" = any value)
    cursor: int


class AlertRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["major_hazard", "escalation"]
    hazard_id: int = Field(ge=1, le=2_147_483_647)


class ReadManyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alerts: list[AlertRef] = Field(min_length=1, max_length=500)


class ReadOut(BaseModel):
    marked: int  # newly marked (already read ones are left as they were)


class SupervisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requirement: str = Field(min_length=1, max_length=2000, description="what must be done")
    deadline: datetime | None = Field(None, description="by when (ISO 8601; naive = UTC)")


class SupervisionOut(BaseModel):
    id: int
    hazard_id: int
    notice: str | None
    at: str
    by: str
    role: str
    jurisdiction: str
    requirement: str
    deadline: str | None
