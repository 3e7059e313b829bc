"""The insurer's view: insured projects with score, factor, trend and reasons; one
project's monthly history; a premium estimate; CSV/JSON export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from siteguard.api.auth import Caller, Principal, check_site, visible_projects
from siteguard.api.deps import Db
from siteguard.api.push import now_naive
from siteguard.api.risk import RiskSettings
from siteguard.api.risk_signals import Period, portfolio_risk, project_risk, risk_json
from siteguard.api.settings import ApiSettings
from siteguard.api.tables import ProjectRow

router = APIRouter()
MonthParam = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default: the last 30 days"),
]
INSURER_ROLES = ("insurer", "inspector")


def period_of(month: str | None, now: datetime | None = None) -> Period:
    if month is None:
        return Period.rolling(now or now_naive())
    try:
        return Period.month(month)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None


def trend(current: float, previous: float) -> str:
    delta = current - previous
    return "rising" if delta > 0.005 else "falling" if delta < -0.005 else "steady"


def portfolio(
    s: Session, who: Principal, period: Period, settings: ApiSettings
) -> list[dict[str, Any]]:
    """Every visible project's risk this period, with its trend against the previous one,
    riskiest first (all projects' records are loaded together: a few queries per period)."""
    projects = visible_projects(s, who)

    def cfg_of(p: ProjectRow) -> RiskSettings:
        return settings.risk_for(p.risk_product)

    now = portfolio_risk(s, projects, period, cfg_of)
    before = portfolio_risk(s, projects, period.previous(), cfg_of)
    rows = []
    for p in projects:
        a, d = now[p.id]
        prev = before[p.id][0].factor
        rows.append(
            dict(
                risk_json(p, period, a, d, cfg_of(p)),
                previous_factor=prev,
                trend=trend(a.factor, prev),
            )
        )
    return sorted(rows, key=lambda r: -r["factor"])


CSV_COLUMNS = [
    "site_id",
    "name",
    "policy_no",
    "score",
    "factor",
    "band_percent",
    "rate_per_mille",
    "confidence",
    "trend",
    "inspection",
    "reasons",
]


def portfolio_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([" | ".join(r[c]) if c == "reasons" else r[c] for c in CSV_COLUMNS])
    return out.getvalue()


@router.get(
    "/api/v1/insurer/projects",
    summary="Insured projects, riskiest first: score, factor in the band, trend, reasons",
    response_model=None,
)
def list_insured(
    request: Request,
    db: Db,
    who: Caller,
    month: MonthParam = None,
    format: Literal["json", "csv"] = "json",
) -> list[dict[str, Any]] | Response:
    who.require(*INSURER_ROLES)
    rows = portfolio(db, who, period_of(month), request.app.state.services.settings)
    if format == "csv":
        return Response(
            portfolio_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="siteguard-risk.csv"'},
        )
    return rows


def _insured(db: Session, who: Principal, site_id: str) -> ProjectRow:
    who.require(*INSURER_ROLES)
    p = check_site(db, who, site_id)
    if p is None:
        raise HTTPException(404, detail=f"no project with site_id {site_id!r}")
    return p


def month_labels(end: datetime, months: int) -> list[str]:
    """The `months` China-time months up to the one holding `end` (naive UTC), oldest first."""
    local = end + timedelta(hours=8)
    labels, y, m = [], local.year, local.month
    for _ in range(months):
        labels.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return labels[::-1]


@router.get(
    "/api/v1/insurer/projects/{site_id}/history",
    summary="One project's risk month by month (oldest first)",
)
def project_history(
    site_id: str,
    request: Request,
    db: Db,
    who: Caller,
    months: Annotated[int, Query(ge=1, le=36)] = 6,
    until: MonthParam = None,
) -> list[dict[str, Any]]:
    p = _insured(db, who, site_id)
    end = period_of(until).start if until else now_naive()
    settings: ApiSettings = request.app.state.services.settings
    cfg = settings.risk_for(p.risk_product)
    out = []
    for label in month_labels(end, months):
        period = Period.month(label)
        a, d = project_risk(db, p, period, cfg)
        out.append(risk_json(p, period, a, d, cfg))
    return out


@router.get(
    "/api/v1/insurer/projects/{site_id}/premium",
    summary="Premium estimate for a contract value at the project's adjusted rate",
)
def premium(
    site_id: str,
    request: Request,
    db: Db,
    who: Caller,
    contract_value: Annotated[float, Query(gt=0, le=1e13, description="contract value, CNY")],
    month: MonthParam = None,
) -> dict[str, Any]:
    p = _insured(db, who, site_id)
    settings: ApiSettings = request.app.state.services.settings
    cfg = settings.risk_for(p.risk_product)
    period = period_of(month)
    a, _ = project_risk(db, p, period, cfg)
    base = contract_value * cfg.base_rate_per_mille / 1000
    return {
        "site_id": site_id,
        "period": period.label,
        "contract_value": contract_value,
        "base_rate_per_mille": cfg.base_rate_per_mille,
        "factor": a.factor,
        "rate_per_mille": a.rate_per_mille,
        "base_premium": round(base, 2),
        "premium": round(a.premium(contract_value), 2),
        "premium_range": [
            round(base * (1 - cfg.band), 2),
            round(base * (1 + cfg.band), 2),
        ],
        "confidence": a.confidence,
        "reasons": a.reasons,
    }
