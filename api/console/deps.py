"""What every console page and form needs: the language, the login, rendering a template,
CSRF checks, and running a form's change in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from siteguard.api.access.keys import Principal
from siteguard.api.console.text import LANGS, translator
from siteguard.api.deps import console_login, get_services
from siteguard.api.documents.html import templates
from siteguard.api.errors import DomainError, Forbidden
from siteguard.contract.hazards import hazard_name as catalogue_name


class LoginRequired(Exception):
    """No console login: the app answers with a redirect to the login page."""


def lang_of(request: Request) -> str:
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
    lang = lang_of(request)
    # the language switch keeps the page's query (month, filters), not its one-off message
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "msg", "err")
    ]
    lang_url = "?" + urlencode([*kept, ("lang", "en" if lang == "zh" else "zh")])
    html = (
        templates()
        .get_template(f"console/{template}")
        .render(
            t=translator(lang),
            lang=lang,
            who=who,
            csrf=csrf,
            lang_url=lang_url,
            flash=request.query_params.get("msg"),
            error=ctx.pop("error", None) or request.query_params.get("err"),
            **ctx,
        )
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("sg_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


def login(request: Request) -> tuple[Principal, str]:
    found = console_login(request, get_services(request).sessions)
    if found is None:
        raise LoginRequired()
    return found


def check_csrf(csrf: str, expected: str) -> None:
    if not secrets.compare_digest(csrf, expected):
        raise Forbidden("missing or wrong CSRF token (reload the page)")


def form_login(request: Request, csrf: str) -> Principal:
    """The caller of a form that changes something: logged in, with the session's token."""
    who, expected = login(request)
    check_csrf(csrf, expected)
    return who


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
    domain's refusal (scope, workflow rule) shown as the error."""
    try:
        with get_services(request).sessions.begin() as s:
            change(s)
    except DomainError as exc:
        return back(url, err=exc.said_in(lang_of(request)))
    return back(done_url or url, msg=translator(lang_of(request))(msg))


def hazard_name(request: Request, hazard_type: str) -> str:
    return catalogue_name(hazard_type, lang_of(request))
