"""Camera state and camera-hours from the edge's status and stats topics."""

import json
import time
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from siteguard.api.app import create_app
from siteguard.api.intake import camera_health
from siteguard.api.settings import ApiSettings, CameraSettings, MqttIngestSettings
from siteguard.api.store.db import create_schema, make_engine, make_sessions
from tests.support.api import api_client

T0 = datetime(2026, 10, 5, 8, 0)


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    create_schema(engine)
    return make_sessions(engine)


def msg(state, t, **kw):
    return json.dumps(
        {"camera_id": "cam-1", "state": state, "at": t.isoformat() + "Z", **kw}
    ).encode()


def feed(sessions, kind, state, minutes):
    t = T0 + timedelta(minutes=minutes)  # the edge sends stats every 10 s; gaps over 60 s break
    with sessions.begin() as s:
        camera_health.record(s, f"siteguard/s1/cam-1/{kind}", msg(state, t), t)


def hours(sessions, start=T0, end=T0 + timedelta(days=1)):
    with sessions() as s:
        return camera_health.camera_hours_by_site(s, ["s1"], start, end)["s1"]


def test_heartbeats_make_camera_hours_and_silence_does_not(sessions):
    feed(sessions, "status", "online", 0)
    for m in range(1, 121):  # an hour of heartbeats
        feed(sessions, "stats", "online", m * 0.5)
    assert hours(sessions) == pytest.approx(1.0)
    # the box goes silent for two hours (no offline message: power cut), then comes back
    for m in range(0, 121):
        feed(sessions, "stats", "online", 180 + m * 0.5)
    assert hours(sessions) == pytest.approx(2.0)  # the silent gap is not counted
    feed(sessions, "status", "offline", 240.5)
    feed(sessions, "stats", "offline", 300)
    assert hours(sessions) == pytest.approx(2.0 + 0.5 / 60)
    # clipped to the period asked about
    assert hours(sessions, T0 + timedelta(minutes=30), T0 + timedelta(minutes=60)) == pytest.approx(
        0.5
    )
    with sessions() as s:
        latest = camera_health.latest(s, "s1", CameraSettings())["cam-1"]
        day = T0 + timedelta(days=1)
        assert camera_health.scheduled_hours_by_site(s, ["s1"], T0, day) == {"s1": 24}
    assert latest["state"] == "offline"


def test_bad_camera_messages_are_refused_clearly(sessions):
    with sessions.begin() as s, pytest.raises(camera_health.CameraMessageError, match="not JSON"):
        camera_health.record(s, "siteguard/s1/cam-1/stats", b"\xff", T0)
    with sessions.begin() as s, pytest.raises(camera_health.CameraMessageError, match="state"):
        camera_health.record(s, "siteguard/s1/cam-1/stats", b"[1]", T0)
    with sessions.begin() as s, pytest.raises(camera_health.CameraMessageError, match="ISO"):
        camera_health.record(s, "siteguard/s1/cam-1/stats", b'{"state":"online","at":"soon"}', T0)
    # an edge clock a day ahead buys no future hours
    with sessions.begin() as s:
        camera_health.record(
            s, "siteguard/s1/cam-1/status", msg("online", T0 + timedelta(days=1)), T0
        )
    with sessions() as s:
        cam = camera_health.latest(s, "s1", CameraSettings())["cam-1"]
        assert cam["at"].startswith("2026-10-05T08:05")


def test_the_api_takes_status_and_stats_from_the_broker(tmp_path, broker):
    app = create_app(
        ApiSettings(
            database_url=f"sqlite:///{tmp_path}/a.db",
            mqtt=MqttIngestSettings(**broker.login_as("siteguard-api")),
        )
    )
    with api_client(app) as c:
        assert app.state.services.mqtt.connected.wait(10)
        time.sleep(0.3)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="edge-x", protocol=mqtt.MQTTv5)
        pub.username_pw_set(broker.username, broker.password)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        now = datetime.now().astimezone()
        pub.publish(
            "siteguard/s9/cam-7/status",
            json.dumps({"state": "online", "detail": "", "at": now.isoformat()}),
            qos=1,
        ).wait_for_publish(5)
        pub.publish(
            "siteguard/s9/cam-7/stats",
            json.dumps({"state": "online", "fps_in": 25.0, "at": now.isoformat()}),
            qos=1,
        ).wait_for_publish(5)
        pub.publish("siteguard/s9/cam-7/stats", b"not json", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        counts = app.state.services.ingestor.counts
        while counts["camera"] + counts["rejected"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        pub.loop_stop()
        pub.disconnect()
        [cam] = c.get("/api/v1/projects/s9/cameras").json()
        assert cam["camera_id"] == "cam-7" and cam["status"]["state"] == "online"
        assert cam["status"]["stats"]["fps_in"] == 25.0
        [dead] = c.get("/api/v1/dead-letters").json()
        assert "not JSON" in dead["reason"] and dead["source"].endswith("cam-7/stats")


# -- liveness: a camera whose heartbeats stop is shown offline (derived when read) --------

LIVE = CameraSettings(missed_heartbeats=3, heartbeat_interval_s=20.0)


def beat(sessions, kind, state, seconds, **kw):
    """One status or heartbeat through the ingest's own function, received when sent."""
    t = T0 + timedelta(seconds=seconds)
    with sessions.begin() as s:
        camera_health.record(s, f"siteguard/s1/cam-1/{kind}", msg(state, t, **kw), t)


def seen(sessions, seconds, cameras=LIVE):
    with sessions() as s:
        return camera_health.latest(s, "s1", cameras, now=T0 + timedelta(seconds=seconds))["cam-1"]


def test_a_camera_whose_heartbeats_stop_is_offline_until_it_is_heard_again(sessions):
    beat(sessions, "status", "online", 0)
    beat(sessions, "stats", "online", 10, interval_s=10.0)  # the heartbeat names its period
    assert seen(sessions, 40)["state"] == "online"  # 3 intervals: not yet missed
    cam = seen(sessions, 40.5)
    assert cam["state"] == "offline" and cam["reported_state"] == "online"
    assert cam["detail"] == "no heartbeat since 2026-10-05T08:00:10Z (3 missed)"
    assert cam["at"] == "2026-10-05T08:00:10Z"  # the row itself is unchanged
    assert seen(sessions, 3610)["detail"].endswith("(360 missed)")
    # the box comes back: online again from its next heartbeat
    beat(sessions, "stats", "online", 3600, interval_s=10.0)
    cam = seen(sessions, 3605)
    assert (cam["state"], cam["detail"]) == ("online", "")
    # more missed heartbeats allowed: still online 40.5 s after the last one
    five = CameraSettings(missed_heartbeats=5, heartbeat_interval_s=20.0)
    assert seen(sessions, 3640.5, five)["state"] == "online"
    assert seen(sessions, 3650.5, five)["state"] == "offline"


def test_without_a_named_interval_the_default_one_counts_and_offline_stays_offline(sessions):
    beat(sessions, "status", "connecting", 0)  # a status only, no heartbeat yet
    assert seen(sessions, 60)["state"] == "connecting"  # 3 x the default 20 s
    cam = seen(sessions, 61)
    assert cam["state"] == "offline" and cam["reported_state"] == "connecting"
    assert cam["detail"] == "no heartbeat since 2026-10-05T08:00:00Z (3 missed)"
    beat(sessions, "stats", "online", 100)  # an older edge: no interval_s
    assert seen(sessions, 160)["state"] == "online"
    assert seen(sessions, 161)["state"] == "offline"
    # a camera the edge itself reports offline keeps the edge's reason, however long ago
    beat(sessions, "status", "offline", 200, detail="stream: connection refused")
    cam = seen(sessions, 86400)
    assert (cam["state"], cam["detail"]) == ("offline", "stream: connection refused")
