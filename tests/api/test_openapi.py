"""The API's typed surface: every JSON route declares a response model, routers carry
prefixes and tags, and every time in every payload is written one way (ISO 8601 UTC, Z)."""

import json
import re

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.contract.events import HazardEvent
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def app_of(tmp_path):
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path}/api.db",
        mqtt=MqttIngestSettings(enabled=False),
        data_dir=tmp_path / "data",
    )
    return create_app(settings)


def test_every_json_route_declares_a_response_model_and_a_tag(tmp_path):
    app = app_of(tmp_path)
    untyped, untagged = [], []
    for r in app.routes:
        if not isinstance(r, APIRoute) or not r.include_in_schema:
            continue
        cls = getattr(r.response_class, "value", r.response_class)  # FastAPI's default
        json_route = issubclass(cls, JSONResponse)
        if json_route and r.response_model is None:
            untyped.append(f"{sorted(r.methods)} {r.path}")
        if not r.tags:
            untagged.append(r.path)
    assert not untyped, untyped
    assert not untagged, untagged
    schema = app.openapi()
    assert "HazardOut" in schema["components"]["schemas"]
    assert "NoticeOut" in schema["components"]["schemas"]


def times_in(doc, path=""):
    """(path, value) of every string in a JSON document that looks like a time."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from times_in(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from times_in(v, f"{path}[{i}]")
    elif isinstance(doc, str) and ISO.match(doc):
        yield path, doc


def test_every_time_in_every_payload_is_utc_with_a_z(tmp_path):
    app = app_of(tmp_path)
    admin = api_client(app)
    admin.put("/api/v1/projects/futian-0001", json={"name": "P", "insurer": "ins"})
    admin.put("/api/v1/projects/futian-0001/cameras/cam-1", json={"name": "gate"})
    edge = api_client(app, "edge", sites=["futian-0001"])
    ev = json.loads(GOLDEN_START.read_text())
    ev.update(level="major")
    assert (
        edge.post("/api/v1/events", content=HazardEvent.model_validate(ev).to_json()).status_code
        == 202
    )
    app.state.services.ingestor.ingest_camera(
        "siteguard/futian-0001/cam-1/status",
        b'{"state": "online", "detail": "", "at": "2026-10-05T16:30:00+08:00"}',
    )
    inspector = api_client(app, "inspector", insurer="ins")
    notice = inspector.post("/api/v1/projects/futian-0001/notices")
    assert notice.status_code == 201, notice.text
    contractor = api_client(app, "contractor", sites=["futian-0001"])
    nid = notice.json()["id"]
    assert contractor.post(f"/api/v1/notices/{nid}/actions/acknowledge", json={}).status_code == 200
    regulator_ok = admin.get("/api/v1/regulator/alerts")
    docs = {
        "hazards": admin.get("/api/v1/hazards").json(),
        "hazard": admin.get("/api/v1/hazards/1").json(),
        "notice": notice.json(),
        "notices": admin.get("/api/v1/notices").json(),
        "history": admin.get(f"/api/v1/notices/{notice.json()['id']}/history").json(),
        "cameras": admin.get("/api/v1/projects/futian-0001/cameras").json(),
        "alerts": regulator_ok.json(),
        "risk": inspector.get("/api/v1/insurer/projects").json(),
    }
    found = [(name, p, v) for name, d in docs.items() for p, v in times_in(d)]
    assert {name for name, _, _ in found} == set(docs)  # every payload has times
    wrong = [(n, p, v) for n, p, v in found if not v.endswith("Z")]
    assert not wrong, wrong
