"""Console: one hazard with its evidence and messages; dismissing a false alarm."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from siteguard.api.console.deps import act, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import RecordId, Sessions
from siteguard.api.hazards.evidence import clip_uri
from siteguard.api.hazards.queries import load_hazard
from siteguard.api.notices import workflow
from siteguard.api.notices.queries import notice_of_hazard
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import china_text

router = APIRouter()


@router.get("/hazards/{hazard_id}", response_class=HTMLResponse)
def hazard_page(request: Request, sessions: Sessions, hazard_id: RecordId) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        h = load_hazard(s, who, hazard_id)
        notice = notice_of_hazard(s, h.id)
        # the latest message that carried boxes (an end message has none)
        boxes: list[dict[str, object]] = []
        score = None
        for e in reversed(h.events):
            payload = json.loads(e.payload)
            boxes = payload.get("boxes") or []
            score = score if score is not None else payload.get("score")
            if boxes:
                break
        events = [
            dict(
                event_id=e.event_id,
                seq=e.seq,
                state=e.state,
                level=e.level,
                at=china_text(e.frame_time),
            )
            for e in h.events
        ]
    # through the API, like the picture: offices rarely reach the site box
    clip = f"/api/v1/hazards/{h.id}/clip.mp4" if clip_uri(h.evidence_uri) else None
    return render(
        request,
        "hazard.html",
        who,
        csrf,
        h=h,
        name=hazard_name(request, h.hazard_type),
        # the edge writes its reason in English: a Chinese reader gets the rule and score
        reason=h.reason
        if lang_of(request) == "en" or score is None
        else translator("zh")("reason_zh").format(
            name=hazard_name(request, h.hazard_type), score=f"{float(score):.2f}"
        ),
        first_local=china_text(h.first_seen),
        last_local=china_text(h.last_seen),
        boxes=boxes,
        events=events,
        clip=clip,
        notice=notice,
        can_dismiss=who.role in ("admin", "inspector")
        and h.status not in (HazardStatus.CLOSED, HazardStatus.DISMISSED),
        can_issue=who.role in ("admin", "inspector") and h.status == HazardStatus.OPEN,
    )


@router.post("/hazards/{hazard_id}/dismiss")
def hazard_dismiss(
    request: Request,
    hazard_id: RecordId,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    who = form_login(request, csrf)
    return act(
        request,
        f"/console/hazards/{hazard_id}",
        lambda s: workflow.dismiss(s, load_hazard(s, who, hazard_id), who, reason),
    )
