"""An edge key (a site box's credential) may post its events and read its own site's
cameras and zones (the zone sync), nothing else: every other route that takes a caller
answers 403 for role edge, whatever the scope."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
# what a site box needs: post its events, read its cameras' zones (edge/zone_sync.py)
EDGE_ROUTES = {("POST", "/api/v1/events"), ("GET", "/api/v1/projects/{site_id}/cameras")}
PROJECT = {
    "name": "福田工程",
    "insurer": "保险A",
    "jurisdiction": "福田",
    "responsible_person": "张工",
    "responsible_phone": "138-0000-0000",
}


def world(tmp_path, db_url):
    app = create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "d"
        )
    )
    admin = api_client(app)
    assert admin.put("/api/v1/projects/futian-0001", json=PROJECT).status_code == 200
    assert admin.put("/api/v1/projects/nanshan-0002", json=PROJECT).status_code == 200
    cam = {"name": "north", "zones": []}
    assert admin.put("/api/v1/projects/futian-0001/cameras/cam-north", json=cam).status_code == 200
    edge = api_client(app, "edge", sites=["futian-0001"])
    assert edge.post("/api/v1/events", json=GOLDEN).status_code == 202
    notice = api_client(app, "inspector", insurer="保险A").post(
        "/api/v1/projects/futian-0001/notices"
    )
    assert notice.status_code == 201
    return app, admin, edge, notice.json()["id"]


def test_edge_key_reads_only_its_cameras_and_posts_events(tmp_path, db_url):
    app, admin, edge, nid = world(tmp_path, db_url)
    with admin:
        cams = edge.get("/api/v1/projects/futian-0001/cameras")
        assert cams.status_code == 200 and [c["camera_id"] for c in cams.json()] == ["cam-north"]
        assert edge.get("/api/v1/projects/nanshan-0002/cameras").status_code == 404  # scope
        again = dict(GOLDEN, seq=1, state="update", frame_time="2026-10-05T08:30:05Z")
        assert edge.post("/api/v1/events", json=again).status_code == 202
        refused = [
            "/api/v1/notices",
            f"/api/v1/notices/{nid}",
            f"/api/v1/notices/{nid}/history",
            f"/notices/{nid}.html",
            f"/notices/{nid}.pdf",
            "/api/v1/hazards",
            "/api/v1/hazards/1",
            "/api/v1/projects",
            "/api/v1/dead-letters",
            "/api/v1/insurer/projects",
            "/api/v1/regulator/alerts",
        ]
        for path in refused:
            r = edge.get(path)
            assert r.status_code == 403, (path, r.status_code, r.text)
            assert "role edge" in r.json()["error"] and "138-0000-0000" not in r.text
            assert admin.get(path).status_code == 200, path  # the routes themselves work
        # no console either
        r = TestClient(app).post(
            "/console/login", data={"key": edge.headers["authorization"][7:]},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 401


def fill(path: str) -> str:
    return (
        path.replace("{site_id}", "futian-0001")
        .replace("{camera_id}", "cam-north")
        .replace("{action}", "acknowledge")
        .replace("{notice_id}", "1")
        .replace("{hazard_id}", "1")
        .replace("{", "")
        .replace("}", "")
    )


def test_every_other_route_is_forbidden_for_edge_in_one_rule(tmp_path, db_url):
    """Walks every route of the API (its OpenAPI), so a route added later is covered with
    no change here: each one that wants a caller (401 without a key) is 403 for edge."""
    app, admin, edge, _ = world(tmp_path, db_url)
    anonymous = TestClient(app)
    checked = set()
    with admin:
        for path, ops in app.openapi()["paths"].items():
            for method in ops:
                url = fill(path)
                if anonymous.request(method, url, json={}).status_code != 401:
                    continue  # /healthz, /metrics: no caller
                checked.add((method.upper(), path))
                r = edge.request(method, url, json={})
                if (method.upper(), path) in EDGE_ROUTES:
                    assert r.status_code != 403, (method, path, r.text)
                else:
                    assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert checked >= EDGE_ROUTES  # the allowed routes exist and take a caller
    assert len(checked) > 20
