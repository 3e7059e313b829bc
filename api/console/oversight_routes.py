"""Console: the regulator's alerts and bulletin, the insurer's risk page."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from siteguard.api.access.keys import visible_projects
from siteguard.api.bulletin.alerts import alerts
from siteguard.api.console.deps import lang_of, login, render
from siteguard.api.deps import Sessions, Settings
from siteguard.api.documents.charts import line_chart
from siteguard.api.errors import Forbidden, Invalid
from siteguard.api.risk.model import RiskSettings
from siteguard.api.risk.portfolio import INSURER_ROLES, month_labels, portfolio
from siteguard.api.risk.signals import Period, portfolio_risk
from siteguard.api.store.clock import CHINA, now_naive
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.hazards import HAZARD_NAMES_ZH

router = APIRouter()


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, sessions: Sessions) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in ("regulator", "admin"):
        raise Forbidden("regulators only")
    with sessions() as s:
        feed = alerts(s, who, limit=200)
    local_now = datetime.now(CHINA)  # bulletins are China-time months
    last_month = (local_now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "alerts.html",
        who,
        csrf,
        alerts=feed,
        month=last_month,
        names=HAZARD_NAMES_ZH if lang_of(request) == "zh" else {},
    )


@router.get("/bulletin", response_class=HTMLResponse)
def bulletin_page(request: Request, month: str = "", jurisdiction: str = "") -> HTMLResponse:
    who, csrf = login(request)
    try:
        Period.month(month)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return render(
        request,
        "bulletin.html",
        who,
        csrf,
        month=month,
        jurisdiction=quote(jurisdiction),
    )


@router.get("/risk", response_class=HTMLResponse)
def risk_page(request: Request, sessions: Sessions, settings: Settings) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in (*INSURER_ROLES, "admin"):
        raise Forbidden("insurers only")
    now = now_naive()
    period = Period.rolling(now)
    charts = {}
    with sessions() as s:
        rows = portfolio(s, who, period, settings)
        projects = visible_projects(s, who)
        labels = month_labels(now, 6)

        def cfg_of(p: ProjectRow) -> RiskSettings:
            return settings.risk_for(p.risk_product)

        months = [portfolio_risk(s, projects, Period.month(m), cfg_of) for m in labels]
        for p in projects:
            cfg = cfg_of(p)
            points = [(m, month[p.id][0].factor) for m, month in zip(labels, months, strict=True)]
            charts[p.site_id] = line_chart(points, "", lo=1 - cfg.band, hi=1 + cfg.band, height=120)
    return render(request, "risk.html", who, csrf, rows=rows, charts=charts, period=period.label)
