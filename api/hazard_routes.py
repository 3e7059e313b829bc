"""Event ingest over HTTP, hazards (scoped to the caller), dismissal, dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from siteguard.api.auth import Caller, Principal, check_site, scope_filter
from siteguard.api.deps import Db, RecordId
from siteguard.api.evidence_cache import cached_evidence, clip_uri
from siteguard.api.ingest import hazard_summary
from siteguard.api.tables import DeadLetterRow, HazardRow, ProjectRow
from siteguard.api.workflow import dismiss

router = APIRouter()


@router.post(
    "/api/v1/events",
    status_code=202,
    summary="Ingest one hazard event (HTTP, for sites without MQTT); role edge or admin",
)
async def post_event(request: Request, who: Caller) -> JSONResponse:
    who.require("edge")
    body = await request.body()
    result = request.app.state.services.ingestor.ingest_raw(
        body,
        f"http:{who.name}",
        authorize=lambda ev: who.role == "admin" or ev.site_id in who.site_ids,
    )
    if result.status == "forbidden":
        return JSONResponse(status_code=403, content={"error": result.reason})
    if result.status == "rejected":
        return JSONResponse(status_code=422, content={"error": "rejected", "reason": result.reason})
    return JSONResponse(
        status_code=202, content={"status": result.status, "hazard_id": result.hazard_id}
    )


@router.get("/api/v1/hazards", summary="Hazards the caller may see, newest first")
def list_hazards(
    db: Db,
    who: Caller,
    site_id: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    q = select(HazardRow).order_by(HazardRow.last_seen.desc()).limit(limit)
    if who.role in ("contractor", "edge"):  # their sites, registered as projects or not
        q = q.where(HazardRow.site_id.in_(sorted(who.site_ids) or [""]))
    elif (cond := scope_filter(who)) is not None:  # by the project's jurisdiction / insurer
        q = q.join(ProjectRow, ProjectRow.site_id == HazardRow.site_id).where(cond)
    if site_id:
        q = q.where(HazardRow.site_id == site_id)
    if status:
        q = q.where(HazardRow.status == status)
    return [hazard_summary(h) for h in db.scalars(q)]


def load_hazard(db: Session, who: Principal, hazard_id: int) -> HazardRow:
    """The hazard with its events, if the caller may see it (else 404, names do not leak)."""
    h = db.scalar(
        select(HazardRow).where(HazardRow.id == hazard_id).options(selectinload(HazardRow.events))
    )
    if h is None:
        raise HTTPException(404, detail=f"no hazard {hazard_id}")
    try:
        check_site(db, who, h.site_id)
    except HTTPException:
        raise HTTPException(404, detail=f"no hazard {hazard_id}") from None
    return h


@router.get("/api/v1/hazards/{hazard_id}", summary="One hazard with its event messages")
def get_hazard(hazard_id: RecordId, db: Db, who: Caller) -> dict[str, Any]:
    h = load_hazard(db, who, hazard_id)
    return dict(
        hazard_summary(h),
        resolution=h.resolution,
        events=[
            {
                "event_id": e.event_id,
                "seq": e.seq,
                "state": e.state,
                "level": e.level,
                "frame_time": e.frame_time.isoformat() + "Z",
                "source": e.source,
            }
            for e in h.events
        ],
    )


# what: (suffix of the kept copy, media type, seconds to wait for the edge box)
EVIDENCE_KINDS = {"picture": (".jpg", "image/jpeg", 3.0), "clip": (".mp4", "video/mp4", 15.0)}


def _kept_evidence(request: Request, hazard_id: int, uri: str | None, what: str) -> Response:
    """Evidence from the API's copy, fetched from the edge box the first time."""
    if not uri:
        raise HTTPException(404, detail=f"hazard {hazard_id} has no evidence {what}")
    suffix, media_type, wait_s = EVIDENCE_KINDS[what]
    data = cached_evidence(request.app.state.services.settings.data_dir, uri, suffix, wait_s)
    if data is None:
        raise HTTPException(
            404, detail=f"the {what} of hazard {hazard_id} cannot be fetched from {uri} now"
        )
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/api/v1/hazards/{hazard_id}/evidence.jpg",
    summary="The hazard's evidence picture (fetched from the edge once, then kept by the API)",
    response_class=Response,
)
def hazard_evidence(hazard_id: RecordId, request: Request, db: Db, who: Caller) -> Response:
    uri = load_hazard(db, who, hazard_id).evidence_uri
    return _kept_evidence(request, hazard_id, uri, "picture")


@router.get(
    "/api/v1/hazards/{hazard_id}/clip.mp4",
    summary="The clip of the hazard's latest event (fetched from the edge once, then kept)",
    response_class=Response,
)
def hazard_clip(hazard_id: RecordId, request: Request, db: Db, who: Caller) -> Response:
    uri = clip_uri(load_hazard(db, who, hazard_id).evidence_uri)
    return _kept_evidence(request, hazard_id, uri, "clip")


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/api/v1/hazards/{hazard_id}/dismiss",
    summary="Dismiss a false alarm (inspector), with a reason",
)
def dismiss_hazard(hazard_id: RecordId, body: DismissIn, db: Db, who: Caller) -> dict[str, Any]:
    h = load_hazard(db, who, hazard_id)
    dismiss(db, h, who, body.reason)
    db.commit()
    return hazard_summary(h)


@router.get("/api/v1/dead-letters", summary="Messages that could not be ingested (admin)")
def dead_letters(
    db: Db, who: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    who.require("admin")
    rows = db.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "received_at": r.received_at.isoformat() + "Z",
            "source": r.source,
            "reason": r.reason,
            "payload": r.payload[:2000],
        }
        for r in rows
    ]
