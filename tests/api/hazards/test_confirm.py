"""确认隐患 through the API: an inspector of the project's insurer confirms an open hazard
(who and when kept, audited, in the hazard's history); a second confirmation, one of a
hazard no longer open, and one by another role are refused; issuing an unconfirmed hazard
confirms it (the notice's issuer and time); parallel confirmations record one, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.hazards.history import hazard_history
from siteguard.api.records.audit import verify
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.tables import AuditRow, HazardRow
from tests.support.api import api_client
from tests.support.browser import served
from tests.support.paths import GOLDEN_START

SITE = "futian-0001"


def make_app(tmp_path, db_url=None):
    app = create_app(
        ApiSettings(
            database_url=db_url or f"sqlite:///{tmp_path}/api.db",
            mqtt=MqttIngestSettings(enabled=False),
            data_dir=tmp_path / "data",
        )
    )
    admin = api_client(app)
    project = {"name": "福田工程", "insurer": "保险A", "jurisdiction": "福田"}
    assert admin.put(f"/api/v1/projects/{SITE}", json=project).status_code == 200
    start = json.loads(GOLDEN_START.read_text())
    for n in range(2):  # two hazards: one camera each
        ev = start | {"event_id": f"evt_confirm{n:05d}", "camera_id": f"cam-{n}"}
        assert admin.post("/api/v1/events", json=ev).status_code == 202
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def test_an_inspector_confirms_an_open_hazard_once(app):
    inspector = api_client(app, "inspector", "李检查员", insurer="保险A")
    before = inspector.get("/api/v1/hazards/1").json()
    assert before["confirmed"] is False and before["confirmed_by"] is None
    t0 = datetime.now(UTC)
    r = inspector.post("/api/v1/hazards/1/confirm")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["confirmed"] and body["confirmed_by"] == "李检查员"
    assert not body["confirmed_on_issue"] and body["status"] == "open"
    at = datetime.fromisoformat(body["confirmed_at"].replace("Z", "+00:00"))
    assert abs((at - t0).total_seconds()) < 30
    assert inspector.get("/api/v1/hazards/1").json()["confirmed_by"] == "李检查员"
    assert inspector.get("/api/v1/hazards/2").json()["confirmed"] is False  # only that one
    again = inspector.post("/api/v1/hazards/1/confirm")
    assert again.status_code == 409 and "already confirmed by 李检查员" in again.json()["error"]
    with app.state.services.sessions() as s:
        rows = s.scalars(select(AuditRow).where(AuditRow.action == "hazard.confirmed")).all()
        assert [(r.actor, r.entity, r.entity_id) for r in rows] == [("李检查员", "hazard", "1")]
        assert verify(s).ok  # the chain still holds
        h = s.get(HazardRow, 1)
        history = hazard_history(s, h, None)
    assert [e.action for e in history] == ["found", "confirm"]
    assert history[1].actor == "李检查员"


@pytest.mark.parametrize(
    ("role", "scope", "status"),
    [
        ("contractor", {"sites": [SITE]}, 403),
        ("regulator", {"jurisdiction": "福田"}, 403),
        ("insurer", {"insurer": "保险A"}, 403),
        ("inspector", {"insurer": "保险B"}, 404),  # another insurer's project: not found
    ],
)
def test_other_roles_and_scopes_cannot_confirm(app, role, scope, status):
    r = api_client(app, role, **scope).post("/api/v1/hazards/1/confirm")
    assert r.status_code == status, r.text
    admin = api_client(app)
    assert admin.get("/api/v1/hazards/1").json()["confirmed"] is False


def test_issuing_confirms_and_an_issued_or_dismissed_hazard_is_not_confirmed_again(app):
    inspector = api_client(app, "inspector", "李检查员", insurer="保险A")
    assert inspector.post("/api/v1/hazards/2/confirm").status_code == 200
    r = inspector.post("/api/v1/notices", json={"hazard_ids": [1, 2]})  # 1 unconfirmed
    assert r.status_code == 201, r.text
    issued_at = r.json()[0]["issued_at"]
    one, two = (inspector.get(f"/api/v1/hazards/{i}").json() for i in (1, 2))
    assert one["confirmed"] and one["confirmed_on_issue"] and one["confirmed_by"] == "李检查员"
    assert one["confirmed_at"] == issued_at
    assert two["confirmed"] and not two["confirmed_on_issue"]  # its own confirmation stays
    refused = inspector.post("/api/v1/hazards/1/confirm")
    assert refused.status_code == 409 and "issued" in refused.json()["error"]
    # a dismissed false alarm is not confirmed
    admin = api_client(app)
    ev = json.loads(GOLDEN_START.read_text()) | {"event_id": "evt_confirm_fa", "camera_id": "c9"}
    hid = admin.post("/api/v1/events", json=ev).json()["hazard_id"]
    assert inspector.post(f"/api/v1/hazards/{hid}/dismiss", json={"reason": "影子"}).status_code
    gone = inspector.post(f"/api/v1/hazards/{hid}/confirm")
    assert gone.status_code == 409 and "dismissed" in gone.json()["error"]


def test_parallel_confirmations_record_one(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    with app.state.services.sessions.begin() as s:
        keys = [create_key(s, f"检查员{i}", "inspector", insurer="保险A") for i in range(6)]
    with served(app) as url:

        def call(key):
            return httpx.post(
                f"{url}/api/v1/hazards/1/confirm",
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(len(keys)) as pool:
            codes = sorted(pool.map(call, keys))
    assert codes == [200] + [409] * (len(keys) - 1)
    with app.state.services.sessions() as s:
        audited = s.scalars(select(AuditRow).where(AuditRow.action == "hazard.confirmed")).all()
        h = s.get(HazardRow, 1)
        assert len(audited) == 1 and audited[0].actor == h.confirmed_by
    app.state.services.engine.dispose()


def console(app, role="inspector", name="李检查员", **scope):
    """A console login of a fresh key (cookie session), with its CSRF token."""
    with app.state.services.sessions.begin() as s:
        key = create_key(s, name, role, scope.get("sites"), "", scope.get("insurer", ""))
    c = api_client(app)
    c.headers.pop("Authorization")
    page = c.post("/console/login", data={"key": key})
    assert page.status_code == 200
    csrf = c.get("/console/inbox").text.split('name="csrf" value="')[1].split('"')[0]
    return c, csrf


def test_the_console_confirms_from_the_inbox_and_the_hazard_page(app):
    c, csrf = console(app, insurer="保险A")
    inbox = c.get("/console/inbox").text
    assert "待确认" in inbox and 'id="confirm-1"' in inbox and "已确认 0 条，待确认 2 条" in inbox
    r = c.post("/console/inbox/confirm", data={"csrf": csrf, "one": "1", "hazard": ["2"]})
    assert r.status_code == 200 and "已确认隐患: #1" in r.text  # the card's own button only
    assert 'id="confirm-1"' not in r.text and 'id="confirm-2"' in r.text
    assert "已确认 1 条，待确认 1 条" in r.text
    r = c.post("/console/hazards/2/confirm", data={"csrf": csrf})
    assert "已确认隐患。" in r.text and 'id="confirm-state">已确认' in r.text
    assert "确认隐患" in r.text.split('id="history"')[1]  # in the hazard's history
    again = c.post("/console/inbox/confirm", data={"csrf": csrf, "hazard": ["1"]})
    assert "已由" in again.text and "确认" in again.text  # the refusal, in Chinese
    forged = c.post("/console/hazards/1/confirm", data={"csrf": "forged"})
    assert forged.status_code == 403


def test_the_inbox_forms_refuse_an_absurd_hazard_id_with_a_clear_error(app):
    """A hazard id no record can have (past 32 bits, past 64 bits) in the inbox's forms is a
    4xx page on SQLite too (where the driver overflows past 64 bits), and nothing changes."""
    from fastapi.testclient import TestClient

    c, csrf = console(app, insurer="保险A")
    c = TestClient(app, raise_server_exceptions=False, cookies=c.cookies)
    for bad in ("2147483648", "9223372036854775808", "1" * 30):
        for path, field in (
            ("/console/inbox/confirm", "one"),
            ("/console/inbox/confirm", "hazard"),
            ("/console/inbox/issue", "hazard"),
        ):
            r = c.post(path, data={"csrf": csrf, field: bad}, follow_redirects=False)
            assert 400 <= r.status_code < 500 or "err=" in r.headers.get("location", ""), (
                path,
                field,
                bad,
                r.status_code,
            )
    inspector = api_client(app, "inspector", insurer="保险A")
    assert not inspector.get("/api/v1/hazards/1").json()["confirmed"]
    assert inspector.get("/api/v1/notices").json() == []
