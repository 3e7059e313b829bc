"""The API service: `create_app(settings)` builds everything; nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from siteguard.api.db import create_schema, make_engine, make_sessions
from siteguard.api.ingest import Ingestor, hazard_summary
from siteguard.api.mqtt_ingest import MqttIngest
from siteguard.api.notice_routes import router as notice_router
from siteguard.api.settings import ApiSettings
from siteguard.api.tables import DeadLetterRow, HazardRow


class Services:
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


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.services.sessions() as s:
        yield s


Db = Annotated[Session, Depends(get_session)]


def create_app(settings: ApiSettings, replica: str = "0") -> FastAPI:
    services = Services(settings, replica)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if services.mqtt:
            services.mqtt.start()
        yield
        if services.mqtt:
            services.mqtt.stop()
        services.engine.dispose()

    app = FastAPI(
        title="SiteGuard API",
        version="0.1.0",
        lifespan=lifespan,
        description="Hazard events in; hazards, rectification notices and risk signals out.",
    )
    app.state.services = services
    app.include_router(notice_router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
        return JSONResponse(
            status_code=422, content={"error": "invalid request", "details": errors}
        )

    @app.post(
        "/api/v1/events",
        status_code=202,
        summary="Ingest one hazard event (HTTP, for sites without MQTT)",
    )
    async def post_event(request: Request) -> JSONResponse:
        body = await request.body()
        result = services.ingestor.ingest_raw(
            body, f"http:{request.client.host if request.client else '?'}"
        )
        if result.status == "rejected":
            return JSONResponse(
                status_code=422, content={"error": "rejected", "reason": result.reason}
            )
        return JSONResponse(
            status_code=202, content={"status": result.status, "hazard_id": result.hazard_id}
        )

    @app.get("/api/v1/hazards", summary="Hazards, newest first")
    def list_hazards(
        db: Db,
        site_id: str | None = None,
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        q = select(HazardRow).order_by(HazardRow.last_seen.desc()).limit(limit)
        if site_id:
            q = q.where(HazardRow.site_id == site_id)
        if status:
            q = q.where(HazardRow.status == status)
        return [hazard_summary(h) for h in db.scalars(q)]

    @app.get("/api/v1/hazards/{hazard_id}", summary="One hazard with its event messages")
    def get_hazard(hazard_id: int, db: Db) -> dict[str, Any]:
        h = db.scalar(
            select(HazardRow)
            .where(HazardRow.id == hazard_id)
            .options(selectinload(HazardRow.events))
        )
        if h is None:
            raise HTTPException(404, detail=f"no hazard {hazard_id}")
        return dict(
            hazard_summary(h),
            events=[
                {
                    "event_id": e.event_id,
                    "seq": e.seq,
                    "state": e.state,
                    "level": e.level,
                    "frame_time": e.frame_time.isoformat() + "Z",
                    "source": e.source,
                }
                for e in h.events
            ],
        )

    @app.get("/api/v1/dead-letters", summary="Messages that could not be ingested, with the reason")
    def dead_letters(
        db: Db, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> list[dict[str, Any]]:
        rows = db.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit))
        return [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat() + "Z",
                "source": r.source,
                "reason": r.reason,
                "payload": r.payload[:2000],
            }
            for r in rows
        ]

    @app.get("/healthz")
    def health(db: Db) -> dict[str, Any]:
        return {
            "database": bool(db.scalar(select(func.count()).select_from(HazardRow)) is not None),
            "mqtt_connected": bool(services.mqtt and services.mqtt.connected.is_set()),
            "ingest": dict(services.ingestor.counts),
        }

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        c = services.ingestor.counts
        lines = ["# TYPE siteguard_ingest_total counter"]
        lines += [
            f'siteguard_ingest_total{{result="{k}"}} {c.get(k, 0)}'
            for k in ("new", "duplicate", "rejected")
        ]
        return "\n".join(lines) + "\n"

    @app.exception_handler(HTTPException)
    async def _http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)})

    return app
