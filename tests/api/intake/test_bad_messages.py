"""One bad message never stops ingest (attack report row 2, 10, 13): values a database
column bounds are refused at parse time on both databases, a data error of any kind is a
dead letter (only an outage is retried), and over HTTP the same inputs are JSON 422s."""

import json
import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.exc import DataError, OperationalError

from siteguard.api.app import create_app
from siteguard.api.intake.events import Ingestor
from siteguard.api.intake.mqtt import MqttIngest, is_outage
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.db import create_schema, make_engine, make_sessions
from siteguard.api.store.tables import CameraStatusRow, DeadLetterRow
from siteguard.demo.services import wait_until
from tests.api.intake.test_ingest import event
from tests.support.api import api_client

BAD_EVENTS = {
    "zones joined past the column": event("evt_badzones00001", zones=["z" * 40, "y" * 40]),
    "seq past 32 bits": event("evt_badseq0000001", seq=2**31, state="update"),
    "a year-1 clock": event("evt_badyear000001")
    | {"started_at": "0001-01-01T00:00:00+08:00", "frame_time": "0001-01-01T00:00:00+08:00"},
}


def test_poisoned_messages_are_dead_letters_and_later_events_still_arrive(tmp_path, broker, db_url):
    settings = ApiSettings(
        database_url=db_url, mqtt=MqttIngestSettings(**broker.login_as("siteguard-api"))
    )
    app = create_app(settings)
    with api_client(app) as c:
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        pub = paho.Client(CallbackAPIVersion.VERSION2, client_id="bad-edge", protocol=paho.MQTTv5)
        pub.username_pw_set(broker.username, broker.password)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        topic = "siteguard/futian-0001/cam-north/events"
        for doc in BAD_EVENTS.values():
            pub.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)
        status = {"camera_id": "cam-north", "state": "offline", "detail": "lost\u0000signal"}
        pub.publish(
            "siteguard/futian-0001/cam-north/status", json.dumps(status), qos=1
        ).wait_for_publish(5)
        for i in range(5):
            doc = event(f"evt_good{i:09d}", t=i, started=i)
            pub.publish(topic, json.dumps(doc), qos=1).wait_for_publish(5)
        counts = app.state.services.ingestor.counts
        assert wait_until(lambda: counts["new"] == 5 and counts["camera"] == 1, 20), counts
        pub.loop_stop()
        pub.disconnect()
        dead = c.get("/api/v1/dead-letters").json()
        assert len(dead) == len(BAD_EVENTS), dead
        reasons = " | ".join(d["reason"] for d in dead)
        assert "zones" in reasons and "seq" in reasons and "plausible" in reasons
        health = c.get("/healthz")
        assert health.status_code == 200 and health.json()["healthy"], health.json()
        assert app.state.services.mqtt.db_retries == 0  # nothing mistaken for an outage
    with app.state.services.sessions() as s:
        [row] = s.query(CameraStatusRow).all()
        assert row.detail == "lostsignal" and row.state == "offline"


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_the_same_inputs_over_http_are_json_422s_not_500s(tmp_path, db_url, name):
    app = create_app(ApiSettings(database_url=db_url, mqtt=MqttIngestSettings(enabled=False)))
    with api_client(app, "edge", sites=["futian-0001"]) as edge:
        r = edge.post("/api/v1/events", json=BAD_EVENTS[name])
        assert r.status_code == 422 and r.json()["error"] == "rejected", r.text


class DataFault(Ingestor):
    """Storage that fails with a data error the validation did not foresee (a column
    bound, an encoding): the message is at fault, not the database."""

    def ingest_batch(self, messages):
        raise DataError("INSERT", {}, Exception("value too long for type character varying(64)"))

    def ingest_raw(self, payload, source, authorize=None):
        if b"evt_toolong" in bytes(payload):
            raise DataError("INSERT", {}, Exception("value too long"))
        return super().ingest_raw(payload, source, authorize)


def message(mid, eid, topic=b"siteguard/futian-0001/cam-north/events"):
    msg = paho.MQTTMessage(mid=mid, topic=topic)
    msg.payload = json.dumps(event(eid, t=mid, started=mid)).encode()
    return msg


def test_a_data_error_is_a_dead_letter_not_an_endless_retry(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/f.db")
    create_schema(engine)
    ingestor = DataFault(make_sessions(engine), 600)
    consumer = MqttIngest(MqttIngestSettings(), ingestor)
    batch = [message(1, "evt_fine00000001"), message(2, "evt_toolong00001")]
    assert consumer._store(batch) is True  # before: retried forever as "database down"
    assert consumer.db_retries == 0
    assert ingestor.counts["new"] == 1 and ingestor.counts["rejected"] == 1
    with ingestor.sessions() as s:
        [dead] = s.query(DeadLetterRow).all()
    assert "evt_toolong" in dead.payload and "value too long" in dead.reason


def test_only_connectivity_errors_count_as_an_outage():
    assert is_outage(OperationalError("SELECT 1", {}, Exception("connection refused")))
    assert not is_outage(DataError("INSERT", {}, Exception("value too long")))


def test_a_bad_camera_message_in_a_batch_does_not_redo_the_events(tmp_path):
    """Before: one bad status message made the whole batch rerun one by one and the batch's
    invalid events were dead-lettered twice."""

    class CameraBug(Ingestor):
        def ingest_camera(self, topic, payload):
            raise RuntimeError("a bug in camera health")

    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    create_schema(engine)
    ingestor = CameraBug(make_sessions(engine), 600)
    consumer = MqttIngest(MqttIngestSettings(), ingestor)
    bad = paho.MQTTMessage(mid=2, topic=b"siteguard/futian-0001/cam-north/events")
    bad.payload = b"not json"
    status = paho.MQTTMessage(mid=3, topic=b"siteguard/futian-0001/cam-north/status")
    status.payload = b'{"state": "online"}'
    assert consumer._store([message(1, "evt_fine00000001"), bad, status]) is True
    with ingestor.sessions() as s:
        dead = s.query(DeadLetterRow).all()
    assert len(dead) == 2, [d.reason for d in dead]  # the bad event once, the status once
    assert ingestor.counts["new"] == 1 and ingestor.counts["duplicate"] == 0


def test_health_turns_unhealthy_when_ingest_is_stuck(tmp_path):
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path}/h.db", mqtt=MqttIngestSettings(max_lag_s=5)
    )
    app = create_app(settings)
    consumer = app.state.services.mqtt  # not started (no lifespan): nothing takes it off
    stuck = message(1, "evt_stuck0000001")
    stuck.timestamp = time.monotonic() - 30
    consumer._queue.put(stuck)
    r = api_client(app).get("/healthz")
    assert r.status_code == 503 and not r.json()["healthy"] and r.json()["ingest_lag_s"] >= 30
