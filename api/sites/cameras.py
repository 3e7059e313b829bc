"""A project's cameras and their zones: managed through the API and the console, or imported
from the edge's site.yaml; each with the latest state and heartbeat the edge sent (offline
once its heartbeats stopped: `camera_health.latest`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal, check_site
from siteguard.api.errors import Invalid
from siteguard.api.intake import camera_health
from siteguard.api.records import audit
from siteguard.api.settings import CameraSettings
from siteguard.api.store.tables import CameraRow
from siteguard.contract.zones import Zone

CAMERA_ID_MAX = 64


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=200)
    zones: list[Zone] = Field(default_factory=list, max_length=50)


def save_camera(s: Session, site_id: str, camera_id: str, body: CameraIn, actor: str) -> CameraRow:
    if not camera_id or len(camera_id) > CAMERA_ID_MAX:
        raise Invalid(f"camera id must be 1-{CAMERA_ID_MAX} characters")
    row = s.scalar(
        select(CameraRow).where(CameraRow.site_id == site_id, CameraRow.camera_id == camera_id)
    )
    zones = json.dumps([z.model_dump(mode="json") for z in body.zones], ensure_ascii=False)
    if row is None:
        row = CameraRow(site_id=site_id, camera_id=camera_id, name=body.name, zones=zones)
        s.add(row)
    else:
        row.name, row.zones = body.name, zones
    audit.append(
        s,
        actor,
        "camera.saved",
        "camera",
        f"{site_id}/{camera_id}",
        {"name": body.name, "zones": [z.id for z in body.zones]},
    )
    return row


ZONE_EDITORS = ("admin", "inspector")  # commissioning: zones are drawn by inspectors too


def save_zones(
    s: Session, who: Principal, site_id: str, camera_id: str, zones: list[Zone]
) -> CameraRow:
    """Zones drawn for a camera (the console's editor): inspectors of the project's insurer
    and admins; the camera keeps its name. Registering cameras stays with admins."""
    who.require(*ZONE_EDITORS)
    check_site(s, who, site_id)
    current = s.scalar(
        select(CameraRow).where(CameraRow.site_id == site_id, CameraRow.camera_id == camera_id)
    )
    body = CameraIn(name=current.name if current else "", zones=zones)
    return save_camera(s, site_id, camera_id, body, who.name)


def camera_json(row: CameraRow) -> dict[str, Any]:
    return {
        "site_id": row.site_id,
        "camera_id": row.camera_id,
        "name": row.name,
        "zones": json.loads(row.zones),
        "registered": True,
    }


def site_cameras(
    s: Session, site_id: str, cameras: CameraSettings, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Registered cameras and cameras the edge reported, each with its status as of `now`
    (or None): every view of a camera's state reads it from here."""
    rows = {
        r.camera_id: camera_json(r)
        for r in s.scalars(select(CameraRow).where(CameraRow.site_id == site_id))
    }
    status = camera_health.latest(s, site_id, cameras, now)
    for cam in status.keys() - rows.keys():
        rows[cam] = {
            "site_id": site_id,
            "camera_id": cam,
            "name": "",
            "zones": [],
            "registered": False,
        }
    return [dict(rows[c], status=status.get(c)) for c in sorted(rows)]


class CameraStatusOut(BaseModel):
    state: str = Field(description="As of now: offline once the heartbeats stopped")
    detail: str
    at: str = Field(description="When the edge last sent a heartbeat or status")
    stats: dict[str, Any]
    reported_state: str = Field(description="What the edge last said")


class CameraOut(BaseModel):
    site_id: str
    camera_id: str
    name: str
    zones: list[Zone]
    registered: bool
    status: CameraStatusOut | None = None
