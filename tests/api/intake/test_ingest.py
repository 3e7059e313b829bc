"""API ingest: idempotent by (event id, seq), grouped into hazards, dead letters for bad
input; over HTTP and over MQTT (a real broker, two replicas on one shared subscription)."""

import json
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine

from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

GOLDEN = GOLDEN_START
T0 = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)


def event(event_id="evt_000000000001", seq=0, t=0.0, started=0.0, **kw):
    doc = json.loads(GOLDEN.read_text())
    state = kw.pop("state", "start" if seq == 0 else "update")
    doc.update(
        event_id=event_id,
        seq=seq,
        state=state,
        started_at=(T0 + timedelta(seconds=started)).isoformat(),
        frame_time=(T0 + timedelta(seconds=t)).isoformat(),
        **kw,
    )
    if state == "end":
        doc["ended_at"] = doc["frame_time"]
    return doc


@pytest.fixture
def client(tmp_path, db_url):
    settings = ApiSettings(
        database_url=db_url,
        mqtt=MqttIngestSettings(enabled=False),
        hazard_window_s=600,
    )
    with api_client(create_app(settings)) as c:
        yield c


def test_http_ingest_is_idempotent(client):
    r = client.post("/api/v1/events", json=event())
    assert r.status_code == 202 and r.json()["status"] == "new"
    again = client.post("/api/v1/events", json=event())
    assert again.status_code == 202 and again.json() == {
        "status": "duplicate",
        "hazard_id": r.json()["hazard_id"],
    }
    [h] = client.get("/api/v1/hazards").json()
    assert h["event_count"] == 1 and h["hazard_type"] == "no_helmet" and h["status"] == "open"
    assert h["evidence_uri"].endswith("start.jpg")


def test_out_of_order_messages_never_move_a_hazard_backwards(client):
    client.post("/api/v1/events", json=event(seq=2, t=20, level="major", reason="late update"))
    client.post("/api/v1/events", json=event(seq=0, t=0, reason="the start, arriving last"))
    client.post("/api/v1/events", json=event(seq=1, t=10, level="general", reason="middle"))
    [h] = client.get("/api/v1/hazards").json()
    assert h["event_count"] == 3 and h["level"] == "major"
    assert h["last_seen"].startswith("2026-10-05T08:30:20") and h["reason"] == "late update"
    assert h["first_seen"].startswith("2026-10-05T08:30:00")
    detail = client.get(f"/api/v1/hazards/{h['id']}").json()
    assert sorted(e["seq"] for e in detail["events"]) == [0, 1, 2]


def test_events_of_one_place_and_type_within_the_window_are_one_hazard(client):
    client.post("/api/v1/events", json=event("evt_aaaaaaaaaaaa", t=0))
    client.post(
        "/api/v1/events", json=event("evt_bbbbbbbbbbbb", t=300, started=300)
    )  # new track, same place
    client.post(
        "/api/v1/events", json=event("evt_cccccccccccc", t=2000, started=2000)
    )  # after the window
    client.post(
        "/api/v1/events", json=event("evt_dddddddddddd", t=10, started=10, camera_id="cam-south")
    )
    client.post(
        "/api/v1/events",
        json=event(
            "evt_eeeeeeeeeeee", t=10, started=10, hazard_type="edge_unprotected", zones=["slab-3f"]
        ),
    )
    hazards = client.get("/api/v1/hazards").json()
    assert len(hazards) == 4
    counts = sorted(h["event_count"] for h in hazards)
    assert counts == [1, 1, 1, 2]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "invalid hazard event"),
        (json.dumps(event(seq=1, state="start")).encode(), "seq must be 0"),
        (json.dumps({**event(), "hazard_type": "smoking"}).encode(), "hazard_type"),
        (b"x" * 300_000, "exceeds the limit"),
    ],
)
def test_bad_input_is_dead_lettered_with_the_reason_and_counted(client, body, reason):
    r = client.post("/api/v1/events", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and reason in r.json()["reason"]
    [dl] = client.get("/api/v1/dead-letters").json()
    assert reason in dl["reason"] and dl["source"] == "http:test-admin"
    assert 'siteguard_ingest_total{result="rejected"} 1' in client.get("/metrics").text
    assert client.get("/api/v1/hazards").json() == []


def test_unknown_hazard_is_a_json_404(client):
    r = client.get("/api/v1/hazards/999")
    assert r.status_code == 404 and r.json() == {"error": "no hazard 999"}


def test_two_replicas_on_a_shared_subscription_handle_each_event_once(tmp_path, broker, db_url):
    db = db_url
    apps = [
        create_app(
            ApiSettings(
                database_url=db, mqtt=MqttIngestSettings(**broker.login_as("siteguard-api"))
            ),
            replica=str(i),
        )
        for i in range(2)
    ]
    with api_client(apps[0]) as a, api_client(apps[1]) as b:
        for app in apps:
            assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.5)  # subscriptions in place
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-edge", protocol=mqtt.MQTTv5)
        pub.username_pw_set(broker.username, broker.password)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        for i in range(40):
            ev = event(f"evt_{i:012d}", t=i, started=i, camera_id=f"cam-{i % 4}")
            pub.publish(
                f"siteguard/futian-0001/cam-{i % 4}/events", json.dumps(ev), qos=1
            ).wait_for_publish(5)
        pub.publish("siteguard/futian-0001/cam-0/events", b"\x00garbage", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 20
        counts = lambda: [app.state.services.ingestor.counts for app in apps]  # noqa: E731
        while sum(c["new"] + c["rejected"] for c in counts()) < 41 and time.monotonic() < deadline:
            time.sleep(0.1)
        per_replica = [c["new"] for c in counts()]
        assert sum(per_replica) == 40 and all(n > 0 for n in per_replica), per_replica
        assert sum(c["duplicate"] for c in counts()) == 0
        assert sum(h["event_count"] for h in a.get("/api/v1/hazards?limit=500").json()) == 40
        assert len(b.get("/api/v1/dead-letters").json()) == 1
        pub.loop_stop()
        pub.disconnect()


def test_events_published_while_the_api_is_down_arrive_when_it_is_back(tmp_path, broker, db_url):
    db = db_url
    settings = ApiSettings(
        database_url=db, mqtt=MqttIngestSettings(**broker.login_as("siteguard-api"))
    )
    with TestClient(create_app(settings)) as c:  # first run: creates the persistent session
        assert c.app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-edge-2", protocol=mqtt.MQTTv5)
    pub.username_pw_set(broker.username, broker.password)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    for i in range(5):  # the API is down
        pub.publish(
            "siteguard/futian-0001/cam-north/events",
            json.dumps(event(f"evt_down{i:08d}", t=i, started=i)),
            qos=1,
        ).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()
    app = create_app(settings)
    with api_client(app) as c:
        deadline = time.monotonic() + 15
        while app.state.services.ingestor.counts["new"] < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.state.services.ingestor.counts["new"] == 5
        assert sum(h["event_count"] for h in c.get("/api/v1/hazards").json()) == 5


def test_a_batch_gives_the_same_outcome_as_one_message_at_a_time(tmp_path, db_url):
    """The MQTT consumer stores batches in one transaction: duplicates inside the batch,
    messages of one event out of order, bad messages and several places in one batch end
    exactly as they would one by one."""
    messages = [
        json.dumps(event("evt_batch00000001", seq=1, t=5, state="update")),
        json.dumps(event("evt_batch00000001", seq=0, t=0)),
        json.dumps(event("evt_batch00000001", seq=1, t=5, state="update")),  # duplicate
        b"{not json",
        json.dumps(event("evt_batch00000002", t=30, started=30)),  # same place: same hazard
        json.dumps(event("evt_batch00000003", t=40, started=40, camera_id="cam-9")),
        json.dumps(event("evt_batch00000004", t=50, started=50, level="major")),
    ]
    messages = [(m.encode() if isinstance(m, str) else m, "test") for m in messages]
    outcomes = {}
    for mode in ("batch", "single"):
        url = db_url if mode == "batch" else f"sqlite:///{tmp_path}/single.db"
        app = create_app(ApiSettings(database_url=url, mqtt=MqttIngestSettings(enabled=False)))
        ing = app.state.services.ingestor
        if mode == "batch":
            results = ing.ingest_batch(messages)
        else:
            results = [ing.ingest_raw(data, src) for data, src in messages]
        with api_client(app) as c:
            hazards = sorted(
                (h["camera_id"], h["event_count"], h["level"], h["last_seen"])
                for h in c.get("/api/v1/hazards").json()
            )
            dead = len(c.get("/api/v1/dead-letters").json())
        outcomes[mode] = ([r.status for r in results], hazards, dead, dict(ing.counts))
    assert outcomes["batch"] == outcomes["single"]
    statuses, hazards, dead, _ = outcomes["batch"]
    assert statuses == ["new", "new", "duplicate", "rejected", "new", "new", "new"]
    assert dead == 1 and sorted((h[1], h[2]) for h in hazards) == [(1, "general"), (4, "major")]


def test_replicas_opening_the_same_hazard_at_once_make_one_hazard(postgres):
    """Two API processes each get the first event of a burst at the same place: the second
    waits for the first's transaction (an advisory lock per place on PostgreSQL) and joins
    its hazard instead of opening a second one."""
    import threading

    from siteguard.api.intake.events import Ingestor, _Batch
    from siteguard.api.store.db import create_schema, make_engine, make_sessions
    from siteguard.contract.events import HazardEvent

    url = postgres.new_database()
    engine = make_engine(url)
    create_schema(engine)
    first, second = (Ingestor(make_sessions(make_engine(url)), 600) for _ in range(2))
    ev1 = HazardEvent.model_validate(event("evt_race00000001", t=0))
    ev2 = HazardEvent.model_validate(event("evt_race00000002", t=1, started=1))
    with first.sessions.begin() as s:  # replica 1 opens the hazard, not yet committed
        assert first._store(s, ev1, "replica-1", ev1.to_json(), _Batch()).status == "new"
        result = {}
        t = threading.Thread(target=lambda: result.update(r=second.ingest(ev2, "replica-2")))
        t.start()
        t.join(1.0)
        assert t.is_alive()  # replica 2 waits on the place instead of opening its own
    t.join(10)
    assert result["r"].status == "new"
    with engine.connect() as c:
        hazards = c.exec_driver_sql("SELECT id, event_count FROM hazards").all()
    assert len(hazards) == 1 and hazards[0][1] == 2


def test_a_batch_that_fails_unexpectedly_is_redone_one_by_one_and_nothing_is_lost(tmp_path):
    """Not a database outage but a bug or a poisoned message: the consumer redoes the batch
    message by message; the one that still fails is kept as a dead letter with the error."""
    import paho.mqtt.client as paho

    from siteguard.api.intake.events import Ingestor
    from siteguard.api.intake.mqtt import MqttIngest
    from siteguard.api.store.db import create_schema, make_engine, make_sessions

    class Flaky(Ingestor):
        def ingest_batch(self, messages):
            raise RuntimeError("a bug in batch storage")

        def ingest_raw(self, payload, source, authorize=None):
            if b"evt_poison" in bytes(payload):
                raise RuntimeError("a bug this message triggers")
            return super().ingest_raw(payload, source, authorize)

    engine = make_engine(f"sqlite:///{tmp_path}/f.db")
    create_schema(engine)
    ingestor = Flaky(make_sessions(engine), 600)
    consumer = MqttIngest(MqttIngestSettings(), ingestor)
    batch = []
    for i, eid in enumerate(("evt_fine00000001", "evt_poison000001", "evt_fine00000002")):
        msg = paho.MQTTMessage(mid=i + 1, topic=b"siteguard/futian-0001/cam-north/events")
        msg.payload = json.dumps(event(eid, t=i, started=i)).encode()
        batch.append(msg)
    assert consumer._store(batch) is True
    assert ingestor.counts["new"] == 2 and ingestor.counts["rejected"] == 1
    with ingestor.sessions() as s:
        from siteguard.api.store.tables import DeadLetterRow

        [dead] = s.query(DeadLetterRow).all()
    assert "evt_poison" in dead.payload and "a bug this message triggers" in dead.reason


def test_a_retired_replica_hands_over_what_waited_for_it_and_gets_no_more(
    tmp_path, broker, capsys, monkeypatch
):
    """Scale-down: a stopped replica's persistent session keeps receiving its share of the
    shared subscription. `siteguard api --replica N --retire` stores that share, leaves
    the group and ends the session: later events all go to the replicas that remain."""
    from siteguard.cli import main

    db = f"sqlite:///{tmp_path}/api.db"
    settings = ApiSettings(
        database_url=db, mqtt=MqttIngestSettings(**broker.login_as("siteguard-api"))
    )
    stays = create_app(settings, replica="1")
    with api_client(stays):
        with api_client(create_app(settings, replica="2")) as leaving:
            assert leaving.app.state.services.mqtt.connected.wait(10)
            assert stays.state.services.mqtt.connected.wait(10)
            time.sleep(0.5)  # both in the group
        counts = stays.state.services.ingestor.counts
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-edge-r", protocol=mqtt.MQTTv5)
        pub.username_pw_set(broker.username, broker.password)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()

        def publish(first, n):
            for i in range(first, first + n):
                ev = event(f"evt_ret{i:09d}", t=i, started=i, camera_id=f"cam-{i % 3}")
                pub.publish(
                    f"siteguard/futian-0001/cam-{i % 3}/events", json.dumps(ev), qos=1
                ).wait_for_publish(5)

        publish(0, 20)
        time.sleep(2)
        kept_for_2 = 20 - counts["new"]
        assert kept_for_2 > 0  # the stopped replica's share waits at the broker
        api_login = broker.login_as("siteguard-api")  # as a deployment gives it: the env
        monkeypatch.setenv("SITEGUARD_MQTT_USERNAME", api_login["username"])
        monkeypatch.setenv("SITEGUARD_MQTT_PASSWORD", api_login["password"])
        code = main(
            ["api", "--db", db, "--mqtt-port", str(broker.port), "--replica", "2", "--retire"]
        )
        out = capsys.readouterr().out
        assert code == 0 and f"stored {kept_for_2} message(s)" in out, out
        publish(20, 10)
        deadline = time.monotonic() + 15
        while counts["new"] < 30 - kept_for_2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert counts["new"] == 30 - kept_for_2  # every later event reached the remaining one
        pub.loop_stop()
        pub.disconnect()
    engine = create_engine(db)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == 30
    engine.dispose()
