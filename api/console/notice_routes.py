"""Console: the notices list with filters, search, sort, pages, countdowns and an Excel
export, one notice as item cards with
its workflow actions, the contractor's reply to each item (and to the whole notice) with
proof photos, the proof photos themselves."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from siteguard.api.access.keys import Principal, visible_projects
from siteguard.api.bulletin.supervision import notice_banner
from siteguard.api.console.deps import act, back, form_login, hazard_name, lang_of, login, render
from siteguard.api.console.text import translator
from siteguard.api.deps import RecordId, Sessions, Settings
from siteguard.api.errors import DomainError, NotFound
from siteguard.api.notices import workflow
from siteguard.api.notices.countdown import countdown_text
from siteguard.api.notices.listing import NoticeFilter, notice_rows, notices_xlsx, page_of
from siteguard.api.notices.progress import notice_progress
from siteguard.api.notices.proof import read_photos, store_photos
from siteguard.api.notices.queries import (
    history_json,
    load_notice,
    notice_by_number,
    notice_history,
)
from siteguard.api.notices.views import notice_detail
from siteguard.api.statuses import NoticeStatus
from siteguard.api.store.clock import china_text, now_naive
from siteguard.api.store.tables import NoticeHistoryRow, NoticeRow

router = APIRouter()


Pick = Annotated[str, Query(max_length=64)]


def list_filter(
    site: Pick = "",
    status: Pick = "",
    level: Pick = "",
    overdue: Pick = "",
    q: Pick = "",
    sort: Pick = "deadline",
    order: Pick = "asc",
) -> NoticeFilter:
    return NoticeFilter(site, status, level, overdue, q, sort, order)


ListFilter = Annotated[NoticeFilter, Depends(list_filter)]


@router.get("/notices", response_class=HTMLResponse)
def notices_page(
    request: Request,
    sessions: Sessions,
    f: ListFilter,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        projects = visible_projects(s, who)
        p = page_of(notice_rows(s, who, f, now_naive()), page)
    query = f.query()

    def link(**over: object) -> str:
        """This list with some choices changed (a new choice starts at page 1)."""
        q = {k: str(v) for k, v in dict(query, **over).items() if v and v != 1}
        return "/console/notices" + (f"?{urlencode(q)}" if q else "")

    def sort_link(column: str) -> str:
        """The header's link: this column ascending, or the other way when it is the sort."""
        flip = "desc" if f.sort == column and f.order == "asc" else "asc"
        return link(sort=column, order=flip)

    return render(
        request,
        "notices.html",
        who,
        csrf,
        p=p,
        notices=p.rows,
        projects=projects,
        f=f,
        link=link,
        sort_link=sort_link,
        export=f"/console/notices.xlsx?{urlencode(query)}" if query else "/console/notices.xlsx",
        countdown=countdown_text,
    )


@router.get("/notices.xlsx")
def notices_export(request: Request, sessions: Sessions, f: ListFilter) -> Response:
    """The listed notices (every page) as an Excel workbook in the reader's language."""
    who, _csrf = login(request)
    lang = lang_of(request)
    t = translator(lang)
    with sessions() as s:
        rows = notice_rows(s, who, f, now_naive())
    names = {st: t("st_" + st) for st in ("issued", "rectifying", "submitted", "closed")}
    name = "整改通知" if lang == "zh" else "notices"
    return Response(
        notices_xlsx(rows, names, lang),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.xlsx"},
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


def _issued_row(n: NoticeRow) -> dict[str, object]:
    """The notice's first step, 下发: not a workflow transition, so not in its history
    table, but the first thing a reader of the history looks for."""
    return dict(
        at=china_text(n.issued_at),
        actor=n.issuer,
        role="inspector",
        action="issue",
        from_status="",
        to_status=NoticeStatus.ISSUED,
        comment="",
        attachments=[],
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
def notice_page(request: Request, sessions: Sessions, notice_id: RecordId) -> HTMLResponse:
    who, csrf = login(request)
    with sessions() as s:
        n = load_notice(s, notice_id, who)
        view = notice_detail(n, notice_progress(s, n, now_naive()))
        history = [_issued_row(n)] + [_history_row(r) for r in notice_history(s, notice_id)]
        supervisions = notice_banner(s, n)  # 督办 of its hazards (api/bulletin/supervision)
    actions = allowed_actions(who, view["status"])
    return render(
        request,
        "notice.html",
        who,
        csrf,
        n=view,
        p=view["progress"],
        history=history,
        actions=actions,
        can_reply="submit" in actions,  # the contractor, while the notice is rectifying
        supervisions=supervisions,
        countdown=countdown_text,
        type_name=lambda hazard_type: hazard_name(request, hazard_type),
    )


def _uploads(photos: list[UploadFile | str] | None) -> list[UploadFile]:
    """The files chosen (a file input left empty sends an empty part, read as text)."""
    return [f for f in photos or [] if not isinstance(f, str) and f.filename]


# plain `def`s, not `async def`: FastAPI runs them in its thread pool, so decoding the
# proof photos (seconds for a big one) never holds up the event loop and every other request
@router.post("/notices/{notice_id}/items/{no}/reply")
def item_reply(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    notice_id: RecordId,
    no: Annotated[int, Path(ge=1, le=2_147_483_647)],
    csrf: Annotated[str, Form()],
    reply: Annotated[str, Form(max_length=4000)] = "",
    photos: Annotated[list[UploadFile | str] | None, File()] = None,
) -> Response:
    """The contractor's reply to one item; back to that item's card."""
    who = form_login(request, csrf)
    url = f"/console/notices/{notice_id}"
    try:  # too many photos is the domain's refusal too: shown on the page
        files = read_photos((f.filename, f.file) for f in _uploads(photos))
        with sessions.begin() as s:
            n = load_notice(s, notice_id, who)
            who.require("contractor")
            if not reply.strip() or not files:
                t = translator(lang_of(request))
                return back(url, err=t("item_reply_needs"))
            stored = store_photos(settings.data_dir, n.number, files, settings.proof_max_pixels)
            workflow.reply_to_item(s, n, no, who, reply, stored)
    except DomainError as exc:
        return back(url, err=exc.said_in(lang_of(request)))
    done = translator(lang_of(request))("item_replied").format(no=no)
    return RedirectResponse(f"{url}?msg={quote(done)}#item-{no}", 303)


@router.post("/notices/{notice_id}/submit")
def notice_submit(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    notice_id: RecordId,
    csrf: Annotated[str, Form()],
    reply: Annotated[str, Form(max_length=4000)] = "",
    photos: Annotated[list[UploadFile | str] | None, File()] = None,
) -> Response:
    """Submit for re-inspection: the items' replies, or one reply for the unanswered."""
    who = form_login(request, csrf)
    url = f"/console/notices/{notice_id}"
    try:  # too many photos is the domain's refusal too: shown on the page
        files = read_photos((f.filename, f.file) for f in _uploads(photos))
        with sessions.begin() as s:
            n = load_notice(s, notice_id, who)
            stored = store_photos(settings.data_dir, n.number, files, settings.proof_max_pixels)
            workflow.apply(s, n, "submit", who, reply, stored)
    except DomainError as exc:
        return back(url, err=exc.said_in(lang_of(request)))
    return back(url, msg=translator(lang_of(request))("done_submit"))


DONE = ("acknowledge", "accept", "reject")  # the flash that says what happened


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
        return back(url, err=translator(lang_of(request))("submit_needs_photos"))
    return act(
        request,
        url,
        lambda s: workflow.apply(s, load_notice(s, notice_id, who), action, who, comment),
        msg=f"done_{action}" if action in DONE else "done",
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
