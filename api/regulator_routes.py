"""The regulator's view: an alerts feed (major hazards, escalations) and the monthly
bulletin per jurisdiction as JSON, a page with charts, and a PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.auth import Caller, Principal, scope_filter
from siteguard.api.bulletin import monthly_bulletin
from siteguard.api.bulletin_render import bulletin_html, bulletin_pdf
from siteguard.api.deps import Db
from siteguard.api.ingest import hazard_summary, utc_naive
from siteguard.api.insurer_routes import period_of
from siteguard.api.settings import ApiSettings
from siteguard.api.tables import EscalationRow, HazardRow, ProjectRow

router = APIRouter()
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


def alerts(
    s: Session, who: Principal, since: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Major hazards and escalations the caller may see, newest first."""
    cond = scope_filter(who)

    def scoped(q: Any) -> Any:
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id)
        return q if cond is None else q.where(cond)

    majors = s.execute(
        scoped(select(HazardRow, ProjectRow).where(HazardRow.level == "major"))
        .where(HazardRow.first_seen >= (since or datetime.min))
        .order_by(HazardRow.first_seen.desc())
        .limit(limit)
    ).all()
    escalated = s.execute(
        scoped(
            select(EscalationRow, HazardRow, ProjectRow).join(
                HazardRow, HazardRow.id == EscalationRow.hazard_id
            )
        )
        .where(EscalationRow.at >= (since or datetime.min))
        .order_by(EscalationRow.at.desc())
        .limit(limit)
    ).all()
    out = [
        {
            "type": "major_hazard",
            "at": h.first_seen.replace(tzinfo=UTC).isoformat(),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for h, p in majors
    ] + [
        {
            "type": "escalation",
            "at": e.at.replace(tzinfo=UTC).isoformat(),
            "site_name": p.name,
            "jurisdiction": p.jurisdiction,
            "hazard": hazard_summary(h),
        }
        for e, h, p in escalated
    ]
    return sorted(out, key=lambda a: a["at"], reverse=True)[:limit]


@router.get(
    "/api/v1/regulator/alerts",
    summary="Major hazards and overdue escalations in the caller's jurisdiction, newest first",
)
def alerts_feed(
    db: Db,
    who: Caller,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    who.require("regulator")
    return alerts(db, who, utc_naive(since) if since else None, limit)


def _jurisdiction(who: Principal, jurisdiction: str | None) -> str:
    who.require("regulator")
    if who.role == "admin":
        if not jurisdiction:
            raise HTTPException(422, detail="admin: say which jurisdiction (?jurisdiction=)")
        return jurisdiction
    if jurisdiction and jurisdiction != who.jurisdiction:
        raise HTTPException(404, detail=f"no jurisdiction {jurisdiction!r}")
    return who.jurisdiction


def bulletin_for(
    request: Request, db: Session, who: Principal, month: str, jurisdiction: str | None
) -> dict[str, Any]:
    settings: ApiSettings = request.app.state.services.settings
    where = _jurisdiction(who, jurisdiction)
    period_of(month)  # a clear 422 for 2026-13
    b: dict[str, Any] = monthly_bulletin(db, where, month, settings)
    return b


@router.get("/api/v1/regulator/bulletin", summary="Monthly bulletin for the jurisdiction (JSON)")
def bulletin_json(
    request: Request, db: Db, who: Caller, month: Month, jurisdiction: str | None = None
) -> dict[str, Any]:
    return bulletin_for(request, db, who, month, jurisdiction)


@router.get(
    "/regulator/bulletin.html",
    response_class=HTMLResponse,
    summary="Monthly bulletin as a page with charts",
)
def bulletin_page(
    request: Request, db: Db, who: Caller, month: Month, jurisdiction: str | None = None
) -> str:
    html: str = bulletin_html(bulletin_for(request, db, who, month, jurisdiction))
    return html


@router.get("/regulator/bulletin.pdf", summary="Monthly bulletin as a PDF with charts")
def bulletin_pdf_page(
    request: Request, db: Db, who: Caller, month: Month, jurisdiction: str | None = None
) -> Response:
    b = bulletin_for(request, db, who, month, jurisdiction)
    return Response(
        bulletin_pdf(b),
        media_type="application/pdf",
        headers={
            # header values are latin-1: the (Chinese) jurisdiction stays out of the name
            "Content-Disposition": f'inline; filename="siteguard-bulletin-{month}.pdf"'
        },
    )
