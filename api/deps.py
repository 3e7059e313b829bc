"""Typed request dependencies: the process's services, a database session, the caller.

Routes declare what they need (`Db`, `Settings`, `Caller`, ...) instead of reaching into
``request.app.state``; tests override them through FastAPI's ``dependency_overrides``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.access.keys import Principal, authenticate, hash_key
from siteguard.api.access.sessions import SESSION_COOKIE, session_principal
from siteguard.api.errors import Forbidden, Unauthorized
from siteguard.api.intake.events import Ingestor
from siteguard.api.services import Services
from siteguard.api.settings import ApiSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> ApiSettings:
    return services.settings


def get_sessions(services: ServicesDep) -> sessionmaker[Session]:
    return services.sessions


def get_ingestor(services: ServicesDep) -> Ingestor:
    return services.ingestor


Settings = Annotated[ApiSettings, Depends(get_settings)]
Sessions = Annotated[sessionmaker[Session], Depends(get_sessions)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]


def get_session(sessions: Sessions) -> Iterator[Session]:
    with sessions() as s:
        yield s


Db = Annotated[Session, Depends(get_session)]

# Record ids in paths: positive and within a signed 32-bit integer (SQLite and PostgreSQL
# both store them), so an absurd id is a 422, never a database overflow.
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647, description="record id")]
# Site and camera ids in paths: what the edge's site.yaml allows (and the columns hold)
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SiteId = Annotated[str, Path(pattern=IDENT, description="the edge's site id")]
CameraId = Annotated[str, Path(pattern=IDENT, description="camera id")]
SiteFilter = Annotated[str | None, Query(pattern=IDENT, description="only this site")]


def console_login(
    request: Request, sessions: sessionmaker[Session]
) -> tuple[Principal, str] | None:
    """The console login behind the request's session cookie, with its CSRF token."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    with sessions() as s:
        return session_principal(s, token)


def principal(request: Request, sessions: Sessions) -> Principal:
    """The caller: an API key (``Authorization: Bearer``) or a console session cookie. A
    cookie-authenticated change must carry the session's CSRF token (X-CSRF-Token). A
    revoked or expired key is refused (401); a call the role may never make, whatever
    its scope, is refused here for every route (403, `Principal.check_route`)."""
    header = request.headers.get("authorization", "")
    key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not key:
        login = console_login(request, sessions)
        if login is None:
            raise Unauthorized("missing API key (Authorization: Bearer <key>)")
        who, csrf = login
        if request.method not in SAFE_METHODS and not secrets.compare_digest(
            request.headers.get("x-csrf-token", ""), csrf
        ):
            raise Forbidden("missing or wrong CSRF token")
    else:
        with sessions() as s:
            who = authenticate(s, hash_key(key))
    route = request.scope.get("route")
    who.check_route(request.method, str(getattr(route, "path", request.url.path)))
    return who


Caller = Annotated[Principal, Depends(principal)]
