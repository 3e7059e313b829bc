"""Console: the home page of every role: the dashboard (open, overdue, major, closed this
week; a 7/30-day trend of new hazards; projects ranked by open major hazards) over the
project cards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from siteguard.api.console.charts import trend_svg
from siteguard.api.console.deps import login, render
from siteguard.api.deps import Sessions, Settings
from siteguard.api.overview.figures import TREND_DAYS, figures
from siteguard.api.sites.overview import project_overview

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        fig = figures(s, who, days)
        projects = project_overview(s, who, settings.cameras)
    days = len(fig.trend)
    return render(
        request,
        "sites.html",
        who,
        csrf,
        projects=projects,
        fig=fig,
        days=days,
        trend_days=TREND_DAYS,
        trend=trend_svg(fig.trend, fig.trend_max),
    )
