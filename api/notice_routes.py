"""Projects and rectification notices: JSON API and the printable page."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api import audit, push, workflow
from siteguard.api.auth import Caller, check_site, scope_filter, visible_projects
from siteguard.api.deps import Db, RecordId
from siteguard.api.evidence_cache import cached_evidence
from siteguard.api.notice_pdf import notice_pdf
from siteguard.api.notices import issue_notice, notice_view
from siteguard.api.proof import store_photos
from siteguard.api.tables import HazardRow, NoticeHistoryRow, NoticeItemRow, NoticeRow, ProjectRow

router = APIRouter()
_templates = Environment(
    loader=PackageLoader("siteguard.api", "templates"), autoescape=select_autoescape()
)


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    permit_no: str = Field("", max_length=100)
    policy_no: str = Field("", max_length=100)
    insurer: str = Field("", max_length=200)
    contractor: str = Field("", max_length=200)
    responsible_person: str = Field("", max_length=100)
    responsible_phone: str = Field("", max_length=50)
    jurisdiction: str = Field("", max_length=100)
    risk_product: str = Field(
        "default", max_length=64, description="premium rate/band configuration (api settings)"
    )


def _project_json(p: ProjectRow) -> dict[str, Any]:
    return {"site_id": p.site_id, **{k: getattr(p, k) for k in ProjectIn.model_fields}}


@router.put(
    "/api/v1/projects/{site_id}", summary="Register or update a project (its site_id is the edge's)"
)
def put_project(
    site_id: str, body: ProjectIn, request: Request, db: Db, who: Caller
) -> dict[str, Any]:
    who.require("admin")
    if body.risk_product not in request.app.state.services.settings.risk:
        raise HTTPException(
            422,
            detail=f"unknown risk_product {body.risk_product!r} (configured: "
            f"{', '.join(request.app.state.services.settings.risk)})",
        )
    p = db.scalar(select(ProjectRow).where(ProjectRow.site_id == site_id))
    if p is None:
        p = ProjectRow(site_id=site_id, **body.model_dump())
        db.add(p)
    else:
        for k, v in body.model_dump().items():
            setattr(p, k, v)
    audit.append(db, who.name, "project.saved", "project", site_id, body.model_dump())
    db.commit()
    return _project_json(p)


@router.get("/api/v1/projects", summary="Registered projects")
def list_projects(db: Db, who: Caller) -> list[dict[str, Any]]:
    return [_project_json(p) for p in visible_projects(db, who)]


@router.post(
    "/api/v1/projects/{site_id}/notices",
    status_code=201,
    summary="Issue one notice for all of the project's open hazards not yet on a notice",
)
def post_notice(site_id: str, request: Request, db: Db, who: Caller) -> dict[str, Any]:
    who.require("inspector")
    p = check_site(db, who, site_id)
    if p is None:
        raise HTTPException(404, detail=f"no project with site_id {site_id!r}")
    notice = issue_notice(db, p, request.app.state.services.settings.deadlines, who.name)
    if notice is None:
        raise HTTPException(409, detail="no open hazard without a notice")
    audit.append(
        db,
        who.name,
        "notice.issued",
        "notice",
        notice.number,
        {"site_id": site_id, "hazards": [i.hazard_id for i in notice.items]},
    )
    push.enqueue(
        db, "notice.issued", f"notice:{notice.number}:issued", notice_view(notice), who.name
    )
    db.commit()
    return notice_view(load_notice(db, notice.id))


def load_notice(db: Session, notice_id: int, who: Any = None) -> NoticeRow:
    n = db.scalar(
        select(NoticeRow)
        .where(NoticeRow.id == notice_id)
        .options(
            selectinload(NoticeRow.items)
            .selectinload(NoticeItemRow.hazard)
            .selectinload(HazardRow.events),
            selectinload(NoticeRow.project),
        )
    )
    if n is None:
        raise HTTPException(404, detail=f"no notice {notice_id}")
    if who is not None and not who.sees(n.project, n.project.site_id):
        raise HTTPException(404, detail=f"no notice {notice_id}")
    return n


@router.get("/api/v1/notices", summary="Notices, newest first")
def list_notices(
    db: Db, who: Caller, site_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    q = select(NoticeRow).join(ProjectRow).order_by(NoticeRow.id.desc())
    cond = scope_filter(who)
    if cond is not None:
        q = q.where(cond)
    if site_id:
        q = q.where(ProjectRow.site_id == site_id)
    if status:
        q = q.where(NoticeRow.status == status)
    return [
        {
            "id": n.id,
            "number": n.number,
            "site_id": n.project.site_id,
            "status": n.status,
            "issued_at": n.issued_at.isoformat() + "Z",
            "items": len(n.items),
        }
        for n in db.scalars(q)
    ]


@router.get(
    "/api/v1/notices/{notice_id}",
    summary="One notice with its issue, responsibility and deadline lists",
)
def get_notice(notice_id: RecordId, db: Db, who: Caller) -> dict[str, Any]:
    return notice_view(load_notice(db, notice_id, who))


@router.get(
    "/notices/{notice_id}.html",
    response_class=HTMLResponse,
    summary="The printable notice (Chinese)",
)
def notice_page(notice_id: RecordId, db: Db, who: Caller) -> str:
    return _templates.get_template("notice.html").render(
        n=notice_view(load_notice(db, notice_id, who))
    )


@router.get("/notices/{notice_id}.pdf", summary="The notice as a PDF (A4, Chinese)")
def notice_pdf_page(notice_id: RecordId, request: Request, db: Db, who: Caller) -> Response:
    n = notice_view(load_notice(db, notice_id, who))
    data_dir = request.app.state.services.settings.data_dir
    return Response(
        notice_pdf(n, lambda uri: cached_evidence(data_dir, uri)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{n["number"]}.pdf"'},
    )


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=4000)


@router.post(
    "/api/v1/notices/{notice_id}/actions/{action}",
    summary="Workflow: acknowledge (contractor), accept or reject (inspector)",
)
def notice_action(
    notice_id: RecordId, action: str, body: ActionIn, db: Db, who: Caller
) -> dict[str, Any]:
    if action == "submit":
        raise HTTPException(
            422, detail="submit with proof photos: POST /api/v1/notices/{id}/submit"
        )
    n = load_notice(db, notice_id, who)
    workflow.apply(db, n, action, who, body.comment)
    db.commit()
    return notice_view(load_notice(db, notice_id, who))


@router.post(
    "/api/v1/notices/{notice_id}/submit",
    summary="The contractor's rectification reply with proof photos (multipart)",
)
async def submit_proof(
    notice_id: RecordId,
    request: Request,
    db: Db,
    who: Caller,
    reply: Annotated[str, Form(min_length=1, max_length=4000)],
    photos: Annotated[list[UploadFile], File()],
) -> dict[str, Any]:
    n = load_notice(db, notice_id, who)
    who.require("contractor")
    stored = await store_photos(request.app.state.services.settings.data_dir, n.number, photos)
    workflow.apply(db, n, "submit", who, reply, stored)
    db.commit()
    return notice_view(load_notice(db, notice_id, who))


@router.get("/api/v1/notices/{notice_id}/history", summary="Every transition of the notice")
def notice_history(notice_id: RecordId, db: Db, who: Caller) -> list[dict[str, Any]]:
    load_notice(db, notice_id, who)
    rows = db.scalars(
        select(NoticeHistoryRow)
        .where(NoticeHistoryRow.notice_id == notice_id)
        .order_by(NoticeHistoryRow.id)
    )
    return [
        {
            "at": r.at.isoformat() + "Z",
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "from": r.from_status,
            "to": r.to_status,
            "comment": r.comment,
            "attachments": json.loads(r.attachments or "[]"),
        }
        for r in rows
    ]
