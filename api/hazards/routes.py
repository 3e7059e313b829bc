"""Hazards (scoped to the caller), their evidence, confirmation (确认隐患), dismissal of false
alarms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from siteguard.api.deps import Caller, Db, RecordId, ServicesDep, Settings, SiteFilter
from siteguard.api.hazards.confirm import confirm, confirmation
from siteguard.api.hazards.evidence import EdgeBox, clip_uri, kept_evidence, site_edge_box
from siteguard.api.hazards.queries import load_hazard, visible_hazards
from siteguard.api.hazards.views import HazardDetailOut, HazardOut, hazard_detail, hazard_summary
from siteguard.api.notices.queries import notice_of_hazard
from siteguard.api.notices.workflow import dismiss
from siteguard.api.statuses import HazardStatus

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])


@router.get("", summary="Hazards the caller may see, newest first", response_model=list[HazardOut])
def list_hazards(
    db: Db,
    who: Caller,
    site_id: SiteFilter = None,
    status: HazardStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, object]]:
    return [hazard_summary(h) for h in visible_hazards(db, who, site_id, status, limit)]


@router.get(
    "/{hazard_id}", summary="One hazard with its event messages", response_model=HazardDetailOut
)
def get_hazard(hazard_id: RecordId, db: Db, who: Caller) -> dict[str, object]:
    h = load_hazard(db, who, hazard_id)
    return hazard_detail(h, confirmation(h, notice_of_hazard(db, h.id)))


@router.post(
    "/{hazard_id}/confirm",
    summary="Confirm an open hazard (inspector: 确认隐患); who and when are recorded",
    response_model=HazardDetailOut,
    responses={409: {"description": "already confirmed, or no longer open"}},
)
def confirm_hazard(hazard_id: RecordId, db: Db, who: Caller) -> dict[str, object]:
    h = confirm(db, load_hazard(db, who, hazard_id), who)
    db.commit()
    return hazard_detail(h, confirmation(h, None))


def _evidence(data: tuple[bytes, str]) -> Response:
    body, media_type = data
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


def _edge_box(db: Db, site_id: str, services: ServicesDep) -> EdgeBox:
    """The hazard's site's edge box: evidence is fetched from nowhere else."""
    settings = services.settings
    return site_edge_box(db, site_id, settings.evidence, services.evidence_refusals)


@router.get(
    "/{hazard_id}/evidence.jpg",
    summary="The hazard's evidence picture (fetched from the edge once, then kept by the API)",
    response_class=Response,
)
def hazard_evidence(
    hazard_id: RecordId, db: Db, who: Caller, settings: Settings, services: ServicesDep
) -> Response:
    h = load_hazard(db, who, hazard_id)
    box = _edge_box(db, h.site_id, services)
    return _evidence(kept_evidence(settings.data_dir, hazard_id, h.evidence_uri, "picture", box))


@router.get(
    "/{hazard_id}/clip.mp4",
    summary="The clip of the hazard's latest event (fetched from the edge once, then kept)",
    response_class=Response,
)
def hazard_clip(
    hazard_id: RecordId, db: Db, who: Caller, settings: Settings, services: ServicesDep
) -> Response:
    h = load_hazard(db, who, hazard_id)
    box = _edge_box(db, h.site_id, services)
    return _evidence(
        kept_evidence(settings.data_dir, hazard_id, clip_uri(h.evidence_uri), "clip", box)
    )


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/{hazard_id}/dismiss",
    summary="Dismiss a false alarm (inspector), with a reason",
    response_model=HazardOut,
)
def dismiss_hazard(hazard_id: RecordId, body: DismissIn, db: Db, who: Caller) -> dict[str, object]:
    h = load_hazard(db, who, hazard_id)
    dismiss(db, h, who, body.reason)
    db.commit()
    return hazard_summary(h)
