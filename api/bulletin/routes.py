"""The regulator's view: an alerts feed (major hazards, escalations) and the monthly
bulletin per jurisdiction as JSON, a page with charts, and a PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from siteguard.api.bulletin.alerts import alerts
from siteguard.api.bulletin.render import bulletin_html, bulletin_pdf
from siteguard.api.bulletin.report import bulletin_for
from siteguard.api.bulletin.views import AlertOut, BulletinOut
from siteguard.api.deps import Caller, Db, Settings
from siteguard.api.store.clock import utc_naive

router = APIRouter(tags=["regulator"])
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


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
    summary="Monthly bulletin as a page with charts",
)
def bulletin_page(
    db: Db, who: Caller, settings: Settings, month: Month, jurisdiction: str | None = None
) -> str:
    html: str = bulletin_html(bulletin_for(db, who, month, jurisdiction, settings))
    return html


@router.get(
    "/regulator/bulletin.pdf",
    summary="Monthly bulletin as a PDF with charts",
    response_class=Response,
)
def bulletin_pdf_page(
    db: Db, who: Caller, settings: Settings, month: Month, jurisdiction: str | None = None
) -> Response:
    b = bulletin_for(db, who, month, jurisdiction, settings)
    return Response(
        bulletin_pdf(b),
        media_type="application/pdf",
        headers={
            # header values are latin-1: the (Chinese) jurisdiction stays out of the name
            "Content-Disposition": f'inline; filename="siteguard-bulletin-{month}.pdf"'
        },
    )
