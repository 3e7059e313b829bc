"""Parallel requests against a real server (uvicorn, threads), on SQLite and PostgreSQL:
notice numbers stay unique and every hazard lands on one notice while events and
issues interleave; of N parallel acknowledges exactly one moves the notice (the others
are 409) and the history holds it once; parallel dismissals close the notice once. A
site id of 50 characters still gets a notice number that fits its column."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.demo.ports import free_port
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
SITE = "futian-0001"
PROJECT = {"name": "福田工程", "insurer": "保险A", "jurisdiction": "福田", "contractor": "甲"}


class Server:
    """The API on a real port, with a key per role."""

    def __init__(self, tmp_path, db_url) -> None:
        self.app = create_app(
            ApiSettings(
                database_url=db_url,
                mqtt=MqttIngestSettings(enabled=False),
                data_dir=tmp_path / "d",
            )
        )
        with self.app.state.services.sessions.begin() as s:
            self.keys = {
                "admin": create_key(s, "admin", "admin"),
                "inspector": create_key(s, "检查员", "inspector", insurer="保险A"),
                "contractor": create_key(s, "施工方", "contractor", [SITE]),
            }
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started

    def call(self, role: str, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(
            method,
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Bearer {self.keys[role]}"},
            timeout=60,
            **kw,
        )

    def sql(self, query: str, **params) -> list:
        with self.app.state.services.engine.connect() as c:
            return list(c.execute(text(query), params).all())

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def api(tmp_path, db_url):
    server = Server(tmp_path, db_url)
    assert server.call("admin", "PUT", f"/api/v1/projects/{SITE}", json=PROJECT).status_code == 200
    yield server
    server.stop()


def event(i: int, site: str = SITE) -> dict:
    """A new hazard: its own event and camera."""
    return dict(GOLDEN, event_id=f"evt_par{i:012d}", camera_id=f"cam-{i}", site_id=site)


def post_event(api: Server, i: int, site: str = SITE) -> None:
    r = api.call("admin", "POST", "/api/v1/events", json=event(i, site))
    assert r.status_code == 202, r.text


def ingest(api: Server, i: int) -> None:
    """A new hazard the way the MQTT consumer stores it (its own thread)."""
    result = api.app.state.services.ingestor.ingest_raw(json.dumps(event(i)), "test")
    assert result.status == "new", result


def test_parallel_issues_give_unique_numbers_and_one_notice_per_hazard(api):
    threads, rounds = 6, 5

    def worker(w: int) -> list[int]:
        codes = []
        for r in range(rounds):
            ingest(api, w * 100 + r)  # hazards keep arriving while notices are issued
            codes.append(api.call("inspector", "POST", f"/api/v1/projects/{SITE}/notices"))
        return [c.status_code for c in codes]

    with ThreadPoolExecutor(threads) as pool:
        codes = Counter(c for cs in pool.map(worker, range(threads)) for c in cs)
    assert set(codes) <= {201, 409}, codes  # no server error
    assert codes[201] >= 2, codes  # some issues really ran side by side with new hazards
    numbers = [n for (n,) in api.sql("SELECT number FROM notices ORDER BY id")]
    assert len(numbers) == codes[201] == len(set(numbers))
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(1, len(numbers) + 1))  # SG-<site>-<day>-001, 002, ...
    # every hazard on exactly one notice; none left behind while it said 409
    per_hazard = api.sql("SELECT hazard_id, COUNT(*) FROM notice_items GROUP BY hazard_id")
    assert len(per_hazard) == threads * rounds and all(c == 1 for _, c in per_hazard)
    issued = api.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.issued'")
    assert issued[0][0] == len(numbers)


def test_parallel_acknowledges_move_the_notice_once(api):
    post_event(api, 1)
    nid = api.call("inspector", "POST", f"/api/v1/projects/{SITE}/notices").json()["id"]
    n = 12
    barrier = threading.Barrier(n)

    def ack(_: int) -> httpx.Response:
        barrier.wait()
        return api.call("contractor", "POST", f"/api/v1/notices/{nid}/actions/acknowledge", json={})

    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(ack, range(n)))
    codes = Counter(r.status_code for r in answers)
    assert codes == {200: 1, 409: n - 1}, codes
    assert all(
        r.json()["error"] == "cannot acknowledge a notice that is rectifying"
        for r in answers
        if r.status_code == 409
    )
    history = api.call("admin", "GET", f"/api/v1/notices/{nid}/history").json()
    assert [(h["action"], h["from"], h["to"]) for h in history] == [
        ("acknowledge", "issued", "rectifying")
    ]
    acks = api.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.acknowledge'")
    assert acks[0][0] == 1


def test_parallel_dismissals_close_the_notice_once(api):
    hazards = 4
    for i in range(hazards):
        post_event(api, i)
    notice = api.call("inspector", "POST", f"/api/v1/projects/{SITE}/notices").json()
    ids = [it["hazard_id"] for it in notice["items"]]
    assert len(ids) == hazards
    barrier = threading.Barrier(hazards * 2)

    def dismiss(hid: int) -> int:
        barrier.wait()
        r = api.call("inspector", "POST", f"/api/v1/hazards/{hid}/dismiss", json={"reason": "误报"})
        return r.status_code

    with ThreadPoolExecutor(hazards * 2) as pool:  # each hazard twice
        codes = Counter(pool.map(dismiss, ids + ids))
    assert codes == {200: hazards, 409: hazards}, codes
    history = api.call("admin", "GET", f"/api/v1/notices/{notice['id']}/history").json()
    assert [(h["action"], h["to"]) for h in history] == [("dismiss", "closed")]
    dismissed = api.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'hazard.dismissed'")
    assert dismissed[0][0] == hazards


def test_a_50_character_site_id_gets_a_number_that_fits(api):
    long_a = "a" * 45 + "-0001"  # 50 valid characters
    long_b = "a" * 45 + "-0002"  # the same first 45
    for site in (long_a, long_b):
        r = api.call("admin", "PUT", f"/api/v1/projects/{site}", json=PROJECT)
        assert r.status_code == 200, r.text
    numbers = []
    for i, site in enumerate((long_a, long_b, long_a)):
        post_event(api, i, site)
        r = api.call("inspector", "POST", f"/api/v1/projects/{site}/notices")
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    assert all(len(n) <= 50 for n in numbers), numbers  # notice:<number>:issued fits too
    a1, b1, a2 = numbers
    assert a1.startswith("SG-" + "a" * 23 + "~") and a1.endswith("-001")
    assert b1.endswith("-001") and b1[:-4] != a1[:-4]  # the two sites do not share numbers
    assert a2 == a1[:-3] + "002"
