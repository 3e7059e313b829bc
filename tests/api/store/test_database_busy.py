"""A database that cannot answer (SQLite locked by another writer past its busy timeout)
gets a 503 with Retry-After and says nothing was changed, in JSON for programs and on a
page in the reader's language for people; once the lock is gone the same request is
stored. A real lock on a real SQLite file, the busy timeout shortened for the test."""

import json
import sqlite3

import pytest

from siteguard.api.access.keys import create_key
from siteguard.api.store import db
from tests.support.api import api_client, sqlite_app
from tests.support.paths import GOLDEN_START


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.3)
    app = sqlite_app(tmp_path, "busy.db")
    api_client(app).put("/api/v1/projects/futian-0001", json={"name": "福田", "insurer": "ins"})
    return app, tmp_path / "busy.db"


def test_a_locked_database_is_a_503_and_the_retry_is_stored(app):
    app, path = app
    edge = api_client(app, "edge", sites=["futian-0001"])
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "李巡查", "inspector", insurer="ins")
    people = api_client(app)
    event = json.loads(GOLDEN_START.read_text())
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (and reads)
    try:
        r = edge.post("/api/v1/events", json=event)
        assert r.status_code == 503, r.text[:300]
        assert r.headers["retry-after"] == "5"
        assert "nothing was changed" in r.json()["error"]
        # logging in writes a session (reads go on: SQLite's WAL lets readers past a writer)
        page = people.post("/console/login", data={"key": key}, follow_redirects=False)
        assert page.status_code == 503 and "数据库繁忙" in page.text
    finally:
        other.rollback()
        other.close()
    r = edge.post("/api/v1/events", json=event)
    assert r.status_code == 202, r.text[:300]
    hazards = api_client(app).get("/api/v1/hazards").json()
    assert len(hazards["hazards"] if isinstance(hazards, dict) else hazards) == 1
