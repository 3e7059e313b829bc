"""Projects and their cameras and zones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from siteguard.api.access.keys import check_site, visible_projects
from siteguard.api.deps import Caller, CameraId, Db, ServicesDep, Settings, SiteId
from siteguard.api.sites.cameras import CameraIn, CameraOut, camera_json, save_camera, site_cameras
from siteguard.api.sites.projects import ProjectIn, ProjectOut, project_json, save_project
from siteguard.api.sites.snapshot import live_snapshot

router = APIRouter(prefix="/api/v1/projects", tags=["sites"])


@router.put(
    "/{site_id}",
    summary="Register or update a project (its site_id is the edge's)",
    response_model=ProjectOut,
)
def put_project(
    site_id: SiteId, body: ProjectIn, db: Db, who: Caller, settings: Settings
) -> dict[str, Any]:
    who.require("admin")
    p = save_project(db, site_id, body, who.name, settings.risk)
    db.commit()
    return project_json(p)


@router.get("", summary="Registered projects", response_model=list[ProjectOut])
def list_projects(db: Db, who: Caller) -> list[dict[str, Any]]:
    return [project_json(p) for p in visible_projects(db, who)]


@router.put(
    "/{site_id}/cameras/{camera_id}",
    summary="Register a camera and its zones (admin)",
    response_model=CameraOut,
)
def put_camera(
    site_id: SiteId, camera_id: CameraId, body: CameraIn, db: Db, who: Caller
) -> dict[str, Any]:
    who.require("admin")
    row = save_camera(db, site_id, camera_id, body, who.name)
    db.commit()
    return camera_json(row)


@router.get(
    "/{site_id}/cameras",
    summary="A project's cameras: zones, and the latest state and heartbeat from the edge",
    response_model=list[CameraOut],
)
def list_cameras(site_id: SiteId, db: Db, who: Caller, settings: Settings) -> list[dict[str, Any]]:
    check_site(db, who, site_id)
    return site_cameras(db, site_id, settings.cameras)


@router.get(
    "/{site_id}/cameras/{camera_id}/snapshot",
    summary="The camera's latest analysed frame, unannotated, live from its edge box (not kept)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "why there is none"}},
)
def camera_snapshot(
    site_id: SiteId, camera_id: CameraId, db: Db, who: Caller, services: ServicesDep
) -> Response:
    jpeg = live_snapshot(db, who, site_id, camera_id, services.settings, services.evidence_refusals)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
