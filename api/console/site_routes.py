"""Console: the projects overview, a site with its cameras and open hazards, the zone
editor (drawn over the camera's live frame from its edge box, else its latest evidence)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from siteguard.api.access.keys import check_site
from siteguard.api.console.deps import act, back, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.timeline import timeline_svg
from siteguard.api.deps import ServicesDep, Sessions, Settings
from siteguard.api.hazards.queries import latest_frames, open_hazards
from siteguard.api.sites.cameras import ZONE_EDITORS, save_zones, site_cameras
from siteguard.api.sites.overview import project_overview
from siteguard.api.sites.snapshot import live_snapshot
from siteguard.api.store.clock import china_text, now_naive
from siteguard.contract.zones import Zone

router = APIRouter()
ZONE_COLOURS = {"edge": "#dc2626", "scaffold": "#d97706", "exclusion": "#7c3aed"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, sessions: Sessions, settings: Settings) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        projects = project_overview(s, who, settings.cameras)
    return render(request, "sites.html", who, csrf, projects=projects)


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def site_page(
    request: Request, sessions: Sessions, settings: Settings, site_id: str
) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        project = check_site(s, who, site_id)
        frames = latest_frames(s, site_id)
        cameras = [
            dict(c, frame=frames.get(c["camera_id"]))
            for c in site_cameras(s, site_id, settings.cameras)
        ]
        hazards = open_hazards(s, site_id)
    rows = [
        dict(
            id=h.id,
            name=hazard_name(request, h.hazard_type),
            level=h.level,
            status=h.status,
            camera_id=h.camera_id,
            zone=h.zone,
            first_local=china_text(h.first_seen),
        )
        for h in hazards
    ]
    return render(
        request,
        "site.html",
        who,
        csrf,
        site_id=site_id,
        project=project or {"name": site_id},
        cameras=cameras,
        hazards=rows,
        timeline=timeline_svg(hazards[:30], now_naive(), lang=lang_of(request)),
        zone_colours=ZONE_COLOURS,
        can_edit=who.role in ZONE_EDITORS,
    )


@router.get("/sites/{site_id}/cameras/{camera_id}/zones", response_class=HTMLResponse)
def zones_page(
    request: Request, sessions: Sessions, settings: Settings, site_id: str, camera_id: str
) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        project = check_site(s, who, site_id)
        cams = {c["camera_id"]: c for c in site_cameras(s, site_id, settings.cameras)}
        frame = latest_frames(s, site_id).get(camera_id)
    zones = cams.get(camera_id, {}).get("zones", [])
    # the live frame when the site has an edge box to ask; the page falls back to the
    # latest evidence frame when the box has none or cannot be reached
    live = project is not None and bool(project.evidence_base_url) and camera_id in cams
    return render(
        request,
        "zones.html",
        who,
        csrf,
        site_id=site_id,
        camera_id=camera_id,
        frame=frame,
        snapshot=f"/console/sites/{site_id}/cameras/{camera_id}/snapshot.jpg" if live else None,
        zones_json=json.dumps(zones, ensure_ascii=False),
    )


@router.get("/sites/{site_id}/cameras/{camera_id}/snapshot.jpg", response_class=Response)
def camera_snapshot(
    request: Request, sessions: Sessions, services: ServicesDep, site_id: str, camera_id: str
) -> Response:
    """The camera's live frame from its edge box (not kept), for the zone editor."""
    who, _ = login(request)
    with sessions() as s:
        jpeg = live_snapshot(
            s, who, site_id, camera_id, services.settings, services.evidence_refusals
        )
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/sites/{site_id}/cameras/{camera_id}/zones")
def zones_save(
    request: Request,
    site_id: str,
    camera_id: str,
    csrf: Annotated[str, Form()],
    zones: Annotated[str, Form(max_length=200_000)],
) -> Response:
    who = form_login(request, csrf)
    url = f"/console/sites/{site_id}/cameras/{camera_id}/zones"
    try:
        parsed = [Zone.model_validate(z) for z in json.loads(zones)]
    except (ValueError, ValidationError) as exc:
        return back(url, err=f"invalid zones: {str(exc)[:300]}")
    return act(
        request,
        url,
        lambda s: save_zones(s, who, site_id, camera_id, parsed),
        done_url=f"/console/sites/{site_id}",
        msg="saved",
    )
