"""An audit chain that is honest (attack report row 6), on SQLite and PostgreSQL: one chain
under concurrent writers, anchors that verify any earlier prefix, anchors outside the
database that catch a rewritten chain and records removed from the end, and the notice and
hazard tables checked against the chain."""

import json
import threading
import time

import pytest
from sqlalchemy import text

from siteguard.api.app import create_app
from siteguard.api.records import audit
from siteguard.api.records.anchors import ANCHOR_FILE, publish_anchor, read_anchor_file
from siteguard.api.records.audit import _digest, verify
from siteguard.api.records.consistency import table_problems
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.tables import AuditRow, PushRow
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START


@pytest.fixture
def world(db_url, tmp_path):
    app = create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "d"
        )
    )
    admin = api_client(app)
    admin.put("/api/v1/projects/futian-0001", json={"name": "P", "insurer": "ins"})
    edge = api_client(app, "edge", sites=["futian-0001"])
    assert edge.post("/api/v1/events", json=json.loads(GOLDEN_START.read_text())).status_code == 202
    notice = api_client(app, "inspector", insurer="ins").post(
        "/api/v1/projects/futian-0001/notices"
    )
    assert notice.status_code == 201
    return app, notice.json()


def test_concurrent_writers_make_one_chain(world):
    app, _ = world
    sessions = app.state.services.sessions
    with sessions() as s:
        before = verify(s).records
    errors = []

    def writer(w):
        try:
            for i in range(8):
                with sessions.begin() as s:
                    audit.append(s, f"replica-{w}", "test.append", "test", f"{w}-{i}", {})
                    time.sleep(0.01)  # hold the transaction open: the race window
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with sessions() as s:
        result = verify(s)
    assert result.ok, result.problems
    assert result.records == before + 32


def test_an_anchor_verifies_its_prefix_after_more_records(world):
    app, _ = world
    sessions = app.state.services.sessions
    with sessions() as s:
        earlier = audit.anchor_of(verify(s))
    with sessions.begin() as s:
        audit.append(s, "x", "test.later", "test", "1", {})
    with sessions() as s:
        assert verify(s, earlier).ok  # before: failed after any new record


def test_a_rewritten_chain_and_a_removed_end_fail_the_anchors_kept_outside(world, tmp_path):
    app, _ = world
    sessions = app.state.services.sessions
    path = tmp_path / ANCHOR_FILE
    assert publish_anchor(sessions, path)
    with sessions() as s:
        assert s.query(PushRow).filter_by(type="audit.anchor").count() == 1
        anchors, bad = read_anchor_file(path)
        assert verify(s, anchors=anchors).ok and not bad
    # rewrite: edit record 2 and recompute every hash after it; the chain alone verifies
    with sessions.begin() as s:
        rows = s.query(AuditRow).order_by(AuditRow.id).all()
        rows[1].detail = json.dumps({"name": "rewritten"})
        prev = rows[0].hash
        for r in rows[1:]:
            r.prev_hash = prev
            r.hash = prev = _digest(prev, r.at, r.actor, r.action, r.entity, r.entity_id, r.detail)
    with sessions() as s:
        assert verify(s).ok  # the database alone cannot tell
        result = verify(s, anchors=anchors)
    assert not result.ok and "rewritten" in " ".join(result.problems)
    # delete the last records, the anchored one among them (after a fresh anchor)
    latest = publish_anchor(sessions, path)
    anchors, _ = read_anchor_file(path)
    with sessions.begin() as s:
        s.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": int(latest.split(":")[0])})
    with sessions() as s:
        result = verify(s, anchors=anchors[-1:])
    assert not result.ok and "removed from the end" in " ".join(result.problems)


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        ("UPDATE notices SET status = 'closed'", "the chain's last transition says issued"),
        ("UPDATE hazards SET status = 'dismissed'", "has no dismissal"),
        ("DELETE FROM notice_items", "items differ"),
    ],
)
def test_edits_made_straight_in_the_tables_are_caught(world, edit, found):
    app, _ = world
    sessions = app.state.services.sessions
    with sessions() as s:
        assert table_problems(s) == []
    with sessions.begin() as s:
        s.execute(text(edit))
    with sessions() as s:
        problems = table_problems(s)
    assert any(found in p for p in problems), problems
