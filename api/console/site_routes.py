"""Console: a site with its cameras and open hazards, the zone
editor (drawn over the camera's live frame from its edge box, else its latest evidence;
while the camera is offline, the last live frame kept or its latest evidence)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from siteguard.api.access.keys import check_site
from siteguard.api.console.deps import act, back, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.console.timeline import timeline_svg
from siteguard.api.deps import CameraId, ServicesDep, Sessions, Settings
from siteguard.api.errors import NotFound
from siteguard.api.hazards.queries import latest_frame, latest_frames, open_hazards
from siteguard.api.sites.cameras import ZONE_EDITORS, save_zones, site_cameras
from siteguard.api.sites.names import place_names
from siteguard.api.sites.snapshot import live_snapshot, stored_snapshot
from siteguard.api.store.clock import china_text, now_naive
from siteguard.contract.zones import Zone

router = APIRouter()
ZONE_COLOURS = {"edge": "#dc2626", "scaffold": "#d97706", "exclusion": "#7c3aed"}


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
        places = place_names(s, [site_id])
    rows = [
        dict(
            id=h.id,
            name=hazard_name(request, h.hazard_type),
            level=h.level,
            status=h.status,
            camera=places.camera(site_id, h.camera_id),
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


def _pictures(
    request: Request,
    site_id: str,
    camera_id: str,
    offline: bool,
    live: bool,
    stored: datetime | None,
    evidence: tuple[str, datetime] | None,
) -> list[dict[str, str]]:
    """What the editor draws over, in the order it tries them (the next when one fails):
    online, the live frame from the box, else the newest evidence frame; offline, the last
    live frame the API kept, else the newest evidence frame, each saying it is not live."""
    t = translator(lang_of(request))
    base = f"/console/sites/{site_id}/cameras/{camera_id}"

    def note(what: str, at: datetime | None) -> str:
        return t(what) + (t("picture_at").format(at=china_text(at)) if at else "")

    out = []
    if offline:
        if stored is not None:
            out.append({"src": f"{base}/last-snapshot.jpg", "note": note("zone_offline", stored)})
        if evidence is not None:
            out.append({"src": evidence[0], "note": note("zone_offline", evidence[1])})
        return out
    if live:
        out.append({"src": f"{base}/snapshot.jpg", "note": ""})
    if evidence is not None:
        out.append({"src": evidence[0], "note": note("zone_fallback", evidence[1]) if live else ""})
    return out


@router.get("/sites/{site_id}/cameras/{camera_id}/zones", response_class=HTMLResponse)
def zones_page(
    request: Request, sessions: Sessions, settings: Settings, site_id: str, camera_id: str
) -> HTMLResponse:
    who, csrf = login(request)
    who.require(*ZONE_EDITORS)  # the others could draw but never save: no editor for them
    with sessions() as s:
        project = check_site(s, who, site_id)
        cams = {c["camera_id"]: c for c in site_cameras(s, site_id, settings.cameras)}
        evidence = latest_frame(s, site_id, camera_id)
        places = place_names(s, [site_id])
    cam = cams.get(camera_id, {})
    status = cam.get("status") or {}
    offline = status.get("state") == "offline"
    # the live frame when the site has an edge box to ask and the camera is not offline
    live = project is not None and bool(project.evidence_base_url) and camera_id in cams
    kept = stored_snapshot(settings.data_dir, site_id, camera_id)
    pictures = _pictures(
        request, site_id, camera_id, offline, live, kept.at if kept else None, evidence
    )
    t = translator(lang_of(request))
    return render(
        request,
        "zones.html",
        who,
        csrf,
        site_id=site_id,
        camera_id=camera_id,
        site_name=places.project(site_id),
        camera_name=places.camera(site_id, camera_id),
        pictures=pictures,
        offline=offline,
        no_picture_note=t("zone_offline_none") if offline else "",
        zones_json=json.dumps(cam.get("zones", []), ensure_ascii=False),
    )


@router.get("/sites/{site_id}/cameras/{camera_id}/snapshot.jpg", response_class=Response)
def camera_snapshot(
    request: Request, sessions: Sessions, services: ServicesDep, site_id: str, camera_id: str
) -> Response:
    """The camera's live frame from its edge box (kept as its last one), for the editor."""
    who, _ = login(request)
    with sessions() as s:
        jpeg = live_snapshot(
            s, who, site_id, camera_id, services.settings, services.evidence_refusals
        )
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/sites/{site_id}/cameras/{camera_id}/last-snapshot.jpg", response_class=Response)
def camera_last_snapshot(
    request: Request, sessions: Sessions, settings: Settings, site_id: str, camera_id: str
) -> Response:
    """The last live frame the API kept of the camera (for the editor while it is offline)."""
    who, _ = login(request)
    with sessions() as s:
        check_site(s, who, site_id)
    kept = stored_snapshot(settings.data_dir, site_id, camera_id)
    if kept is None:
        raise NotFound(f"no live frame of camera {camera_id!r} has been kept")
    return Response(kept.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/sites/{site_id}/cameras/{camera_id}/zones")
def zones_save(
    request: Request,
    site_id: str,
    camera_id: CameraId,
    csrf: Annotated[str, Form()],
    zones: Annotated[str, Form(max_length=200_000)],
) -> Response:
    who = form_login(request, csrf)
    url = f"/console/sites/{site_id}/cameras/{camera_id}/zones"
    try:
        doc = json.loads(zones)
        if not isinstance(doc, list):
            raise ValueError(f"expected a JSON list of zones, got {type(doc).__name__}")
        parsed = [Zone.model_validate(z) for z in doc]
    except RecursionError:  # nesting too deep to parse
        return back(url, err="invalid zones: nested too deep")
    except (ValueError, ValidationError) as exc:
        return back(url, err=f"invalid zones: {str(exc)[:300]}")
    return act(
        request,
        url,
        lambda s: save_zones(s, who, site_id, camera_id, parsed),
        done_url=f"/console/sites/{site_id}",
        msg="saved",
    )
