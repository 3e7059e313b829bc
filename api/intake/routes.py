"""Event ingest over HTTP (for sites without MQTT) and the dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from siteguard.api.deps import Caller, Db, IngestorDep
from siteguard.api.intake.dead_letters import recent_dead_letters

router = APIRouter(prefix="/api/v1", tags=["intake"])


class IngestOut(BaseModel):
    status: str
    hazard_id: int | None


class DeadLetterOut(BaseModel):
    id: int
    received_at: str
    source: str
    reason: str
    payload: str


@router.post(
    "/events",
    status_code=202,
    summary="Ingest one hazard event (HTTP, for sites without MQTT); role edge or admin",
    response_model=IngestOut,
    responses={403: {"description": "not the caller's site"}, 422: {"description": "rejected"}},
)
async def post_event(request: Request, who: Caller, ingestor: IngestorDep) -> JSONResponse:
    who.require("edge")
    body = await request.body()
    # storing blocks on the database: off the event loop (a held SQLite write lock would
    # otherwise stall every request, including the one that would release it)
    result = await run_in_threadpool(
        ingestor.ingest_raw,
        body,
        f"http:{who.name}",
        lambda ev: who.role == "admin" or ev.site_id in who.site_ids,
    )
    if result.status == "forbidden":
        return JSONResponse(status_code=403, content={"error": result.reason})
    if result.status == "rejected":
        return JSONResponse(status_code=422, content={"error": "rejected", "reason": result.reason})
    return JSONResponse(
        status_code=202, content={"status": result.status, "hazard_id": result.hazard_id}
    )


@router.get(
    "/dead-letters",
    summary="Messages that could not be ingested (admin)",
    response_model=list[DeadLetterOut],
)
def dead_letters(
    db: Db, who: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    who.require("admin")
    return recent_dead_letters(db, limit)
