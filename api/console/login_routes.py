"""Console login and logout (an API key stands behind every session)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from siteguard.api.access.sessions import (
    SESSION_COOKIE,
    SESSION_HOURS,
    close_session,
    open_session,
)
from siteguard.api.console.deps import check_csrf, lang_of, render
from siteguard.api.console.text import translator
from siteguard.api.deps import Sessions, console_login

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/login")
def login_post(
    request: Request,
    sessions: Sessions,
    key: Annotated[str, Form(max_length=200)],
    next: str = "/console/",
) -> Response:
    with sessions.begin() as s:
        token = open_session(s, key)
    if token is None:
        return render(
            request, "login.html", error=translator(lang_of(request))("bad_key"), status=401
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


@router.post("/logout")
def logout(request: Request, sessions: Sessions, csrf: Annotated[str, Form()] = "") -> Response:
    found = console_login(request, sessions)
    if found is not None:
        check_csrf(csrf, found[1])
        with sessions.begin() as s:
            close_session(s, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response
