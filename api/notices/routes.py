"""Rectification notices: issue, read (JSON, printable page, PDF), the workflow, proof."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from siteguard.api.deps import Caller, Db, RecordId, ServicesDep, Settings, SiteFilter
from siteguard.api.documents.html import templates
from siteguard.api.errors import Invalid, NotFound
from siteguard.api.hazards.evidence import EdgeBox, cached_evidence
from siteguard.api.notices import workflow
from siteguard.api.notices.document import notice_lines
from siteguard.api.notices.issue import issue_for_hazards, issue_for_site
from siteguard.api.notices.pdf import notice_pdf
from siteguard.api.notices.progress import notice_progress
from siteguard.api.notices.proof import proof_path, read_photos, read_proof, store_photos
from siteguard.api.notices.queries import history_json, load_notice, notice_history, visible_notices
from siteguard.api.notices.views import (
    HistoryEntryOut,
    NoticeOut,
    NoticeSummaryOut,
    notice_detail,
    notice_summary,
)
from siteguard.api.statuses import NoticeStatus
from siteguard.api.store.clock import now_naive
from siteguard.api.store.tables import NoticeRow
from siteguard.contract.events import INT32_MAX

router = APIRouter(tags=["notices"])
ItemNo = Annotated[int, Path(ge=1, le=INT32_MAX, description="the item's number (1-based)")]


def detail(db: Session, n: NoticeRow) -> dict[str, Any]:
    """The notice as issued and where it stands now."""
    return notice_detail(n, notice_progress(db, n, now_naive()))


@router.post(
    "/api/v1/projects/{site_id}/notices",
    status_code=201,
    summary="Issue one notice for all of the project's open hazards not yet on a notice",
    response_model=NoticeOut,
)
def post_notice(site_id: str, db: Db, who: Caller, settings: Settings) -> dict[str, Any]:
    notice = issue_for_site(db, who, site_id, settings.deadlines)
    db.commit()
    return detail(db, load_notice(db, notice.id))


class IssueChosen(BaseModel):
    hazard_ids: list[Annotated[int, Field(ge=1, le=INT32_MAX)]] = Field(
        min_length=1, max_length=500, description="Open hazards"
    )


@router.post(
    "/api/v1/notices",
    status_code=201,
    summary="Issue notices for chosen hazards (合并下发): one notice per project",
    response_model=list[NoticeOut],
)
def post_notices_for_hazards(
    body: IssueChosen, db: Db, who: Caller, settings: Settings
) -> list[dict[str, Any]]:
    notices = issue_for_hazards(db, who, body.hazard_ids, settings.deadlines)
    db.commit()
    return [detail(db, load_notice(db, n.id)) for n in notices]


@router.get(
    "/api/v1/notices", summary="Notices, newest first", response_model=list[NoticeSummaryOut]
)
def list_notices(
    db: Db, who: Caller, site_id: SiteFilter = None, status: NoticeStatus | None = None
) -> list[dict[str, Any]]:
    return [notice_summary(n) for n in visible_notices(db, who, site_id, status)]


@router.get(
    "/api/v1/notices/{notice_id}",
    summary="One notice with its issue, responsibility and deadline lists",
    response_model=NoticeOut,
)
def get_notice(notice_id: RecordId, db: Db, who: Caller) -> dict[str, Any]:
    return detail(db, load_notice(db, notice_id, who))


@router.get(
    "/notices/{notice_id}.html",
    response_class=HTMLResponse,
    summary="The printable notice (Chinese)",
)
def notice_page(notice_id: RecordId, db: Db, who: Caller) -> str:
    return (
        templates()
        .get_template("notice.html")
        .render(n=detail(db, load_notice(db, notice_id, who)), notice_lines=notice_lines)
    )


@router.get(
    "/notices/{notice_id}.pdf",
    summary="The notice as a PDF (A4, Chinese)",
    response_class=Response,
)
def notice_pdf_page(
    notice_id: RecordId, db: Db, who: Caller, settings: Settings, services: ServicesDep
) -> Response:
    row = load_notice(db, notice_id, who)
    box = EdgeBox(row.project.evidence_base_url, settings.evidence, services.evidence_refusals)
    n = detail(db, row)
    return Response(
        notice_pdf(
            n,
            lambda uri: cached_evidence(settings.data_dir, uri, box),
            lambda stored: read_proof(settings.data_dir, stored),
        ),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{n["number"]}.pdf"'},
    )


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=4000)


@router.post(
    "/api/v1/notices/{notice_id}/actions/{action}",
    summary="Workflow: acknowledge (contractor), accept or reject (inspector)",
    response_model=NoticeOut,
)
def notice_action(
    notice_id: RecordId, action: str, body: ActionIn, db: Db, who: Caller
) -> dict[str, Any]:
    if action == "submit":
        raise Invalid("submit with proof photos: POST /api/v1/notices/{id}/submit")
    n = load_notice(db, notice_id, who)
    workflow.apply(db, n, action, who, body.comment)
    db.commit()
    return detail(db, load_notice(db, notice_id, who))


@router.post(
    "/api/v1/notices/{notice_id}/submit",
    summary="Submit for re-inspection: the items' replies, or one reply with proof photos "
    "for every item not yet answered (multipart)",
    response_model=NoticeOut,
)
def submit_proof(
    notice_id: RecordId,
    db: Db,
    who: Caller,
    settings: Settings,
    reply: Annotated[str, Form(max_length=4000)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> dict[str, Any]:
    # a plain `def`, not `async def`: FastAPI runs it in its thread pool, so reading the
    # spooled uploads, decoding the photos (seconds for a big one) and the database work
    # never hold up the event loop, and with it /healthz and every other request
    n = load_notice(db, notice_id, who)
    who.require("contractor")
    files = read_photos((f.filename, f.file) for f in photos or [] if f.filename)
    stored = store_photos(settings.data_dir, n.number, files, settings.proof_max_pixels)
    workflow.apply(db, n, "submit", who, reply, stored)
    db.commit()
    return detail(db, load_notice(db, notice_id, who))


@router.post(
    "/api/v1/notices/{notice_id}/items/{no}/reply",
    summary="The contractor's reply to one item: what was done, with proof photos (multipart)",
    response_model=NoticeOut,
)
def reply_to_item(
    notice_id: RecordId,
    no: ItemNo,
    db: Db,
    who: Caller,
    settings: Settings,
    reply: Annotated[str, Form(min_length=1, max_length=4000)],
    photos: Annotated[list[UploadFile], File()],
) -> dict[str, Any]:
    n = load_notice(db, notice_id, who)
    who.require("contractor")
    files = read_photos((f.filename, f.file) for f in photos if f.filename)
    if not files:
        raise Invalid(f"the reply to item {no} needs at least one proof photo")
    stored = store_photos(settings.data_dir, n.number, files, settings.proof_max_pixels)
    workflow.reply_to_item(db, n, no, who, reply, stored)
    db.commit()
    return detail(db, load_notice(db, notice_id, who))


@router.get(
    "/api/v1/notices/{notice_id}/proof/{name}",
    summary="One proof photo of the notice's replies (as stored: JPEG or PNG)",
    response_class=FileResponse,
)
def get_proof(notice_id: RecordId, name: str, db: Db, who: Caller, settings: Settings) -> Response:
    n = load_notice(db, notice_id, who)
    path = proof_path(settings.data_dir, f"proof/{n.number}/{name}")
    if path is None:
        raise NotFound(f"no proof photo {name!r} on notice {n.number}")
    return FileResponse(path, media_type="image/jpeg")


@router.get(
    "/api/v1/notices/{notice_id}/history",
    summary="Every transition of the notice",
    response_model=list[HistoryEntryOut],
)
def get_history(notice_id: RecordId, db: Db, who: Caller) -> list[dict[str, Any]]:
    load_notice(db, notice_id, who)
    return [history_json(r) for r in notice_history(db, notice_id)]
