"""Console: the notices list with filters, one notice with its workflow actions, the
contractor's reply with proof photos, the proof photos themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response

from siteguard.api.access.keys import Principal, visible_projects
from siteguard.api.bulletin.supervision import notice_banner
from siteguard.api.console.deps import act, back, form_login, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import RecordId, Sessions, Settings
from siteguard.api.errors import DomainError, NotFound
from siteguard.api.notices import workflow
from siteguard.api.notices.proof import read_photos, store_photos
from siteguard.api.notices.queries import (
    history_json,
    load_notice,
    notice_by_number,
    notice_history,
    visible_notices,
)
from siteguard.api.notices.views import notice_view
from siteguard.api.statuses import NoticeStatus
from siteguard.api.store.clock import china_text, now_naive
from siteguard.api.store.tables import NoticeHistoryRow

router = APIRouter()


@router.get("/notices", response_class=HTMLResponse)
def notices_page(
    request: Request,
    sessions: Sessions,
    site: str = "",
    status: str = "",
    level: str = "",
    overdue: str = "",
) -> HTMLResponse:
    who, csrf = login(request)
    now = now_naive()
    with sessions() as s:
        projects = visible_projects(s, who)
        rows = []
        for n in visible_notices(s, who, site or None, status or None, limit=500):
            levels = [i.level for i in n.items]
            late = n.status != NoticeStatus.CLOSED and any(i.deadline < now for i in n.items)
            if (level and level not in levels) or (overdue and not late):
                continue
            rows.append(
                dict(
                    id=n.id,
                    number=n.number,
                    project=n.project.name or n.project.site_id,
                    status=n.status,
                    item_count=len(n.items),  # not `items`: Jinja would find dict.items
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


def _history_row(r: NoticeHistoryRow) -> dict[str, object]:
    j = history_json(r)
    return dict(
        at=china_text(r.at),
        actor=j["actor"],
        role=j["role"],
        action=j["action"],
        from_status=j["from"],
        to_status=j["to"],
        comment=j["comment"],
        attachments=j["attachments"],
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(request: Request, sessions: Sessions, notice_id: RecordId) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        n = load_notice(s, notice_id, who)
        view = notice_view(n)
        statuses = {i.hazard_id: i.hazard.status for i in n.items}
        history = [_history_row(r) for r in notice_history(s, notice_id)]
        supervisions = notice_banner(s, n)  # 督办 of its hazards (api/bulletin/supervision)
    return render(
        request,
        "notice.html",
        who,
        csrf,
        n=view,
        statuses=statuses,
        history=history,
        actions=allowed_actions(who, view["status"]),
        supervisions=supervisions,
    )


# a plain `def`, not `async def`: FastAPI runs it in its thread pool, so decoding the
# proof photos (seconds for a big one) never holds up the event loop and every other request
@router.post("/notices/{notice_id}/submit")
def notice_submit(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    notice_id: RecordId,
    csrf: Annotated[str, Form()],
    reply: Annotated[str, Form(max_length=4000)],
    photos: Annotated[list[UploadFile], File()],
) -> Response:
    who = form_login(request, csrf)
    url = f"/console/notices/{notice_id}"
    files = read_photos((f.filename, f.file) for f in photos)
    try:
        with sessions.begin() as s:
            n = load_notice(s, notice_id, who)
            stored = store_photos(settings.data_dir, n.number, files, settings.proof_max_pixels)
            workflow.apply(s, n, "submit", who, reply, stored)
    except DomainError as exc:
        return back(url, err=exc.detail)
    return back(url, msg=translator(lang_of(request))("done"))


@router.post("/notices/{notice_id}/{action}")
def notice_action(
    request: Request,
    notice_id: RecordId,
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


@router.get("/proof/proof/{number}/{name}")
def proof_photo(
    request: Request, sessions: Sessions, settings: Settings, number: str, name: str
) -> FileResponse:
    who, _ = login(request)
    if "/" in name or ".." in name:
        raise NotFound("not found")
    with sessions() as s:
        notice_by_number(s, who, number)
    path = settings.data_dir / "proof" / number / name
    if not path.is_file():
        raise NotFound("not found")
    return FileResponse(path, media_type="image/jpeg")
