"""The API service: `create_app(settings)` builds everything; nothing at import time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from siteguard.api.camera_routes import router as camera_router
from siteguard.api.console_routes import install as install_console
from siteguard.api.console_routes import render as render_page
from siteguard.api.db import create_schema, make_engine, make_sessions
from siteguard.api.deps import Db
from siteguard.api.escalation import escalate_overdue
from siteguard.api.hazard_routes import router as hazard_router
from siteguard.api.ingest import Ingestor
from siteguard.api.insurer_routes import router as insurer_router
from siteguard.api.mqtt_ingest import MqttIngest
from siteguard.api.notice_routes import router as notice_router
from siteguard.api.push import Pusher
from siteguard.api.regulator_routes import router as regulator_router
from siteguard.api.risk_bands import check_bands
from siteguard.api.settings import ApiSettings
from siteguard.api.tables import HazardRow


class Services:
    """Everything one API process owns (engine, sessions, ingest, MQTT consumer, pusher)."""

    def __init__(self, settings: ApiSettings, replica: str = "0") -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        create_schema(self.engine)
        self.sessions: sessionmaker[Session] = make_sessions(self.engine)
        self.ingestor = Ingestor(
            self.sessions, settings.hazard_window_s, settings.max_payload_bytes
        )
        self.mqtt = (
            MqttIngest(settings.mqtt, self.ingestor, replica) if settings.mqtt.enabled else None
        )
        self.pusher = Pusher(
            self.sessions,
            settings.push,
            name=f"api-{replica}",
            periodic=self.escalate,
        )

        self._last_risk_check = 0.0

    def escalate(self) -> None:
        """The pusher's periodic job: overdue escalations, and premium bands now and then."""
        escalate_overdue(self.sessions)
        if time.monotonic() - self._last_risk_check >= self.settings.risk_check_s:
            self._last_risk_check = time.monotonic()
            check_bands(self.sessions, self.settings)


def create_app(settings: ApiSettings, replica: str = "0") -> FastAPI:
    services = Services(settings, replica)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if services.mqtt:
            services.mqtt.start()
        services.pusher.start()
        yield
        services.pusher.stop()
        if services.mqtt:
            services.mqtt.stop()
        services.engine.dispose()

    app = FastAPI(
        title="SiteGuard API",
        version="0.1.0",
        lifespan=lifespan,
        description="Hazard events in; hazards, rectification notices and risk signals out. "
        "Every /api/v1 call needs `Authorization: Bearer <key>` (`siteguard api-key add`).",
    )
    app.state.services = services
    app.include_router(hazard_router)
    app.include_router(camera_router)
    app.include_router(notice_router)
    app.include_router(insurer_router)
    app.include_router(regulator_router)
    install_console(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", 303)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
        return JSONResponse(
            status_code=422, content={"error": "invalid request", "details": errors}
        )

    @app.exception_handler(HTTPException)
    async def _http_error(r: Request, exc: HTTPException) -> Response:
        if r.url.path.startswith("/console/"):  # people, not programs: a page
            page: Response = render_page(
                r, "error.html", status=exc.status_code, code=exc.status_code, detail=exc.detail
            )
            return page
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)})

    @app.get("/healthz", summary="Liveness: database reachable, MQTT consumer connected")
    def health(db: Db) -> dict[str, Any]:
        return {
            "database": db.execute(text("SELECT 1")).scalar() == 1,
            "mqtt_connected": bool(services.mqtt and services.mqtt.connected.is_set()),
            "ingest": dict(services.ingestor.counts),
        }

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    def metrics(db: Db) -> str:
        c = services.ingestor.counts
        lines = ["# TYPE siteguard_ingest_total counter"]
        lines += [
            f'siteguard_ingest_total{{result="{k}"}} {c.get(k, 0)}'
            for k in ("new", "duplicate", "rejected", "forbidden")
        ]
        # dismissed false alarms, by hazard type: the model's feedback from the inspectors
        false_alarms = db.execute(
            select(HazardRow.hazard_type, func.count())
            .where(HazardRow.status == "dismissed")
            .group_by(HazardRow.hazard_type)
        ).all()
        lines.append("# TYPE siteguard_false_alarms_total counter")
        lines += [f'siteguard_false_alarms_total{{type="{t}"}} {n}' for t, n in false_alarms]
        return "\n".join(lines) + "\n"

    return app
