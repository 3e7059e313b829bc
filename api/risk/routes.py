"""The insurer's view: insured projects with score, factor, trend and reasons; one
project's monthly history; a premium estimate; CSV/JSON export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from siteguard.api.deps import Caller, Db, Settings, SiteId
from siteguard.api.risk.explain import period_text
from siteguard.api.risk.export import portfolio_xlsx
from siteguard.api.risk.portfolio import (
    INSURER_ROLES,
    insured_project,
    period_of,
    portfolio,
    portfolio_csv,
    premium_estimate,
    project_history,
)
from siteguard.api.risk.views import PortfolioRowOut, PremiumOut, RiskOut
from siteguard.api.store.clock import now_naive

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(prefix="/api/v1/insurer", tags=["risk"])
MonthParam = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default: the last 30 days"),
]


@router.get(
    "/projects",
    summary="Insured projects, riskiest first: score, factor in the band, trend, reasons",
    response_model=list[PortfolioRowOut],
    responses={
        200: {
            "content": {"text/csv": {}, XLSX: {}},
            "description": "JSON, CSV with format=csv, an Excel workbook with format=xlsx",
        }
    },
)
def list_insured(
    db: Db,
    who: Caller,
    settings: Settings,
    month: MonthParam = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: Literal["en", "zh"] = "en",
) -> Any:
    who.require(*INSURER_ROLES)
    period = period_of(month)
    rows = portfolio(db, who, period, settings)
    if format == "xlsx":
        return Response(
            portfolio_xlsx(rows, period_text(period, lang), lang),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="siteguard-risk.xlsx"'},
        )
    if format == "csv":
        return Response(
            portfolio_csv(rows, lang),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="siteguard-risk.csv"'},
        )
    return rows


@router.get(
    "/projects/{site_id}/history",
    summary="One project's risk month by month (oldest first)",
    response_model=list[RiskOut],
)
def get_project_history(
    site_id: SiteId,
    db: Db,
    who: Caller,
    settings: Settings,
    months: Annotated[int, Query(ge=1, le=36)] = 6,
    until: MonthParam = None,
) -> list[dict[str, Any]]:
    p = insured_project(db, who, site_id)
    end = period_of(until).start if until else now_naive()
    return project_history(db, p, end, months, settings)


@router.get(
    "/projects/{site_id}/premium",
    summary="Premium estimate for a contract value at the project's adjusted rate",
    response_model=PremiumOut,
)
def premium(
    site_id: SiteId,
    db: Db,
    who: Caller,
    settings: Settings,
    contract_value: Annotated[float, Query(gt=0, le=1e13, description="contract value, CNY")],
    month: MonthParam = None,
) -> dict[str, Any]:
    p = insured_project(db, who, site_id)
    return premium_estimate(db, p, contract_value, period_of(month), settings)
