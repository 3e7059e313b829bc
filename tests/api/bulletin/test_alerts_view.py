"""The regulator's alerts view on SQLite and PostgreSQL: filters with counts per value,
pages, per-regulator 已阅 marks, 督办 (recorded, in the notice's history, in the audit
chain, queued for the platform), live arrivals after a cursor, and scopes (another
jurisdiction's regulator gets 404; contractors, insurers and inspectors see their own
scopes with their own marks)."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from siteguard.api.access.keys import Principal
from siteguard.api.app import create_app
from siteguard.api.bulletin import alerts as alerts_module
from siteguard.api.bulletin.alerts import (
    AlertFilter,
    alert_cursor,
    alert_page,
    arrivals,
    known_before,
)
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.records.audit import verify
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import CHINA
from siteguard.api.store.tables import AlertReadRow, AuditRow, NoticeRow, ProjectRow, PushRow
from siteguard.contract.events import HazardEvent
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

J, OTHER, INSURER = "合肥市包河区", "深圳市福田区", "平安财险安徽分公司"


def ingest(app, site, event_id, t, level="major", kind="no_helmet", seq=0, evidence=True):
    doc = json.loads(GOLDEN_START.read_text())
    doc.update(
        event_id=event_id,
        seq=seq,
        state="start" if seq == 0 else "update",
        site_id=site,
        level=level,
        hazard_type=kind,
        started_at=t.isoformat(),
        frame_time=(t + timedelta(seconds=seq)).isoformat(),
        evidence_uri=f"http://10.0.0.1:8090/evidence/{event_id}/start.jpg" if evidence else None,
    )
    return app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test").hazard_id


@pytest.fixture
def world(db_url, tmp_path):
    app = create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "d"
        )
    )
    sessions = app.state.services.sessions
    now = datetime.now(UTC)
    with sessions.begin() as s:
        for sid, name, jur in (
            ("bh-001", "滨湖花园项目", J),
            ("bh-002", "高铁南站项目", J),
            ("ft-001", "福田项目", OTHER),
        ):
            s.add(ProjectRow(site_id=sid, name=name, insurer=INSURER, jurisdiction=jur))
    h = {
        "major1": ingest(app, "bh-001", "evt_a_major1", now - timedelta(hours=3)),
        "general": ingest(
            app, "bh-001", "evt_a_general", now - timedelta(hours=2), "general", "scaffold_unsafe"
        ),
        "edge": ingest(
            app, "bh-002", "evt_a_edge", now - timedelta(days=2, hours=1), kind="edge_unprotected"
        ),
        "other": ingest(app, "ft-001", "evt_a_other", now - timedelta(hours=1)),
    }
    with sessions.begin() as s:  # bh-002's notice is two days old: overdue, escalated
        p = s.scalars(select(ProjectRow).where(ProjectRow.site_id == "bh-002")).one()
        notice_id = issue_notice(s, p, DeadlinePolicy(), "李巡查", now - timedelta(days=2)).id
    assert escalate_overdue(sessions) == 1
    clients = {
        "reg_a": api_client(app, "regulator", "住建局甲", jurisdiction=J),
        "reg_b": api_client(app, "regulator", "住建局乙", jurisdiction=J),
        "reg_other": api_client(app, "regulator", "福田住建", jurisdiction=OTHER),
        "contractor": api_client(app, "contractor", "张工", sites=["bh-002"]),
        "insurer": api_client(app, "insurer", "保险", insurer=INSURER),
        "inspector": api_client(app, "inspector", "李巡查", insurer=INSURER),
    }
    yield app, h, notice_id, clients
    app.state.services.engine.dispose()


def test_filters_counts_and_pages(world):
    app, h, _, c = world
    r = c["reg_a"].get("/api/v1/alerts")
    assert r.status_code == 200, r.text
    doc = r.json()
    keys = [a["key"] for a in doc["alerts"]]
    # newest first: bh-001's major (3 h ago), bh-002's escalation (now), bh-002's major
    assert sorted(keys) == sorted(
        [f"major_hazard-{h['major1']}", f"major_hazard-{h['edge']}", f"escalation-{h['edge']}"]
    )
    assert keys[0] == f"escalation-{h['edge']}" and keys[-1] == f"major_hazard-{h['edge']}"
    assert f"major_hazard-{h['other']}" not in keys  # another jurisdiction's
    assert doc["summary"] == {"unread": 3, "major": 2, "escalated": 1}
    assert doc["counts"]["site"] == {"bh-001": 1, "bh-002": 2, "": 3}
    assert doc["counts"]["hazard_type"] == {"no_helmet": 1, "edge_unprotected": 2, "": 3}
    assert doc["alerts"][0]["evidence_url"] == f"/api/v1/hazards/{h['edge']}/evidence.jpg"
    assert all(a["at"].endswith("Z") and a["read"] is None for a in doc["alerts"])
    assert doc["alerts"][0]["notice"]["number"].startswith("SG-bh-002-")

    only = c["reg_a"].get("/api/v1/alerts", params={"site": "bh-001"}).json()
    assert [a["key"] for a in only["alerts"]] == [f"major_hazard-{h['major1']}"]
    assert only["counts"]["site"]["bh-002"] == 2  # a filter's own counts ignore it
    assert only["summary"] == {"unread": 1, "major": 1, "escalated": 0}
    esc = c["reg_a"].get("/api/v1/alerts", params={"escalated": "yes"}).json()
    assert [a["type"] for a in esc["alerts"]] == ["escalation"]
    assert esc["counts"]["site"] == {"bh-002": 1, "": 1}
    typed = c["reg_a"].get("/api/v1/alerts", params={"hazard_type": "edge_unprotected"}).json()
    assert typed["total"] == 2
    assert c["reg_a"].get("/api/v1/alerts", params={"level": "general"}).json()["total"] == 0
    bad = c["reg_a"].get("/api/v1/alerts", params={"read": "maybe"})
    assert bad.status_code == 422 and "error" in bad.json()

    who = Principal("住建局甲", "regulator", jurisdiction=J)
    with app.state.services.sessions() as s:
        first = alert_page(s, who, AlertFilter(), 1, per_page=2)
        second = alert_page(s, who, AlertFilter(), 2, per_page=2)
    assert (first.pages, len(first.alerts), len(second.alerts)) == (2, 2, 1)
    assert {a.key for a in first.alerts}.isdisjoint(a.key for a in second.alerts)


def test_read_marks_are_per_regulator(world):
    _, h, _, c = world
    url = f"/api/v1/alerts/major_hazard/{h['major1']}/read"
    assert c["reg_a"].post(url).json() == {"marked": 1}
    assert c["reg_a"].post(url).json() == {"marked": 0}  # once; the first mark is kept
    mine = c["reg_a"].get("/api/v1/alerts").json()
    [read] = [a for a in mine["alerts"] if a["key"] == f"major_hazard-{h['major1']}"]
    assert read["read"]["by"] == "住建局甲" and read["read"]["at"].endswith("Z")
    assert mine["summary"]["unread"] == 2
    unread = c["reg_a"].get("/api/v1/alerts", params={"read": "unread"}).json()
    assert f"major_hazard-{h['major1']}" not in [a["key"] for a in unread["alerts"]]
    assert c["reg_a"].get("/api/v1/alerts", params={"read": "read"}).json()["total"] == 1
    # another regulator of the same jurisdiction has read nothing
    assert c["reg_b"].get("/api/v1/alerts").json()["summary"]["unread"] == 3
    page = [
        {"type": "major_hazard", "hazard_id": h["edge"]},
        {"type": "escalation", "hazard_id": h["edge"]},
    ]
    assert c["reg_b"].post("/api/v1/alerts/read", json={"alerts": page}).json() == {"marked": 2}
    assert c["reg_b"].get("/api/v1/alerts").json()["summary"]["unread"] == 1
    assert c["reg_a"].get("/api/v1/alerts").json()["summary"]["unread"] == 2

    # no such alert (the bh-001 hazard was never escalated), or a general hazard
    r = c["reg_a"].post(f"/api/v1/alerts/escalation/{h['major1']}/read")
    assert r.status_code == 404 and "error" in r.json()
    assert c["reg_a"].post(f"/api/v1/alerts/major_hazard/{h['general']}/read").status_code == 404
    # out of scope: another jurisdiction's alert is "not found", in either direction
    assert c["reg_a"].post(f"/api/v1/alerts/major_hazard/{h['other']}/read").status_code == 404
    assert c["reg_other"].post(url).status_code == 404
    # a batch with one alert out of scope marks nothing
    mixed = [*page, {"type": "major_hazard", "hazard_id": h["other"]}]
    assert c["reg_a"].post("/api/v1/alerts/read", json={"alerts": mixed}).status_code == 404
    assert c["reg_a"].get("/api/v1/alerts").json()["summary"]["unread"] == 2
    # every other role has the alarm centre too, each in its own scope, with its own marks
    assert c["contractor"].post(url).status_code == 404  # bh-001 is not the contractor's
    theirs = c["contractor"].get("/api/v1/alerts").json()
    assert {a["hazard"]["site_id"] for a in theirs["alerts"]} == {"bh-002"}
    assert theirs["summary"]["unread"] == 2
    for role in ("insurer", "inspector"):  # the insurer's projects, in both jurisdictions
        assert c[role].get("/api/v1/alerts").json()["summary"]["unread"] == 4, role
        assert c[role].post(url).json() == {"marked": 1}, role
        assert c[role].get("/api/v1/alerts").json()["summary"]["unread"] == 3, role
    assert c["reg_a"].post(f"/api/v1/alerts/nonsense/{h['major1']}/read").status_code == 422


def test_supervision_is_recorded_in_history_audit_and_push(world):
    app, h, notice_id, c = world
    deadline = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    body = {"requirement": "立即设置临边防护栏杆，今日内整改完毕", "deadline": deadline.isoformat()}
    r = c["reg_a"].post(f"/api/v1/hazards/{h['edge']}/supervision", json=body)
    assert r.status_code == 201, r.text
    sup = r.json()
    assert sup["by"] == "住建局甲" and sup["jurisdiction"] == J
    assert sup["notice"].startswith("SG-bh-002-")
    assert sup["deadline"] == deadline.replace(tzinfo=None).isoformat() + "Z"

    history = c["inspector"].get(f"/api/v1/notices/{notice_id}/history").json()
    assert history[-1]["action"] == "supervise" and history[-1]["actor"] == "住建局甲"
    assert history[-1]["comment"] == body["requirement"]
    assert history[-1]["from"] == history[-1]["to"] == "issued"  # no state changes
    with app.state.services.sessions() as s:
        assert s.get_one(NoticeRow, notice_id).status == "issued"
        [audit] = s.scalars(select(AuditRow).where(AuditRow.action == "hazard.supervised")).all()
        [pushed] = s.scalars(select(PushRow).where(PushRow.type == "supervision")).all()
        assert verify(s).ok
    assert audit.entity_id == str(h["edge"]) and audit.actor == "住建局甲"
    assert json.loads(audit.detail)["requirement"] == body["requirement"]
    message = json.loads(pushed.body)
    assert pushed.idempotency_key == f"supervision:{sup['id']}"
    assert message["data"]["site_id"] == "bh-002"  # the site's push queue
    assert message["data"]["supervision"]["requirement"] == body["requirement"]
    assert "housing_construction" in message["recipients"]

    # a hazard on no notice yet is supervised on its own
    r = c["reg_a"].post(f"/api/v1/hazards/{h['major1']}/supervision", json={"requirement": "x"})
    assert r.status_code == 201 and r.json()["notice"] is None and r.json()["deadline"] is None
    listed = c["contractor"].get(f"/api/v1/hazards/{h['edge']}/supervision")
    assert listed.status_code == 200 and [x["id"] for x in listed.json()] == [sup["id"]]
    alerts = c["reg_b"].get("/api/v1/alerts", params={"site": "bh-002"}).json()["alerts"]
    assert {a["supervisions"] for a in alerts} == {1}

    for role in ("contractor", "inspector", "insurer"):
        r = c[role].post(f"/api/v1/hazards/{h['edge']}/supervision", json=body)
        assert r.status_code == 403 and "error" in r.json(), role
    assert (
        c["reg_other"].post(f"/api/v1/hazards/{h['edge']}/supervision", json=body).status_code
        == 404
    )
    assert c["reg_other"].get(f"/api/v1/hazards/{h['edge']}/supervision").status_code == 404
    r = c["reg_a"].post(f"/api/v1/hazards/{h['edge']}/supervision", json={"requirement": "  "})
    assert r.status_code == 422 and "requirement" in r.json()["error"]
    past = {"requirement": "x", "deadline": "2020-01-01T00:00:00Z"}
    r = c["reg_a"].post(f"/api/v1/hazards/{h['edge']}/supervision", json=past)
    assert r.status_code == 422 and "not in the future" in r.json()["error"]
    with app.state.services.sessions() as s:
        assert len(s.scalars(select(PushRow).where(PushRow.type == "supervision")).all()) == 2


def test_alerts_arrive_after_the_cursor(world):
    app, h, _, _ = world
    sessions = app.state.services.sessions
    who = Principal("住建局甲", "regulator", jurisdiction=J)
    with sessions() as s:
        cursor = alert_cursor(s)
        known = known_before(s, cursor)  # what a page opened at the cursor shows
        p, same = arrivals(s, who, AlertFilter(), cursor, known)
    assert (p.alerts, same) == ([], cursor) and len(
        known
    ) == 4  # 3 majors (1 elsewhere), 1 escalation
    now = datetime.now(UTC)
    new = ingest(app, "bh-001", "evt_a_new", now)
    ingest(app, "ft-001", "evt_a_new_other", now)  # not the caller's
    ingest(app, "bh-001", "evt_a_general", now - timedelta(hours=2), "major", "scaffold_unsafe", 1)
    with sessions() as s:
        p, later = arrivals(s, who, AlertFilter(), cursor, set(known))
        assert {a.key for a in p.alerts} == {f"major_hazard-{new}", f"major_hazard-{h['general']}"}
        assert later > cursor
        again, _ = arrivals(s, who, AlertFilter(), later, known | {a.key for a in p.alerts})
        assert again.alerts == []  # sent once
        esc, _ = arrivals(s, who, AlertFilter(escalated="yes"), cursor, set(known))
        assert esc.alerts == []  # the stream keeps the page's filters


def test_a_mark_committed_meanwhile_is_kept_not_a_conflict(world, monkeypatch):
    """Two tabs (or a double click) mark the same alert at once: the second transaction
    read the alert as unread before the first committed. It marks nothing more and
    succeeds; the first mark stays the only one."""
    app, h, _, c = world
    url = f"/api/v1/alerts/major_hazard/{h['major1']}/read"
    assert c["reg_a"].post(url).json() == {"marked": 1}
    real_index = alerts_module.alert_index

    def as_read_before(s, who, hazard_ids=None):  # what the late transaction had seen
        return [replace(a, read_at=None) for a in real_index(s, who, hazard_ids)]

    monkeypatch.setattr(alerts_module, "alert_index", as_read_before)
    assert c["reg_a"].post(url).json() == {"marked": 0}
    with app.state.services.sessions() as s:
        marks = s.scalars(select(AlertReadRow).where(AlertReadRow.reader == "住建局甲")).all()
    assert [(m.kind, m.hazard_id) for m in marks] == [("major_hazard", h["major1"])]


def test_camera_state_and_day_filters(world):
    _app, h, _, c = world
    doc = c["reg_a"].get("/api/v1/alerts").json()
    # camera ids are a project's own: both projects' cam-north are counted apart
    assert doc["counts"]["camera"] == {"bh-001/cam-north": 1, "bh-002/cam-north": 2, "": 3}
    one = c["reg_a"].get("/api/v1/alerts", params={"camera": "bh-002/cam-north"}).json()
    assert {a["hazard"]["id"] for a in one["alerts"]} == {h["edge"]} and one["total"] == 2
    bare = c["reg_a"].get("/api/v1/alerts", params={"camera": "cam-north"}).json()
    assert bare["total"] == 3  # a bare camera id: that id on every project
    assert doc["counts"]["status"] == {"open": 1, "escalated": 2, "": 3}
    assert c["reg_a"].get("/api/v1/alerts", params={"camera": "cam-99"}).json()["total"] == 0
    escalated = c["reg_a"].get("/api/v1/alerts", params={"status": "escalated"}).json()
    assert {a["hazard"]["id"] for a in escalated["alerts"]} == {h["edge"]}
    # China-time days: the escalation and bh-001's major are today, bh-002's major 2 days ago
    today = datetime.now(UTC).astimezone(CHINA).date()
    day = c["reg_a"].get("/api/v1/alerts", params={"since": str(today), "until": str(today)})
    old = (datetime.now(UTC) - timedelta(days=2, hours=1)).astimezone(CHINA).date()
    before = c["reg_a"].get("/api/v1/alerts", params={"until": str(old)}).json()
    assert f"major_hazard-{h['edge']}" in [a["key"] for a in before["alerts"]]
    assert f"major_hazard-{h['edge']}" not in [a["key"] for a in day.json()["alerts"]]
    assert f"escalation-{h['edge']}" in [a["key"] for a in day.json()["alerts"]]
    # a range that ends before it starts, or a day that is not one: a clear 422/400
    bad = c["reg_a"].get("/api/v1/alerts", params={"since": str(today), "until": str(old)})
    assert bad.status_code in (400, 422) and "after" in bad.text
    assert c["reg_a"].get("/api/v1/alerts", params={"since": "2026-02-31"}).status_code in (
        400,
        422,
    )
