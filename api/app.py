"""The API service: `create_app(settings)` builds everything; nothing at import time.

Domain errors (`api.errors`) become HTTP here, in one place: ``{"error": ...}`` for
programs, an error page for people in the console.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException  # FastAPI's and Starlette's own (404, 405, 400)

from siteguard.api.access.body_limit import BodyLimit
from siteguard.api.access.keys import Principal
from siteguard.api.bulletin.routes import router as regulator_router
from siteguard.api.console.deps import LoginRequired, lang_of, render
from siteguard.api.console.routes import router as console_router
from siteguard.api.deps import Db, ServicesDep, console_login, get_services
from siteguard.api.errors import DomainError, Unavailable
from siteguard.api.hazards.routes import router as hazard_router
from siteguard.api.intake.routes import router as intake_router
from siteguard.api.notices.routes import router as notice_router
from siteguard.api.overview.routes import router as overview_router
from siteguard.api.platform.robot_link_routes import router as robot_links_router
from siteguard.api.risk.routes import router as insurer_router
from siteguard.api.services import Services
from siteguard.api.settings import ApiSettings
from siteguard.api.sites.routes import router as sites_router
from siteguard.api.statuses import HazardStatus
from siteguard.api.store.tables import HazardRow


class HealthOut(BaseModel):
    database: bool
    mqtt_connected: bool
    ingest: dict[str, int]
    ingest_lag_s: float
    healthy: bool


log = logging.getLogger(__name__)


def _error(request: Request, status: int, detail: Any) -> Response:
    if request.url.path.startswith("/console/"):  # people, not programs: a page
        who, csrf = _reader(request)
        page: Response = render(
            request, "error.html", who, csrf, status=status, code=status, detail=detail
        )
        return page
    return JSONResponse(status_code=status, content={"error": str(detail)})


def _reader(request: Request) -> tuple[Principal | None, str]:
    """Who is logged in, for the error page's header (its navigation and logout); nobody
    when that cannot be told (no login, or the database is what failed)."""
    try:
        found = console_login(request, get_services(request).sessions)
    except Exception:
        return None, ""
    return found if found is not None else (None, "")


def create_app(settings: ApiSettings, replica: str = "0") -> FastAPI:
    services = Services(settings, replica)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.start()
        yield
        services.stop()

    app = FastAPI(
        title="SiteGuard API",
        version="0.1.0",
        lifespan=lifespan,
        description="Hazard events in; hazards, rectification notices and risk signals out. "
        "Every /api/v1 call needs `Authorization: Bearer <key>` (`siteguard api-key add`).",
    )
    app.state.services = services
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    for router in (
        intake_router,
        hazard_router,
        sites_router,
        notice_router,
        insurer_router,
        regulator_router,
        overview_router,
        robot_links_router,
        console_router,
    ):
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", 303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(r: Request, exc: RequestValidationError) -> Response:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
        if r.url.path.startswith("/console/"):
            return _error(r, 422, "; ".join(errors))
        return JSONResponse(
            status_code=422, content={"error": "invalid request", "details": errors}
        )

    @app.exception_handler(DomainError)
    async def _domain_error(r: Request, exc: DomainError) -> Response:
        people = r.url.path.startswith("/console/")
        return _error(r, exc.status, exc.said_in(lang_of(r)) if people else exc.detail)

    @app.exception_handler(HTTPException)
    async def _http_error(r: Request, exc: HTTPException) -> Response:
        return _error(r, exc.status_code, exc.detail)

    @app.exception_handler(DataError)
    async def _data_error(r: Request, exc: DataError) -> Response:
        # a value the database cannot hold that validation let through: the request's fault
        return _error(r, 422, f"a value does not fit the database: {str(exc.orig)[:200]}")

    @app.exception_handler(OperationalError)
    async def _database_unavailable(r: Request, exc: OperationalError) -> Response:
        # SQLite locked past its busy timeout by other writers, PostgreSQL restarting or
        # out of connections: nothing was stored (the transaction rolled back), try again
        log.warning("database unavailable for %s %s: %s", r.method, r.url.path, exc.orig)
        busy = Unavailable(
            "the database is busy or unreachable: nothing was changed; try again in a few seconds",
            "数据库繁忙或暂时无法连接，本次操作未保存，请稍后重试",
        )
        response = await _domain_error(r, busy)
        response.headers["Retry-After"] = str(busy.retry_after_s)
        return response

    @app.exception_handler(Exception)
    async def _server_error(r: Request, exc: Exception) -> Response:
        return _error(r, 500, f"internal error ({type(exc).__name__}); it has been logged")

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}", 303)

    @app.get(
        "/healthz",
        summary="Liveness: database reachable, MQTT consumer connected, ingest not stuck "
        "(503 when the oldest unacknowledged message is older than mqtt.max_lag_s)",
        response_model=HealthOut,
        tags=["operations"],
    )
    def health(db: Db, services: ServicesDep) -> Any:
        lag = services.mqtt.lag_s() if services.mqtt else 0.0
        body = {
            "database": db.execute(text("SELECT 1")).scalar() == 1,
            "mqtt_connected": bool(services.mqtt and services.mqtt.connected.is_set()),
            "ingest": dict(services.ingestor.counts),
            "ingest_lag_s": round(lag, 3),
            "healthy": lag <= settings.mqtt.max_lag_s,
        }
        # stuck ingest (a message taken from the broker and not stored for too long) makes
        # the replica unhealthy, so an orchestrator restarts it and the broker redelivers
        return body if body["healthy"] else JSONResponse(status_code=503, content=body)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        summary="Prometheus metrics",
        tags=["operations"],
    )
    def metrics(db: Db, services: ServicesDep) -> str:
        c = services.ingestor.counts
        lines = ["# TYPE siteguard_ingest_total counter"]
        lines += [
            f'siteguard_ingest_total{{result="{k}"}} {c.get(k, 0)}'
            for k in ("new", "duplicate", "rejected", "forbidden")
        ]
        # dismissed false alarms, by hazard type: the model's feedback from the inspectors
        false_alarms = db.execute(
            select(HazardRow.hazard_type, func.count())
            .where(HazardRow.status == HazardStatus.DISMISSED)
            .group_by(HazardRow.hazard_type)
        ).all()
        lines.append("# TYPE siteguard_false_alarms_total counter")
        lines += [f'siteguard_false_alarms_total{{type="{t}"}} {n}' for t, n in false_alarms]
        # evidence the API would not fetch or keep (not the site's edge box, too slow, too
        # large, not a picture or clip): see api/hazards/evidence.py
        lines.append("# TYPE siteguard_evidence_refused_total counter")
        lines += [
            f'siteguard_evidence_refused_total{{reason="{r}"}} {n}'
            for r, n in services.evidence_refusals.counts().items()
        ]
        return "\n".join(lines) + "\n"

    return app
