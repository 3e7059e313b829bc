"""Projects and rectification notices: JSON API and the printable page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.notices import issue_notice, notice_view
from siteguard.api.tables import HazardRow, NoticeItemRow, NoticeRow, ProjectRow


def get_session(request: Request) -> Any:
    with request.app.state.services.sessions() as s:
        yield s


Db = Annotated[Session, Depends(get_session)]
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


def _project_json(p: ProjectRow) -> dict[str, Any]:
    return {"site_id": p.site_id, **{k: getattr(p, k) for k in ProjectIn.model_fields}}


@router.put(
    "/api/v1/projects/{site_id}", summary="Register or update a project (its site_id is the edge's)"
)
def put_project(site_id: str, body: ProjectIn, db: Db) -> dict[str, Any]:
    p = db.scalar(select(ProjectRow).where(ProjectRow.site_id == site_id))
    if p is None:
        p = ProjectRow(site_id=site_id, **body.model_dump())
        db.add(p)
    else:
        for k, v in body.model_dump().items():
            setattr(p, k, v)
    db.commit()
    return _project_json(p)


@router.get("/api/v1/projects", summary="Registered projects")
def list_projects(db: Db) -> list[dict[str, Any]]:
    return [_project_json(p) for p in db.scalars(select(ProjectRow).order_by(ProjectRow.site_id))]


@router.post(
    "/api/v1/projects/{site_id}/notices",
    status_code=201,
    summary="Issue one notice for all of the project's open hazards not yet on a notice",
)
def post_notice(
    site_id: str, request: Request, db: Db, issuer: str = "SiteGuard"
) -> dict[str, Any]:
    p = db.scalar(select(ProjectRow).where(ProjectRow.site_id == site_id))
    if p is None:
        raise HTTPException(404, detail=f"no project with site_id {site_id!r}")
    notice = issue_notice(db, p, request.app.state.services.settings.deadlines, issuer)
    if notice is None:
        raise HTTPException(409, detail="no open hazard without a notice")
    db.commit()
    return notice_view(_load(db, notice.id))


def _load(db: Session, notice_id: int) -> NoticeRow:
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
    return n


@router.get("/api/v1/notices", summary="Notices, newest first")
def list_notices(
    db: Db, site_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    q = select(NoticeRow).join(ProjectRow).order_by(NoticeRow.id.desc())
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
def get_notice(notice_id: int, db: Db) -> dict[str, Any]:
    return notice_view(_load(db, notice_id))


@router.get(
    "/notices/{notice_id}.html",
    response_class=HTMLResponse,
    summary="The printable notice (Chinese)",
)
def notice_page(notice_id: int, db: Db) -> str:
    return _templates.get_template("notice.html").render(n=notice_view(_load(db, notice_id)))
