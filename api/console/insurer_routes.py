"""Console: the insurer's risk page (portfolio summary, sortable table, one project
explained: waterfall, gauge, rate and premium, signals, 6-month chart)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from siteguard.api.console.deps import lang_of, login, render
from siteguard.api.deps import Sessions, Settings
from siteguard.api.documents.charts import gauge_chart, line_chart, waterfall_chart
from siteguard.api.errors import Forbidden
from siteguard.api.risk.explain import period_text, words
from siteguard.api.risk.overview import DEFAULT_CONTRACT_VALUE, SORTS, risk_page, shown
from siteguard.api.risk.portfolio import INSURER_ROLES
from siteguard.api.store.clock import china_time

router = APIRouter()


@router.get("/risk", response_class=HTMLResponse)
def risk_view(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    sort: Literal["factor", "band", "trend", "project"] = "factor",
    order: Literal["asc", "desc"] | None = None,
    site: Annotated[str | None, Query(max_length=64)] = None,
    contract_value: Annotated[float, Query(gt=0, le=1e13)] = DEFAULT_CONTRACT_VALUE,
) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in (*INSURER_ROLES, "admin"):
        raise Forbidden("insurers only")
    lang = lang_of(request)
    order = order or ("asc" if sort == "project" else "desc")
    with sessions() as s:
        data = risk_page(s, who, settings, lang, sort, order, site, contract_value)
    tr = words(lang)
    detail = data["detail"]
    figures = {}
    if detail is not None:
        r = detail["row"]
        lo, hi = r["band_limits"]
        steps = [(st["text"], st["milli"]) for st in detail["steps"]]
        figures = {
            "waterfall": waterfall_chart(steps, tr("start"), tr("total")),
            "gauge": gauge_chart(shown(r["factor"]), lo, hi, tr("gauge")),
            "chart": line_chart(detail["chart"], "", lo=lo, hi=hi, width=360, height=170),
        }
    trend_chart = line_chart(data["trend"], "", width=360, height=150)
    period = data["period"]
    return render(
        request,
        "risk.html",
        who,
        csrf,
        tr=tr,
        data=data,
        figures=figures,
        trend_chart=trend_chart,
        sorts=SORTS,
        shown=shown,
        period=period_text(period, lang),
        as_of=f"{china_time(data['end']):%H:%M}",
    )
