"""Console: one hazard as the inspector works it: the evidence and what the model saw, the
confirmation (确认隐患), the contractor's proof photos beside the hazard photo, one
re-inspection form (复查通过 / 复查不通过) with a confirmation step, the hazard's history,
and dismissing a false alarm.

The re-inspection is two submits: the first checks the form (a rejection needs an
opinion) and answers the page with the decision to confirm; only the second, carrying
``confirmed=yes``, changes the notice (`workflow.apply`). ``confirmed=edit`` goes back to
the form with what was typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.console.deps import act, back, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import RecordId, Sessions
from siteguard.api.errors import NotFound
from siteguard.api.hazards.confirm import confirm, confirmation
from siteguard.api.hazards.detections import latest_detection
from siteguard.api.hazards.evidence import clip_uri
from siteguard.api.hazards.history import hazard_history, hazard_proof
from siteguard.api.hazards.queries import load_hazard
from siteguard.api.notices import workflow
from siteguard.api.notices.queries import notice_of_hazard
from siteguard.api.sites.names import place_names
from siteguard.api.statuses import HazardStatus, NoticeStatus
from siteguard.api.store.clock import china_text
from siteguard.api.store.tables import NoticeRow

router = APIRouter()
INSPECTORS = ("admin", "inspector")
DECISIONS = ("accept", "reject")


def _may(who: Principal, action: str) -> bool:
    return who.role == "admin" or who.role in workflow.TRANSITIONS[action].roles


def _page(
    request: Request,
    s: Session,
    who: Principal,
    csrf: str,
    hazard_id: int,
    review: dict[str, str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    h = load_hazard(s, who, hazard_id)
    notice = notice_of_hazard(s, h.id)
    seen = latest_detection(h)
    entries = hazard_history(s, h, notice)
    proof = hazard_proof(s, h, notice, entries)
    conf = confirmation(h, notice)
    open_ = h.status == HazardStatus.OPEN
    name = hazard_name(request, h.hazard_type)
    places = place_names(s, [h.site_id])
    # the edge writes its reason in English: a Chinese reader gets the rule and score
    reason = (
        h.reason
        if lang == "en" or seen.score is None
        else translator("zh")("reason_zh").format(name=name, score=f"{seen.score:.2f}")
    )
    return render(
        request,
        "hazard.html",
        who,
        csrf,
        error=error,
        h=h,
        name=name,
        reason=reason,
        site_name=places.project(h.site_id),
        camera_name=places.camera(h.site_id, h.camera_id),
        first_local=china_text(h.first_seen),
        last_local=china_text(h.last_seen),
        seen=seen,
        seen_at=china_text(seen.at) if seen.at else "",
        events=[
            dict(
                event_id=e.event_id,
                seq=e.seq,
                state=e.state,
                level=e.level,
                at=china_text(e.frame_time),
            )
            for e in h.events
        ],
        # through the API, like the picture: offices rarely reach the site box
        clip=f"/api/v1/hazards/{h.id}/clip.mp4" if clip_uri(h.evidence_uri) else None,
        notice=notice,
        notice_size=len(notice.items) if notice is not None else 0,
        confirmed=conf,
        confirmed_at=china_text(conf.at) if conf else "",
        history=[dict(vars(e), at=china_text(e.at)) for e in entries],
        proof=proof,
        proof_at=china_text(proof.at) if proof else "",
        can_confirm=who.role in INSPECTORS and open_ and conf is None,
        can_issue=who.role in INSPECTORS and open_,
        can_dismiss=who.role in INSPECTORS
        and h.status not in (HazardStatus.CLOSED, HazardStatus.DISMISSED),
        can_review=notice is not None
        and notice.status == NoticeStatus.SUBMITTED
        and _may(who, "accept"),
        review=review,
    )


@router.get("/hazards/{hazard_id}", response_class=HTMLResponse)
def hazard_page(request: Request, sessions: Sessions, hazard_id: RecordId) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        return _page(request, s, who, csrf, hazard_id)


@router.post("/hazards/{hazard_id}/confirm")
def hazard_confirm(request: Request, hazard_id: RecordId, csrf: Annotated[str, Form()]) -> Response:
    who = form_login(request, csrf)
    return act(
        request,
        f"/console/hazards/{hazard_id}",
        lambda s: confirm(s, load_hazard(s, who, hazard_id), who),
        msg="confirmed_done",
    )


def _notice(s: Session, who: Principal, hazard_id: int) -> NoticeRow:
    notice = notice_of_hazard(s, load_hazard(s, who, hazard_id).id)
    if notice is None:
        raise NotFound(f"hazard {hazard_id} is on no notice: there is nothing to re-inspect")
    return notice


@router.post("/hazards/{hazard_id}/review", response_model=None)
def hazard_review(
    request: Request,
    sessions: Sessions,
    hazard_id: RecordId,
    csrf: Annotated[str, Form()],
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """复查: the first submit answers the page with the decision to confirm; the second
    (``confirmed=yes``) accepts or rejects the hazard's notice."""
    who = form_login(request, csrf)
    t = translator(lang_of(request))
    url = f"/console/hazards/{hazard_id}"
    if decision not in DECISIONS:
        return back(url, err=t("review_pick"))
    if decision == "reject" and not comment.strip():
        with sessions() as s:  # the form again, with the opinion it lacks
            return _page(
                request, s, who, csrf, hazard_id, {"decision": decision}, t("review_need_opinion")
            )
    if confirmed != "yes":  # step 1 (or back from step 2 to change it): nothing changes yet
        step = "edit" if confirmed == "edit" else "check"
        with sessions() as s:
            return _page(
                request,
                s,
                who,
                csrf,
                hazard_id,
                {"decision": decision, "comment": comment, "step": step},
            )
    return act(
        request,
        url,
        lambda s: workflow.apply(s, _notice(s, who, hazard_id), decision, who, comment),
        msg=f"review_{decision}_done",
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
