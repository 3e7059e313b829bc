"""`GET /api/v1/overview`: the home dashboard's figures, in the caller's scope."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from siteguard.api.access.keys import PEOPLE
from siteguard.api.deps import Caller, Db
from siteguard.api.errors import Invalid
from siteguard.api.overview.figures import TREND_DAYS, figures

router = APIRouter(tags=["overview"])


class DayOut(BaseModel):
    day: str
    general: int
    major: int


class RankOut(BaseModel):
    site_id: str
    name: str
    open: int
    open_major: int


class OverviewOut(BaseModel):
    open: int
    open_major: int
    overdue: int
    closed_week: int
    trend: list[DayOut]
    ranking: list[RankOut]


@router.get(
    "/api/v1/overview",
    summary="The dashboard: open / major / overdue / closed in 7 days, new hazards per China "
    "day, projects by open major hazards (every role but edge, each in its own scope)",
    response_model=OverviewOut,
)
def overview(
    db: Db,
    who: Caller,
    days: Annotated[int, Query(description=f"trend length: one of {TREND_DAYS}")] = 7,
) -> dict[str, Any]:
    who.require(*PEOPLE)
    if days not in TREND_DAYS:
        raise Invalid(f"days: one of {', '.join(map(str, TREND_DAYS))}")
    return asdict(figures(db, who, days))
