"""The regulator's view: an alerts feed (major hazards, escalations) and the monthly
bulletin per jurisdiction as JSON, a page with charts, a PDF to file and an Excel workbook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from siteguard.api.bulletin.alert_views import (
    AlertListOut,
    ReadManyIn,
    ReadOut,
    SupervisionIn,
    SupervisionOut,
)
from siteguard.api.bulletin.alerts import (
    PER_PAGE,
    AlertFilter,
    alert_json,
    alert_page,
    alerts,
    mark_read,
)
from siteguard.api.bulletin.render import bulletin_html, bulletin_pdf
from siteguard.api.bulletin.report import bulletin_for
from siteguard.api.bulletin.supervision import hazard_supervisions, supervise, supervision_json
from siteguard.api.bulletin.views import AlertOut, BulletinOut
from siteguard.api.bulletin.workbook import bulletin_workbook
from siteguard.api.deps import Caller, Db, RecordId, Sessions, Settings
from siteguard.api.notices.queries import notice_of_hazard
from siteguard.api.store.clock import utc_naive

router = APIRouter(tags=["regulator"])
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
Lang = Annotated[str, Query(pattern=r"^(zh|en)$", description="zh (default) or en")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/api/v1/regulator/alerts",
    summary="Major hazards and overdue escalations in the caller's jurisdiction, newest first",
    response_model=list[AlertOut],
)
def alerts_feed(
    db: Db,
    who: Caller,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    who.require("regulator")
    return alerts(db, who, utc_naive(since) if since else None, limit)


@router.get(
    "/api/v1/regulator/bulletin",
    summary="Monthly bulletin for the jurisdiction (JSON)",
    response_model=BulletinOut,
)
def bulletin_json(
    db: Db, who: Caller, settings: Settings, month: Month, jurisdiction: str | None = None
) -> dict[str, Any]:
    return bulletin_for(db, who, month, jurisdiction, settings)


@router.get(
    "/regulator/bulletin.html",
    response_class=HTMLResponse,
    summary="Monthly bulletin as a page with charts (Chinese; lang=en for English)",
)
def bulletin_page(
    db: Db,
    who: Caller,
    settings: Settings,
    month: Month,
    jurisdiction: str | None = None,
    lang: Lang = "zh",
) -> str:
    b = bulletin_for(db, who, month, jurisdiction, settings)
    html: str = bulletin_html(b, lang=lang)
    return html


@router.get(
    "/regulator/bulletin.pdf",
    summary="Monthly bulletin as a PDF to file: 文号, authority, 环比, trend, every project",
    response_class=Response,
)
def bulletin_pdf_page(
    db: Db,
    who: Caller,
    settings: Settings,
    month: Month,
    jurisdiction: str | None = None,
    lang: Lang = "zh",
) -> Response:
    b = bulletin_for(db, who, month, jurisdiction, settings)
    return Response(
        bulletin_pdf(b, lang=lang),
        media_type="application/pdf",
        headers={
            # header values are latin-1: the (Chinese) jurisdiction stays out of the name
            "Content-Disposition": f'inline; filename="siteguard-bulletin-{month}.pdf"'
        },
    )


@router.get(
    "/regulator/bulletin.xlsx",
    summary="Monthly bulletin's tables as an Excel workbook (KPIs with 环比, projects, trend)",
    response_class=Response,
)
def bulletin_xlsx(
    db: Db,
    who: Caller,
    settings: Settings,
    month: Month,
    jurisdiction: str | None = None,
    lang: Lang = "zh",
) -> Response:
    b = bulletin_for(db, who, month, jurisdiction, settings)
    return Response(
        bulletin_workbook(b, lang),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="siteguard-bulletin-{month}.xlsx"'},
    )


# --- the regulator's alerts view (filters, counts, pages), 已阅 marks and 督办 ---

Choice = Annotated[str, Query(max_length=64)]


@router.get(
    "/api/v1/alerts",
    summary="The alerts view (告警中心): filtered, counted per filter value, one page (every "
    "role but edge, each in its own scope)",
    response_model=AlertListOut,
)
def alerts_view(
    db: Db,
    who: Caller,
    site: Choice = "",
    hazard_type: Choice = "",
    level: Choice = "",
    escalated: Annotated[str, Query(pattern=r"^(yes|no)?$")] = "",
    read: Annotated[str, Query(pattern=r"^(read|unread)?$")] = "",
    camera: Choice = "",
    status: Choice = "",
    since: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
    until: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> dict[str, Any]:
    """``since`` / ``until``: China-time days (both included) the alerts arrived in."""
    f = AlertFilter(site, hazard_type, level, escalated, read, camera, status, since, until)
    p = alert_page(db, who, f, page)
    return {
        "alerts": [alert_json(a, p) for a in p.alerts],
        "total": p.total,
        "page": p.page,
        "pages": p.pages,
        "per_page": PER_PAGE,
        "summary": p.summary,
        "counts": p.counts,
        "cursor": p.cursor,
    }


@router.post(
    "/api/v1/alerts/{kind}/{hazard_id}/read",
    summary="已阅: mark one alert read by the caller (every role but edge)",
    response_model=ReadOut,
)
def alert_read(
    sessions: Sessions,
    who: Caller,
    kind: Annotated[str, Path(pattern=r"^(major_hazard|escalation)$")],
    hazard_id: RecordId,
) -> dict[str, int]:
    with sessions.begin() as s:
        return {"marked": mark_read(s, who, [(kind, hazard_id)])}


@router.post(
    "/api/v1/alerts/read",
    summary="已阅: mark several alerts read by the caller, e.g. a page (every role but edge)",
    response_model=ReadOut,
)
def alerts_read(sessions: Sessions, who: Caller, body: ReadManyIn) -> dict[str, int]:
    with sessions.begin() as s:
        return {"marked": mark_read(s, who, [(a.type, a.hazard_id) for a in body.alerts])}


@router.post(
    "/api/v1/hazards/{hazard_id}/supervision",
    summary="督办: formally supervise a hazard and its notice (regulator, admin)",
    response_model=SupervisionOut,
    status_code=201,
)
def hazard_supervise(
    sessions: Sessions, who: Caller, hazard_id: RecordId, body: SupervisionIn
) -> dict[str, Any]:
    with sessions.begin() as s:
        row = supervise(s, who, hazard_id, body.requirement, body.deadline)
        notice = notice_of_hazard(s, hazard_id)
        return supervision_json(row, notice if row.notice_id else None)


@router.get(
    "/api/v1/hazards/{hazard_id}/supervision",
    summary="督办 records of a hazard, newest first (everyone who may see the hazard)",
    response_model=list[SupervisionOut],
)
def hazard_supervision_list(db: Db, who: Caller, hazard_id: RecordId) -> list[dict[str, Any]]:
    return hazard_supervisions(db, who, hazard_id)
