"""Console: the inspector's inbox (待处理): open hazards on no notice yet, across the
inspector's projects, major first and oldest first, with the evidence thumbnail and age;
confirmed (确认隐患: who and when) or not yet; confirm one hazard or a selection; issue a
notice from one hazard or from a selection (合并下发: one notice per project; issuing
confirms), or open a hazard to dismiss it with a reason. Every action goes through the
API's own domain functions (api/hazards/confirm.py, api/notices/issue.py), in one
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field

from siteguard.api.console.deps import back, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import Sessions, Settings, get_services
from siteguard.api.errors import DomainError, Forbidden
from siteguard.api.hazards.confirm import confirm_hazards
from siteguard.api.hazards.queries import visible_hazards
from siteguard.api.notices.issue import issue_for_hazards
from siteguard.api.sites.names import place_names
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import china_text, now_naive

# a record id (a signed 32-bit integer, like RecordId in paths): an absurd one is a 422,
# never a driver's overflow
HazardIdForm = Annotated[int, Field(ge=1, le=2_147_483_647)]
router = APIRouter()
INBOX_ROLES = ("inspector", "admin")
INBOX_MAX = 300


def age_text(since: datetime, now: datetime, lang: str) -> str:
    """How long a hazard has waited, for people: 3 天 / 5 小时 / 12 分钟."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, hours = minutes // 1440, minutes // 60
    if lang == "zh":
        return f"{days} 天" if days else f"{hours} 小时" if hours else f"{minutes} 分钟"
    return f"{days} d" if days else f"{hours} h" if hours else f"{minutes} min"


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, sessions: Sessions) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in INBOX_ROLES:
        raise Forbidden("inspectors only")
    lang, now = lang_of(request), now_naive()
    with sessions() as s:
        hazards = visible_hazards(s, who, status=HazardStatus.OPEN, limit=INBOX_MAX)
        places = place_names(s, (h.site_id for h in hazards))
    rank = {"major": 0, "general": 1}
    hazards.sort(key=lambda h: (rank.get(h.level, 2), h.first_seen))
    rows = [
        dict(
            id=h.id,
            site_id=h.site_id,
            site_name=places.project(h.site_id),
            camera=places.camera(h.site_id, h.camera_id),
            level=h.level,
            name=hazard_name(request, h.hazard_type),
            first=china_text(h.first_seen),
            age=age_text(h.first_seen, now, lang),
            picture=bool(h.evidence_uri),
            confirmed_by=h.confirmed_by if h.confirmed_at is not None else "",
            confirmed_at=china_text(h.confirmed_at) if h.confirmed_at is not None else "",
        )
        for h in hazards
    ]
    counts = {
        "total": len(rows),
        "major": sum(r["level"] == "major" for r in rows),
        "sites": len({r["site_id"] for r in rows}),
        "confirmed": sum(bool(r["confirmed_at"]) for r in rows),
    }
    return render(request, "inbox.html", who, csrf, rows=rows, counts=counts)


@router.post("/inbox/issue")
def inbox_issue(
    request: Request,
    settings: Settings,
    csrf: Annotated[str, Form()],
    hazard: Annotated[list[HazardIdForm] | None, Form()] = None,
) -> RedirectResponse:
    """Issue the chosen hazards: one notice (to its notice page), or several (the list)."""
    who = form_login(request, csrf)
    if not hazard:  # 合并下发 with nothing ticked: say so on the inbox, not a 422 page
        return back("/console/inbox", err=translator(lang_of(request))("choose_one"))
    try:
        with get_services(request).sessions.begin() as s:
            notices = issue_for_hazards(s, who, hazard, settings.deadlines)
            numbers = [(n.id, n.number) for n in notices]
    except DomainError as exc:
        return back("/console/inbox", err=exc.said_in(lang_of(request)))
    said = f"{translator(lang_of(request))('issued_notices')}: " + ", ".join(n for _, n in numbers)
    if len(numbers) == 1:
        return back(f"/console/notices/{numbers[0][0]}", msg=said)
    return back("/console/notices", msg=said)


@router.post("/inbox/confirm")
def inbox_confirm(
    request: Request,
    csrf: Annotated[str, Form()],
    one: Annotated[HazardIdForm | None, Form()] = None,
    hazard: Annotated[list[HazardIdForm] | None, Form()] = None,
) -> RedirectResponse:
    """确认隐患: the card's own button (``one``), else the ticked hazards; back to the inbox."""
    who = form_login(request, csrf)
    chosen = [one] if one is not None else hazard or []
    if not chosen:
        return back("/console/inbox", err=translator(lang_of(request))("choose_one"))
    try:
        with get_services(request).sessions.begin() as s:
            ids = [h.id for h in confirm_hazards(s, who, chosen)]
    except DomainError as exc:
        return back("/console/inbox", err=exc.said_in(lang_of(request)))
    said = f"{translator(lang_of(request))('confirmed_n')}: " + ", ".join(f"#{i}" for i in ids)
    return back("/console/inbox", msg=said)
