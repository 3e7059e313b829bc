"""The production shape on one machine, without Docker: two `siteguard api` processes on
one Mosquitto (MQTT 5 shared subscription) and one PostgreSQL. Events stream in from
eight simulated cameras while one API process is killed (SIGKILL) and restarted and every
database connection is dropped: each event is stored exactly once, none lost."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, text

from siteguard.demo.ports import free_port, wait_port
from tests.support.paths import GOLDEN_START

pytestmark = pytest.mark.slow
GOLDEN = GOLDEN_START
CAMERAS, PER_CAMERA = 8, 40


def api_process(db_url, login, replica, log):
    """A `siteguard api` process; its broker login from the environment (no password on
    the command line), the way compose gives it."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siteguard",
            "api",
            "--db",
            db_url,
            "--mqtt-port",
            str(login["port"]),
            "--port",
            str(port),
            "--replica",
            str(replica),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            SITEGUARD_MQTT_USERNAME=login["username"],
            SITEGUARD_MQTT_PASSWORD=login["password"],
        ),
    )
    assert wait_port(port, 30), "the API process did not start"
    return proc, port


def event(cam, i):
    doc = json.loads(GOLDEN.read_text())
    t = datetime.now(UTC)
    doc.update(
        event_id=f"evt_c{cam}_{i:08d}",
        seq=0,
        state="start",
        site_id="scale-site",
        camera_id=f"cam-{cam}",
        started_at=(t - timedelta(seconds=1)).isoformat(),
        frame_time=t.isoformat(),
    )
    return json.dumps(doc)


def metric(port, name="new"):
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    line = next(
        x for x in body.splitlines() if x.startswith(f'siteguard_ingest_total{{result="{name}"}}')
    )
    return int(line.split()[-1])


def test_two_api_processes_survive_a_kill_and_a_dropped_database(tmp_path, broker, postgres):
    url = postgres.new_database()
    engine = create_engine(url)
    from siteguard.api.store.db import create_schema, make_engine

    create_schema(make_engine(url))  # first: two processes starting at once would race
    logs = [open(tmp_path / f"api-{i}.log", "wb") for i in range(2)]  # noqa: SIM115
    procs = [api_process(url, broker.login_as("siteguard-api"), i, logs[i]) for i in range(2)]
    time.sleep(1.0)  # both subscribed
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="edge-sim", protocol=mqtt.MQTTv5)
    pub.username_pw_set(broker.username, broker.password)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    total = CAMERAS * PER_CAMERA
    try:
        for i in range(PER_CAMERA):
            for cam in range(CAMERAS):
                pub.publish(
                    f"siteguard/scale-site/cam-{cam}/events", event(cam, i), qos=1
                ).wait_for_publish(5)
            time.sleep(0.05)
            if i == 10:  # replica 1 dies mid-ingest (no clean shutdown), then comes back
                procs[1][0].send_signal(signal.SIGKILL)
                procs[1][0].wait(10)
            if i == 14:
                procs[1] = api_process(url, broker.login_as("siteguard-api"), 1, logs[1])
            if i == 24:  # every database connection of both replicas is dropped
                with engine.connect() as c:
                    dropped = c.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    ).scalar()
                assert dropped >= 1
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            with engine.connect() as c:
                stored = c.execute(text("SELECT count(*) FROM events")).scalar()
            if stored >= total:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # anything redelivered late must still not duplicate
        with engine.connect() as c:
            stored = c.execute(text("SELECT count(*) FROM events")).scalar()
            distinct = c.execute(text("SELECT count(DISTINCT event_id) FROM events")).scalar()
            dead = c.execute(text("SELECT count(*) FROM dead_letters")).scalar()
        assert (stored, distinct, dead) == (total, total, 0)
        # both processes did part of the work (the shared subscription splits it)
        assert metric(procs[0][1]) > 0 and metric(procs[1][1]) > 0
        health = [httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=5).json() for _, p in procs]
        assert all(h["database"] and h["mqtt_connected"] for h in health)
    finally:
        pub.loop_stop()
        pub.disconnect()
        for proc, _ in procs:
            proc.terminate()
            proc.wait(10)
        for f in logs:
            f.close()
        engine.dispose()
