"""The web console: server-rendered pages over the same data, roles and scopes as the API.

Log in with an API key: the console keeps a random session token in an HttpOnly cookie
(only its sha256 is stored) that stands for the key, so every page sees exactly what the
key may see. Every form that changes something carries the session's CSRF token. Chinese
by default, English with ?lang=en (remembered in a cookie). Works on a phone-sized screen.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from siteguard.api import workflow
from siteguard.api.auth import (
    SESSION_COOKIE,
    Principal,
    check_site,
    hash_key,
    scope_filter,
    session_principal,
    visible_projects,
)
from siteguard.api.camera_routes import ZONE_EDITORS, save_zones, site_cameras
from siteguard.api.charts import line_chart
from siteguard.api.console_text import LANGS, translator
from siteguard.api.evidence_cache import clip_uri
from siteguard.api.hazard_routes import load_hazard
from siteguard.api.insurer_routes import INSURER_ROLES, month_labels, portfolio
from siteguard.api.measures import CHINA, HAZARD_NAMES_ZH, china_text, china_time
from siteguard.api.notice_routes import load_notice
from siteguard.api.notices import notice_view
from siteguard.api.proof import store_photos
from siteguard.api.push import now_naive
from siteguard.api.regulator_routes import alerts
from siteguard.api.risk import RiskSettings
from siteguard.api.risk_signals import Period, portfolio_risk
from siteguard.api.tables import (
    ApiKeyRow,
    ConsoleSessionRow,
    HazardRow,
    NoticeHistoryRow,
    NoticeItemRow,
    NoticeRow,
    ProjectRow,
)
from siteguard.pipeline.zones import Zone

router = APIRouter(include_in_schema=False)
SESSION_HOURS = 12
ZONE_COLOURS = {"edge": "#dc2626", "scaffold": "#d97706", "exclusion": "#7c3aed"}
_env = Environment(
    loader=PackageLoader("siteguard.api", "templates"), autoescape=select_autoescape()
)


class LoginRequired(Exception):
    pass


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}", 303)


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("sg_lang", "zh")
    return lang if lang in LANGS else "zh"


def render(
    request: Request,
    template: str,
    who: Principal | None = None,
    csrf: str = "",
    status: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    lang = _lang(request)
    html = _env.get_template(f"console/{template}").render(
        t=translator(lang),
        lang=lang,
        who=who,
        csrf=csrf,
        flash=request.query_params.get("msg"),
        error=ctx.pop("error", None) or request.query_params.get("err"),
        **ctx,
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("sg_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


def login(request: Request) -> tuple[Principal, str]:
    found = session_principal(request)
    if found is None:
        raise LoginRequired()
    return found


def form_login(request: Request, csrf: str) -> Principal:
    """The caller of a form that changes something: logged in, with the session's token."""
    who, expected = login(request)
    check_csrf(csrf, expected)
    return who


def check_csrf(csrf: str, expected: str) -> None:
    if not secrets.compare_digest(csrf, expected):
        raise HTTPException(403, detail="missing or wrong CSRF token (reload the page)")


def back(url: str, msg: str = "", err: str = "") -> RedirectResponse:
    q = f"?msg={quote(msg)}" if msg else f"?err={quote(err)}" if err else ""
    return RedirectResponse(url + q, 303)


def act(
    request: Request,
    url: str,
    change: Callable[[Session], object],
    done_url: str = "",
    msg: str = "done",
) -> RedirectResponse:
    """A form's change in one transaction, then back to the page with the outcome: the
    API's refusal (scope, workflow rule) shown as the error."""
    try:
        with request.app.state.services.sessions.begin() as s:
            change(s)
    except HTTPException as exc:
        return back(url, err=str(exc.detail))
    return back(done_url or url, msg=translator(_lang(request))(msg))


def hazard_name(request: Request, hazard_type: str) -> str:
    return HAZARD_NAMES_ZH.get(hazard_type, hazard_type) if _lang(request) == "zh" else hazard_type


# ---------------------------------------------------------------- login


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/console/login")
def login_post(
    request: Request, key: Annotated[str, Form(max_length=200)], next: str = "/console/"
) -> Response:
    with request.app.state.services.sessions.begin() as s:
        row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_sha256 == hash_key(key.strip())))
        if row is None or row.role == "edge":
            t = translator(_lang(request))
            return render(request, "login.html", error=t("bad_key"), status=401)
        token = secrets.token_urlsafe(32)
        now = now_naive()
        # expired logins are not kept: they are swept whenever someone logs in
        s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now))
        s.add(
            ConsoleSessionRow(
                token_sha256=hash_key(token),
                key_sha256=row.key_sha256,
                csrf=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
    target = next if next.startswith("/console/") else "/console/"
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/console/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = session_principal(request)
    if found is not None:
        check_csrf(csrf, found[1])
        with request.app.state.services.sessions.begin() as s:
            row = s.scalar(
                select(ConsoleSessionRow).where(ConsoleSessionRow.token_sha256 == hash_key(token))
            )
            if row is not None:
                s.delete(row)
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------- sites


@router.get("/console/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    who, csrf = login(request)
    with request.app.state.services.sessions() as s:
        projects = []
        for p in visible_projects(s, who):
            open_h = list(
                s.scalars(
                    select(HazardRow.level).where(
                        HazardRow.site_id == p.site_id,
                        HazardRow.status.in_(["open", "issued", "escalated"]),
                    )
                )
            )
            cams = site_cameras(s, p.site_id)
            projects.append(
                {
                    "site_id": p.site_id,
                    "name": p.name,
                    "contractor": p.contractor,
                    "open": len(open_h),
                    "open_major": sum(x == "major" for x in open_h),
                    "cameras": len(cams),
                    "online": sum(
                        bool(c["status"] and c["status"]["state"] == "online") for c in cams
                    ),
                }
            )
    return render(request, "sites.html", who, csrf, projects=projects)


def _latest_frames(s: Session, site_id: str) -> dict[str, str]:
    """camera -> the newest evidence picture (an annotated frame) the edge has sent, served
    through the API (which keeps a copy)."""
    rows = s.execute(
        select(HazardRow.camera_id, HazardRow.id)
        .where(HazardRow.site_id == site_id, HazardRow.evidence_uri.is_not(None))
        .order_by(HazardRow.evidence_time)
    ).all()
    return {cam: f"/api/v1/hazards/{hid}/evidence.jpg" for cam, hid in rows}


def timeline_svg(hazards: list[HazardRow], now: datetime, days: int = 7) -> Markup:
    """Open hazards as bars on a 7-day axis (red: major)."""
    start = now - timedelta(days=days)
    width, row_h = 600, 14
    height = 24 + max(len(hazards), 1) * row_h
    span = (now - start).total_seconds()
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for d in range(days + 1):
        x = 40 + (width - 50) * d / days
        label = china_time(start + timedelta(days=d)).strftime("%m-%d")
        parts.append(
            f'<line x1="{x:.0f}" x2="{x:.0f}" y1="12" y2="{height}" stroke="#e5e7eb"/>'
            f'<text x="{x:.0f}" y="10" font-size="9" text-anchor="middle">{label}</text>'
        )
    for i, h in enumerate(hazards):
        a = max((h.first_seen - start).total_seconds(), 0) / span
        b = max((h.last_seen - start).total_seconds(), 0) / span
        x1 = 40 + (width - 50) * a
        w = max((width - 50) * (b - a), 3)
        colour = "#dc2626" if h.level == "major" else "#2563eb"
        parts.append(
            f'<text x="0" y="{24 + i * row_h + 9}" font-size="9">#{h.id}</text>'
            f'<rect x="{x1:.1f}" y="{16 + i * row_h + 2}" width="{w:.1f}" height="{row_h - 4}" '
            f'fill="{colour}"><title>#{h.id} {h.hazard_type} {h.camera_id}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/console/sites/{site_id}", response_class=HTMLResponse)
def site_page(request: Request, site_id: str) -> HTMLResponse:
    who, csrf = login(request)
    with request.app.state.services.sessions() as s:
        project = check_site(s, who, site_id)
        frames = _latest_frames(s, site_id)
        cameras = [dict(c, frame=frames.get(c["camera_id"])) for c in site_cameras(s, site_id)]
        hazards = list(
            s.scalars(
                select(HazardRow)
                .where(
                    HazardRow.site_id == site_id,
                    HazardRow.status.in_(["open", "issued", "escalated"]),
                )
                .order_by(HazardRow.first_seen.desc())
                .limit(100)
            )
        )
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
        timeline=timeline_svg(hazards[:30], now_naive()),
        zone_colours=ZONE_COLOURS,
        can_edit=who.role in ZONE_EDITORS,
    )


@router.get("/console/sites/{site_id}/cameras/{camera_id}/zones", response_class=HTMLResponse)
def zones_page(request: Request, site_id: str, camera_id: str) -> HTMLResponse:
    who, csrf = login(request)
    with request.app.state.services.sessions() as s:
        check_site(s, who, site_id)
        cams = {c["camera_id"]: c for c in site_cameras(s, site_id)}
        frame = _latest_frames(s, site_id).get(camera_id)
    zones = cams.get(camera_id, {}).get("zones", [])
    return render(
        request,
        "zones.html",
        who,
        csrf,
        site_id=site_id,
        camera_id=camera_id,
        frame=frame,
        zones_json=json.dumps(zones, ensure_ascii=False),
    )


@router.post("/console/sites/{site_id}/cameras/{camera_id}/zones")
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


# ---------------------------------------------------------------- hazards


@router.get("/console/hazards/{hazard_id}", response_class=HTMLResponse)
def hazard_page(request: Request, hazard_id: int) -> HTMLResponse:
    who, csrf = login(request)
    with request.app.state.services.sessions() as s:
        h = load_hazard(s, who, hazard_id)
        item = s.scalar(
            select(NoticeItemRow)
            .where(NoticeItemRow.hazard_id == h.id)
            .options(selectinload(NoticeItemRow.notice))
        )
        latest = json.loads(h.events[-1].payload) if h.events else {}
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
        first_local=china_text(h.first_seen),
        last_local=china_text(h.last_seen),
        boxes=latest.get("boxes", []),
        events=events,
        clip=clip,
        notice=item.notice if item else None,
        can_dismiss=who.role in ("admin", "inspector") and h.status not in ("closed", "dismissed"),
    )


@router.post("/console/hazards/{hazard_id}/dismiss")
def hazard_dismiss(
    request: Request,
    hazard_id: int,
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    who = form_login(request, csrf)
    return act(
        request,
        f"/console/hazards/{hazard_id}",
        lambda s: workflow.dismiss(s, load_hazard(s, who, hazard_id), who, reason),
    )


# ---------------------------------------------------------------- notices


@router.get("/console/notices", response_class=HTMLResponse)
def notices_page(
    request: Request,
    site: str = "",
    status: str = "",
    level: str = "",
    overdue: str = "",
) -> HTMLResponse:
    who, csrf = login(request)
    now = now_naive()
    with request.app.state.services.sessions() as s:
        projects = visible_projects(s, who)
        q = (
            select(NoticeRow)
            .join(ProjectRow)
            .order_by(NoticeRow.id.desc())
            .options(
                selectinload(NoticeRow.items).selectinload(NoticeItemRow.hazard),
                selectinload(NoticeRow.project),
            )
            .limit(500)
        )
        if (cond := scope_filter(who)) is not None:
            q = q.where(cond)
        if site:
            q = q.where(ProjectRow.site_id == site)
        if status:
            q = q.where(NoticeRow.status == status)
        rows = []
        for n in s.scalars(q):
            levels = [i.level for i in n.items]
            late = n.status != "closed" and any(i.deadline < now for i in n.items)
            if (level and level not in levels) or (overdue and not late):
                continue
            rows.append(
                dict(
                    id=n.id,
                    number=n.number,
                    project=n.project.name or n.project.site_id,
                    status=n.status,
                    items=len(n.items),
                    major=levels.count("major"),
                    overdue=late,
                    deadline=china_text(min((i.deadline for i in n.items), default=n.issued_at)),
                    issued=china_text(n.issued_at),
                )
            )
    return render(
        request,
        "notices.html",
        who,
        csrf,
        notices=rows,
        projects=projects,
        f={"site": site, "status": status, "level": level, "overdue": overdue},
    )


def allowed_actions(who: Principal, status: str) -> list[str]:
    return [
        a
        for a, t in workflow.TRANSITIONS.items()
        if status in t.sources and (who.role in t.roles or who.role == "admin")
    ]


@router.get("/console/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(request: Request, notice_id: int) -> HTMLResponse:
    who, csrf = login(request)
    with request.app.state.services.sessions() as s:
        n = load_notice(s, notice_id, who)
        view = notice_view(n)
        statuses = {i.hazard_id: i.hazard.status for i in n.items}
        history = [
            dict(
                at=china_text(r.at),
                actor=r.actor,
                role=r.role,
                action=r.action,
                from_status=r.from_status,
                to_status=r.to_status,
                comment=r.comment,
                attachments=json.loads(r.attachments or "[]"),
            )
            for r in s.scalars(
                select(NoticeHistoryRow)
                .where(NoticeHistoryRow.notice_id == notice_id)
                .order_by(NoticeHistoryRow.id)
            )
        ]
    return render(
        request,
        "notice.html",
        who,
        csrf,
        n=view,
        statuses=statuses,
        history=history,
        actions=allowed_actions(who, view["status"]),
    )


@router.post("/console/notices/{notice_id}/submit")
async def notice_submit(
    request: Request,
    notice_id: int,
    csrf: Annotated[str, Form()],
    reply: Annotated[str, Form(max_length=4000)],
    photos: Annotated[list[UploadFile], File()],
) -> Response:
    who = form_login(request, csrf)
    url = f"/console/notices/{notice_id}"
    try:
        with request.app.state.services.sessions.begin() as s:
            n = load_notice(s, notice_id, who)
            data_dir = request.app.state.services.settings.data_dir
            stored = await store_photos(data_dir, n.number, photos)
            workflow.apply(s, n, "submit", who, reply, stored)
    except HTTPException as exc:
        return back(url, err=str(exc.detail))
    return back(url, msg=translator(_lang(request))("done"))


@router.post("/console/notices/{notice_id}/{action}")
def notice_action(
    request: Request,
    notice_id: int,
    action: str,
    csrf: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    who = form_login(request, csrf)
    url = f"/console/notices/{notice_id}"
    if action == "submit":
        return back(url, err="submit needs proof photos")
    return act(
        request,
        url,
        lambda s: workflow.apply(s, load_notice(s, notice_id, who), action, who, comment),
    )


@router.get("/console/proof/proof/{number}/{name}")
def proof_photo(request: Request, number: str, name: str) -> FileResponse:
    who, _ = login(request)
    with request.app.state.services.sessions() as s:
        n = s.scalar(
            select(NoticeRow)
            .where(NoticeRow.number == number)
            .options(selectinload(NoticeRow.project))
        )
        if n is None or not who.sees(n.project, n.project.site_id) or "/" in name or ".." in name:
            raise HTTPException(404, detail="not found")
    path = request.app.state.services.settings.data_dir / "proof" / number / name
    if not path.is_file():
        raise HTTPException(404, detail="not found")
    return FileResponse(path, media_type="image/jpeg")


# ---------------------------------------------------------------- regulator and insurer


@router.get("/console/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in ("regulator", "admin"):
        raise HTTPException(403, detail="regulators only")
    with request.app.state.services.sessions() as s:
        feed = alerts(s, who, limit=200)
    local_now = datetime.now(CHINA)  # bulletins are China-time months
    last_month = (local_now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "alerts.html",
        who,
        csrf,
        alerts=feed,
        month=last_month,
        names=HAZARD_NAMES_ZH if _lang(request) == "zh" else {},
    )


@router.get("/console/bulletin", response_class=HTMLResponse)
def bulletin_page(request: Request, month: str = "", jurisdiction: str = "") -> HTMLResponse:
    who, csrf = login(request)
    try:
        Period.month(month)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    return render(
        request,
        "bulletin.html",
        who,
        csrf,
        month=month,
        jurisdiction=quote(jurisdiction),
    )


@router.get("/console/risk", response_class=HTMLResponse)
def risk_page(request: Request) -> HTMLResponse:
    who, csrf = login(request)
    if who.role not in (*INSURER_ROLES, "admin"):
        raise HTTPException(403, detail="insurers only")
    settings = request.app.state.services.settings
    now = now_naive()
    period = Period.rolling(now)
    charts = {}
    with request.app.state.services.sessions() as s:
        rows = portfolio(s, who, period, settings)
        projects = visible_projects(s, who)
        labels = month_labels(now, 6)

        def cfg_of(p: ProjectRow) -> RiskSettings:
            return settings.risk_for(p.risk_product)

        months = [portfolio_risk(s, projects, Period.month(m), cfg_of) for m in labels]
        for p in projects:
            cfg = cfg_of(p)
            points = [(m, month[p.id][0].factor) for m, month in zip(labels, months, strict=True)]
            charts[p.site_id] = line_chart(points, "", lo=1 - cfg.band, hi=1 + cfg.band, height=120)
    return render(request, "risk.html", who, csrf, rows=rows, charts=charts, period=period.label)
