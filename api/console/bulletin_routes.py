"""Console: the monthly bulletin, its body rendered inside the console (no frame), with
links to the PDF to file, the Excel workbook and the printable page."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from siteguard.api.bulletin.changes import months_until
from siteguard.api.bulletin.render import bulletin_context
from siteguard.api.bulletin.report import bulletin_for
from siteguard.api.console.deps import lang_of, login, render
from siteguard.api.deps import Sessions, Settings
from siteguard.api.errors import Invalid
from siteguard.api.risk.signals import Period
from siteguard.api.store.clock import CHINA

router = APIRouter()


@router.get("/bulletin", response_class=HTMLResponse)
def bulletin_page(
    request: Request,
    sessions: Sessions,
    settings: Settings,
    month: str = "",
    jurisdiction: str = "",
) -> HTMLResponse:
    who, csrf = login(request)
    if not month:  # the navigation's link: the last whole month, China time
        first = datetime.now(CHINA).replace(day=1)
        month = (first - timedelta(days=1)).strftime("%Y-%m")
    try:
        Period.month(month)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    lang = lang_of(request)
    with sessions() as s:
        b = bulletin_for(s, who, month, jurisdiction or None, settings)
    params = {"month": month, "lang": lang}
    if who.role == "admin":
        params["jurisdiction"] = b["jurisdiction"]
    query = urlencode(params)
    nav = {"jurisdiction": b["jurisdiction"]} if who.role == "admin" else {}
    year, mon = (int(x) for x in month.split("-"))
    following = f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"
    return render(
        request,
        "bulletin.html",
        who,
        csrf,
        month=month,
        query=query,
        previous_url="/console/bulletin?" + urlencode({"month": months_until(month, 2)[0], **nav}),
        next_url="/console/bulletin?" + urlencode({"month": following, **nav}),
        **bulletin_context(b, lang),
    )
