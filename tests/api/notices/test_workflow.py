"""Workflow through its states by the roles, every cross-scope read and write refused,
and the audit chain detecting altered and deleted records."""

import io
import json

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.cli import main
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
FUTIAN = {
    "name": "福田工程",
    "jurisdiction": "福田区住建局",
    "insurer": "保险A",
    "contractor": "承包商甲",
}
NANSHAN = {
    "name": "南山工程",
    "jurisdiction": "南山区住建局",
    "insurer": "保险B",
    "contractor": "承包商乙",
}


def jpeg() -> bytes:
    _ok, buf = cv2.imencode(".jpg", np.full((32, 32, 3), 128, np.uint8))
    return buf.tobytes()


@pytest.fixture
def world(tmp_path, db_url):
    db = db_url
    app = create_app(
        ApiSettings(
            database_url=db, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "data"
        )
    )
    c = {
        "admin": api_client(app),
        "edge": api_client(app, "edge", sites=["futian-0001"]),
        "edge_ns": api_client(app, "edge", sites=["nanshan-0002"]),
        "inspector": api_client(app, "inspector", "李检查员", insurer="保险A"),
        "inspector_b": api_client(app, "inspector", insurer="保险B"),
        "contractor": api_client(app, "contractor", "承包商甲", sites=["futian-0001"]),
        "contractor_ns": api_client(app, "contractor", sites=["nanshan-0002"]),
        "regulator": api_client(app, "regulator", jurisdiction="福田区住建局"),
        "regulator_ns": api_client(app, "regulator", jurisdiction="南山区住建局"),
        "insurer": api_client(app, "insurer", insurer="保险A"),
        "insurer_b": api_client(app, "insurer", insurer="保险B"),
    }
    with c["admin"]:
        c["admin"].put("/api/v1/projects/futian-0001", json=FUTIAN)
        c["admin"].put("/api/v1/projects/nanshan-0002", json=NANSHAN)
        assert c["edge"].post("/api/v1/events", json=GOLDEN).status_code == 202
        hazard = c["admin"].get("/api/v1/hazards").json()[0]["id"]
        notice = c["inspector"].post("/api/v1/projects/futian-0001/notices").json()["id"]
        yield {"c": c, "hazard": hazard, "notice": notice, "db": db}


def act(client, notice, action, comment=""):
    return client.post(f"/api/v1/notices/{notice}/actions/{action}", json={"comment": comment})


def submit(client, notice, photos=None):
    files = [
        ("photos", (f"p{i}.jpg", io.BytesIO(p), "image/jpeg"))
        for i, p in enumerate(photos or [jpeg()])
    ]
    return client.post(
        f"/api/v1/notices/{notice}/submit", data={"reply": "已设置防护并教育"}, files=files
    )


def test_the_workflow_through_its_states_by_the_roles(world):
    c, n = world["c"], world["notice"]
    assert act(c["contractor"], n, "acknowledge").json()["status"] == "rectifying"
    assert submit(c["contractor"], n).json()["status"] == "submitted"
    assert act(c["inspector"], n, "reject", "安全帽未系下颏带").json()["status"] == "rectifying"
    assert submit(c["contractor"], n).json()["status"] == "submitted"
    done = act(c["inspector"], n, "accept", "复查合格")
    assert done.json()["status"] == "closed"
    history = c["regulator"].get(f"/api/v1/notices/{n}/history").json()
    assert [(h["action"], h["to"]) for h in history] == [
        ("acknowledge", "rectifying"),
        ("submit", "submitted"),
        ("reject", "rectifying"),
        ("submit", "submitted"),
        ("accept", "closed"),
    ]
    assert history[2]["actor"] == "李检查员" and history[2]["comment"] == "安全帽未系下颏带"
    assert history[1]["attachments"][0].startswith("proof/SG-futian-0001-")
    hazard = c["insurer"].get(f"/api/v1/hazards/{world['hazard']}").json()
    assert hazard["status"] == "closed" and "re-inspected by 李检查员" in hazard["resolution"]


def test_wrong_roles_states_and_inputs_are_refused(world):
    c, n = world["c"], world["notice"]
    assert act(c["inspector"], n, "acknowledge").status_code == 403
    assert act(c["contractor"], n, "accept").status_code == 403
    assert act(c["regulator"], n, "acknowledge").status_code == 403
    assert act(c["contractor"], n, "submit").status_code == 422
    assert act(c["contractor"], n, "explode").status_code == 404
    assert submit(c["contractor"], n).status_code == 409  # not acknowledged yet
    act(c["contractor"], n, "acknowledge")
    assert act(c["contractor"], n, "acknowledge").status_code == 409
    bad = submit(c["contractor"], n, photos=[b"not an image"])
    assert bad.status_code == 422 and "not a readable image" in bad.json()["error"]
    submit(c["contractor"], n)
    assert act(c["inspector"], n, "reject", "  ").status_code == 422  # a rejection says why
    assert (
        c["inspector"]
        .post(f"/api/v1/hazards/{world['hazard']}/dismiss", json={"reason": ""})
        .status_code
        == 422
    )


def test_every_cross_scope_read_and_write_is_refused(world):
    c, n, h = world["c"], world["notice"], world["hazard"]
    # (edge keys read nothing but their cameras: 403, tests/api/access/test_edge_scope.py)
    outsiders = ["contractor_ns", "regulator_ns", "insurer_b", "inspector_b"]
    for who in outsiders:
        cl = c[who]
        assert cl.get("/api/v1/hazards").json() == [], who
        assert cl.get(f"/api/v1/hazards/{h}").status_code == 404, who
        assert cl.get(f"/api/v1/notices/{n}").status_code == 404, who
        assert cl.get(f"/notices/{n}.html").status_code == 404, who
        assert cl.get(f"/api/v1/notices/{n}/history").status_code == 404, who
        assert cl.get("/api/v1/notices").json() == [], who
        assert all(p["site_id"] != "futian-0001" for p in cl.get("/api/v1/projects").json()), who
        for action in ("acknowledge", "accept", "reject"):
            assert act(cl, n, action, "x").status_code == 404, (who, action)
        assert submit(cl, n).status_code == 404, who
        assert cl.post(f"/api/v1/hazards/{h}/dismiss", json={"reason": "x"}).status_code == 404, who
        assert cl.post("/api/v1/projects/futian-0001/notices").status_code in (403, 404), who
    # insiders see it
    for who in ("contractor", "regulator", "insurer", "inspector", "admin"):
        assert c[who].get(f"/api/v1/notices/{n}").status_code == 200, who
    # writes outside a role, and posting events for another site
    assert c["edge_ns"].post("/api/v1/events", json=GOLDEN).status_code == 403
    assert c["contractor"].put("/api/v1/projects/futian-0001", json=FUTIAN).status_code == 403
    assert c["regulator"].get("/api/v1/dead-letters").status_code == 403
    assert c["contractor"].post("/api/v1/events", json=GOLDEN).status_code == 403
    app = c["admin"].app
    assert TestClient(app).get("/api/v1/hazards").status_code == 401
    bad = TestClient(app, headers={"Authorization": "Bearer sg_nope"}).get("/api/v1/hazards")
    assert bad.status_code == 401 and bad.json() == {"error": "unknown API key"}


def test_dismissing_a_false_alarm_keeps_the_reason_and_closes_the_notice(world):
    c, h, n = world["c"], world["hazard"], world["notice"]
    assert (
        c["contractor"].post(f"/api/v1/hazards/{h}/dismiss", json={"reason": "x"}).status_code
        == 403
    )
    r = c["inspector"].post(f"/api/v1/hazards/{h}/dismiss", json={"reason": "反光背心误识别为头部"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert "反光背心误识别为头部" in c["admin"].get(f"/api/v1/hazards/{h}").json()["resolution"]
    assert c["contractor"].get(f"/api/v1/notices/{n}").json()["status"] == "closed"
    assert 'siteguard_false_alarms_total{type="no_helmet"} 1' in c["admin"].get("/metrics").text
    assert (
        c["inspector"].post(f"/api/v1/hazards/{h}/dismiss", json={"reason": "again"}).status_code
        == 409
    )


def test_audit_chain_verifies_and_detects_altered_and_deleted_records(world, capsys, tmp_path):
    c, n, db = world["c"], world["notice"], world["db"]
    act(c["contractor"], n, "acknowledge")
    assert main(["audit", "verify", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "audit chain intact" in out
    anchor = out.split("last hash ")[1].strip()
    engine = c["admin"].app.state.services.engine
    actions = [
        r[0] for r in engine.connect().execute(text("SELECT action FROM audit_log ORDER BY id"))
    ]
    assert actions[:3] == ["project.saved", "project.saved", "hazard.created"]
    assert "notice.issued" in actions and "notice.acknowledge" in actions
    # truncation from the end is caught by the anchor
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)"))
    assert main(["audit", "verify", "--db", db, "--anchor", anchor]) == 1
    assert "records removed from the end" in capsys.readouterr().err
    with engine.begin() as conn:
        conn.execute(
            text(
                'UPDATE audit_log SET detail = \'{"level": "general"}\' '
                "WHERE action = 'hazard.created'"
            )
        )
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    assert main(["audit", "verify", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "content altered (hazard.created" in err and "records 2..2 are missing" in err


def test_api_key_cli_creates_a_working_key(world, capsys):
    assert (
        main(
            [
                "api-key",
                "add",
                "--db",
                world["db"],
                "--name",
                "监管员",
                "--role",
                "regulator",
                "--jurisdiction",
                "福田区住建局",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.strip()
    assert key.startswith("sg_")
    cl = TestClient(world["c"]["admin"].app, headers={"Authorization": f"Bearer {key}"})
    assert [p["site_id"] for p in cl.get("/api/v1/projects").json()] == ["futian-0001"]
