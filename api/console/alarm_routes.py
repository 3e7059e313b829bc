"""Console: the alarm centre (告警中心) of every role, each in its own scope: major hazards
and escalations with filters (project, camera, type, level, state, kind, 已阅, days),
counts, pages and evidence thumbnails, 已阅 marks, alerts arriving live with a banner and a
sound for a new major hazard, and, for regulators, 督办 and the way to the bulletin.

Live arrival is plain server-sent events: the page opens an ``EventSource`` on
``/console/alerts/stream``, which polls the database every `POLL_S` seconds for alerts
after the page's cursor (the push outbox id of the newest alert it showed) and sends each
new one as a rendered row. Why SSE rather than a fetch-poll or a library such as htmx: one
request per open page instead of one every 2 s (the login is looked up once per poll in the
same thread call, not once per request with its cookie and CSRF handling), the browser
reconnects by itself and resends the last event id (``Last-Event-ID``), no client code
keeps a cursor, and the page's dozen lines of script need no vendored dependency. Why the
database rather than a message bus: with two API replicas behind a balancer, the replica
holding the stream is rarely the one that stored the alert, but both read the same
database. A stream ends after `STREAM_S` (the browser reconnects), so a revoked key or an
expired session stops it within a poll.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from siteguard.api.access.keys import PEOPLE, Principal, visible_projects
from siteguard.api.bulletin.alerts import (
    Alert,
    AlertFilter,
    AlertPage,
    alert_page,
    arrivals,
    known_before,
    mark_read,
)
from siteguard.api.bulletin.supervision import end_of_china_day, supervise
from siteguard.api.console.deps import form_login, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import RecordId, Sessions, console_login, get_services
from siteguard.api.documents.html import templates
from siteguard.api.errors import DomainError, Forbidden, Invalid
from siteguard.api.sites.names import PlaceNames, place_names
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.clock import CHINA, china_text
from siteguard.contract.hazards import HazardType, hazard_name

router = APIRouter()
POLL_S = 2.0
STREAM_S = 300.0
Pick = Annotated[str, Query(max_length=64)]
PickForm = Annotated[str, Form(max_length=64)]
Day = Annotated[str, Query(max_length=10)]
DayForm = Annotated[str, Form(max_length=10)]


def _reader(request: Request) -> tuple[Principal, str]:
    who, csrf = login(request)
    if who.role not in PEOPLE and who.role != "admin":
        raise Forbidden(f"role {who.role} has no alarm centre")
    return who, csrf


def _filter(
    site: str,
    hazard_type: str,
    level: str,
    escalated: str,
    read: str,
    camera: str,
    status: str,
    since: str,
    until: str,
) -> AlertFilter:
    if site and "/" in camera and not camera.startswith(f"{site}/"):
        camera = ""  # the project was changed after a camera of another one was chosen
    return AlertFilter(
        site,
        hazard_type,
        level,
        escalated if escalated in ("yes", "no") else "",
        read if read in ("read", "unread") else "",
        camera,
        status,
        since,
        until,
    )


def query_filter(
    request: Request,
    site: Pick = "",
    hazard_type: Pick = "",
    level: Pick = "",
    escalated: Pick = "",
    read: Pick = "",
    camera: Pick = "",
    status: Pick = "",
    since: Day = "",
    until: Day = "",
) -> AlertFilter:
    """The page's filters from its query string. Days that cannot be used (a range that
    ends before it starts) are dropped and the page says why (`request.state`), so the
    reader keeps the alarm centre and the other filters instead of an error page."""
    try:
        return _filter(site, hazard_type, level, escalated, read, camera, status, since, until)
    except Invalid as exc:
        request.state.filter_error = exc
        return _filter(site, hazard_type, level, escalated, read, camera, status, "", "")


def form_filter(
    site: PickForm = "",
    hazard_type: PickForm = "",
    level: PickForm = "",
    escalated: PickForm = "",
    read: PickForm = "",
    camera: PickForm = "",
    status: PickForm = "",
    since: DayForm = "",
    until: DayForm = "",
) -> AlertFilter:
    """The filters a form posts back (to return to the same view)."""
    return _filter(site, hazard_type, level, escalated, read, camera, status, since, until)


QueryFilter = Annotated[AlertFilter, Depends(query_filter)]
FormFilter = Annotated[AlertFilter, Depends(form_filter)]
PageForm = Annotated[int, Form(ge=1, le=100_000)]


def row_view(a: Alert, p: AlertPage, names: dict[str, str], places: PlaceNames) -> dict[str, Any]:
    """One alert as the page's row (China time, the hazard's name in the page's language,
    the camera's registered name)."""
    h = a.hazard
    notice = p.notices.get(a.hazard_id)
    return {
        "key": a.key,
        "kind": a.kind,
        "hazard_id": a.hazard_id,
        "at": china_text(a.at),
        "site_name": a.site_name or a.site_id,
        "name": names.get(a.hazard_type, a.hazard_type),
        "status": h.status if h is not None else "open",
        "camera": places.camera(a.site_id, h.camera_id) if h is not None else "",
        "thumb": f"/api/v1/hazards/{a.hazard_id}/evidence.jpg" if h and h.evidence_uri else None,
        "read_at": china_text(a.read_at) if a.read_at is not None else None,
        "reader": p.reader,
        "supervised": p.supervised.get(a.hazard_id, 0),
        "notice": notice,
    }


def camera_labels(values: dict[str, int], places: PlaceNames) -> dict[str, str]:
    """The camera filter's option labels by value ("site/camera"): the camera's registered
    name, and the project's too when the options come from more than one project."""
    pairs = [tuple(v.split("/", 1)) for v in values if "/" in v]
    several = len({site for site, _cam in pairs}) > 1
    return {
        f"{site}/{cam}": places.camera(site, cam)
        + (f" · {places.project(site)}" if several else "")
        for site, cam in pairs
    }


def _names(request: Request) -> dict[str, str]:
    lang = lang_of(request)
    return {t.value: hazard_name(t.value, lang) for t in HazardType}


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    sessions: Sessions,
    f: QueryFilter,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    who, csrf = _reader(request)
    with sessions() as s:
        p = alert_page(s, who, f, page)
        projects = visible_projects(s, who)
        places = place_names(s, [pr.site_id for pr in projects])
    names = _names(request)
    problem = getattr(request.state, "filter_error", None)  # days query_filter dropped
    local_now = datetime.now(CHINA)  # bulletins are China-time months
    last_month = (local_now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    query = f.query()

    def link(**over: object) -> str:
        """This page's filters with some changed (a new filter starts at page 1)."""
        q = {k: str(v) for k, v in dict(query, **over).items() if v and v != 1}
        return "/console/alerts" + (f"?{urlencode(q)}" if q else "")

    return render(
        request,
        "alerts.html",
        who,
        csrf,
        p=p,
        rows=[row_view(a, p, names, places) for a in p.alerts],
        f=f,
        query=query,
        link=link,
        stream_qs=urlencode(dict(query, after=str(p.cursor))),
        projects=projects,
        cameras=sorted(c for c in p.counts["camera"] if c),
        camera_names=camera_labels(p.counts["camera"], places),
        hazard_types=[t.value for t in HazardType],
        statuses=[st.value for st in HazardStatus],
        month=last_month,
        names=names,
        today=local_now.date().isoformat(),
        can_supervise=_supervises(who),
        error=problem.said_in(lang_of(request)) if problem else "",
    )


def _supervises(who: Principal) -> bool:
    return who.role in ("regulator", "admin")


def _back(request: Request, f: AlertFilter, page: int, msg: str = "", err: str = "") -> Response:
    q = dict(f.query(), **({"page": str(page)} if page > 1 else {}))
    if msg:
        q["msg"] = translator(lang_of(request))(msg)
    if err:
        q["err"] = err
    return RedirectResponse("/console/alerts" + (f"?{urlencode(q)}" if q else ""), 303)


@router.post("/alerts/read")
def alerts_read(
    request: Request,
    sessions: Sessions,
    csrf: Annotated[str, Form()],
    alert: Annotated[list[str], Form(max_length=500)],
    f: FormFilter,
    page: PageForm = 1,
) -> Response:
    """已阅: one alert (its row's button) or every unread alert of the page."""
    who = form_login(request, csrf)
    try:
        refs = []
        for key in alert:
            kind, _, hid = key.rpartition("-")
            if not hid.isdigit() or len(hid) > 10:
                raise Invalid(f"not an alert: {key!r}")
            refs.append((kind, int(hid)))
        with sessions.begin() as s:
            mark_read(s, who, refs)
    except DomainError as exc:
        return _back(request, f, page, err=exc.said_in(lang_of(request)))
    return _back(request, f, page, msg="marked_read")


@router.post("/alerts/supervise/{hazard_id}")
def alerts_supervise(
    request: Request,
    sessions: Sessions,
    hazard_id: RecordId,
    csrf: Annotated[str, Form()],
    requirement: Annotated[str, Form(max_length=2000)],
    f: FormFilter,
    deadline: Annotated[str, Form(max_length=10)] = "",
    page: PageForm = 1,
) -> Response:
    """督办 from the alerts page: the deadline is a date (the end of that day, China time)."""
    who = form_login(request, csrf)
    try:
        try:
            due = end_of_china_day(date.fromisoformat(deadline)) if deadline else None
        except ValueError:
            raise Invalid(f"not a date: {deadline!r} (YYYY-MM-DD)") from None
        with sessions.begin() as s:
            supervise(s, who, hazard_id, requirement, due)
    except DomainError as exc:
        return _back(request, f, page, err=exc.said_in(lang_of(request)))
    return _back(request, f, page, msg="supervision_done")


@router.get("/alerts/stream")
async def alerts_stream(
    request: Request,
    f: QueryFilter,
    after: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> StreamingResponse:
    """Server-sent events: each alert arriving after ``after`` (or the Last-Event-ID the
    browser resends on reconnecting) as ``event: alert`` with its rendered row, and whether
    it is a new major hazard (the page's banner and sound)."""
    who, csrf = await run_in_threadpool(_reader, request)
    last = request.headers.get("last-event-id", "")
    cursor = int(last) if last.isdigit() and len(last) < 16 else after
    sessions = get_services(request).sessions
    lang = lang_of(request)
    t = translator(lang)
    names = _names(request)
    row_template = templates().get_template("console/alert_row.html")
    row_ctx = dict(
        t=t,
        csrf=csrf,
        query=f.query(),
        page=1,
        today=datetime.now(CHINA).date().isoformat(),
        arrived=True,
        can_supervise=_supervises(who),
    )

    def known() -> set[str]:
        with sessions() as s:
            return known_before(s, cursor)

    sent = await run_in_threadpool(known)

    def poll() -> tuple[list[str], bool]:
        nonlocal cursor
        if console_login(request, sessions) is None:
            return [], False  # logged out, key revoked or session expired
        with sessions() as s:
            p, cursor = arrivals(s, who, f, cursor, sent)
            places = place_names(s, (a.site_id for a in p.alerts))
        out = []
        for a in reversed(p.alerts):  # oldest first: each goes on top of the one before
            sent.add(a.key)
            row = row_view(a, p, names, places)
            html = row_template.render(a=row, **row_ctx)
            major = a.kind == "major_hazard"
            data = json.dumps(
                {
                    "key": a.key,
                    "html": html,
                    "major": major,
                    "banner": f"{t(a.kind)}: {row['site_name']} {row['camera']} {row['name']}",
                    "href": f"/console/hazards/{a.hazard_id}",
                },
                ensure_ascii=False,
            )
            out.append(f"event: alert\nid: {cursor}\ndata: {data}\n\n")
        return out, True

    async def events() -> AsyncIterator[str]:
        yield f"retry: {int(POLL_S * 1000)}\n\n"
        ends = time.monotonic() + STREAM_S
        while time.monotonic() < ends and not await request.is_disconnected():
            chunks, go_on = await run_in_threadpool(poll)
            if not go_on:
                return
            yield "".join(chunks) or ": idle\n\n"
            await asyncio.sleep(POLL_S)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
