"""The outbox and publisher against a real Mosquitto broker."""

import json
import time
from datetime import UTC, datetime, timedelta

from siteguard.contract.events import HazardEvent
from siteguard.demo.services import Collector
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import MqttConfig, Publisher

T0 = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)


def event(i: int) -> HazardEvent:
    return HazardEvent.model_validate(
        {
            "event_id": f"evt_{i:012d}",
            "seq": 0,
            "state": "start",
            "site_id": "site-1",
            "camera_id": "cam-1",
            "hazard_type": "no_helmet",
            "level": "general",
            "reason": "bare head",
            "score": 0.8,
            "frame_width": 640,
            "frame_height": 352,
            "started_at": T0.isoformat(),
            "frame_time": (T0 + timedelta(seconds=i)).isoformat(),
            "model": {"name": "m", "version": "1", "sha256": "a" * 64},
        }
    )


def test_outbox_survives_reopening_and_keeps_order(tmp_path):
    box = Outbox(tmp_path / "o.db")
    ids = [box.put("t", f"m{i}") for i in range(5)]
    box.ack(ids[1])
    box.close()
    box = Outbox(tmp_path / "o.db")
    assert [m.payload for m in box.pending()] == [b"m0", b"m2", b"m3", b"m4"]
    assert [m.payload for m in box.pending(2, after_id=ids[2])] == [b"m3", b"m4"]
    assert box.depth() == 4


def test_events_published_with_last_will_and_acked_out_of_the_outbox(tmp_path, broker):
    sub = Collector(**broker.login, topic="siteguard/#")
    box = Outbox(tmp_path / "o.db")
    pub = Publisher(MqttConfig(**broker.login_as("edge-site-1")), "site-1", box)
    pub.start()
    assert pub.connected.wait(10)
    for i in range(5):
        pub.send_event(event(i))
    pub.send_status("cam-1", json.dumps({"state": "online"}))
    got = [HazardEvent.model_validate_json(p) for p in sub.wait_for(5, topic_suffix="/events")]
    assert [e.event_id for e in got] == [f"evt_{i:012d}" for i in range(5)]
    assert sub.wait_for(1, topic_suffix="/available") == [b"online"]
    deadline = time.monotonic() + 5
    while box.depth() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.depth() == 0 and pub.acked >= 6
    # the worker dies without a clean disconnect: the broker publishes the last will
    pub.client._sock_close()  # simulate a dead process: socket gone, no DISCONNECT packet
    pub._stop.set()
    pub.client.loop_stop()
    assert sub.wait_for(2, topic_suffix="/available", timeout=60)[-1] == b"offline"
    sub.close()


def test_broker_outage_loses_nothing_and_delivers_in_order(tmp_path, broker):
    sub = Collector(**broker.login, topic="siteguard/site-1/+/events")
    sub.wait_for(0)
    box = Outbox(tmp_path / "o.db")
    pub = Publisher(MqttConfig(**broker.login_as("edge-site-1")), "site-1", box)
    pub.start()
    assert pub.connected.wait(10)
    for i in range(3):
        pub.send_event(event(i))
    sub.wait_for(3)
    time.sleep(1.2)  # let the broker autosave the subscriber's session
    broker.stop()
    deadline = time.monotonic() + 10
    while pub.connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pub.connected.is_set()
    for i in range(3, 30):  # violations keep happening while the broker is down
        pub.send_event(event(i))
    assert box.depth() == 27
    time.sleep(3)
    broker.start()
    got = [HazardEvent.model_validate_json(p).event_id for p in sub.wait_for(30, timeout=60)]
    assert got == [f"evt_{i:012d}" for i in range(30)]  # all, once each, in order
    deadline = time.monotonic() + 10
    while box.depth() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.depth() == 0
    pub.stop()
    sub.close()


def test_worker_restart_resends_the_unacknowledged_backlog(tmp_path, broker):
    box = Outbox(tmp_path / "o.db")
    for i in range(4):  # written while no publisher ran (e.g. the worker crashed before sending)
        box.put("siteguard/site-1/cam-1/events", event(i).to_json())
    box.close()
    sub = Collector(**broker.login, topic="siteguard/site-1/+/events")
    pub = Publisher(
        MqttConfig(**broker.login_as("edge-site-1")), "site-1", Outbox(tmp_path / "o.db")
    )
    pub.start()
    assert len(sub.wait_for(4)) == 4
    pub.stop()
    sub.close()


def test_credentials_are_secret_in_config_dumps():
    cfg = MqttConfig(username="edge", password="hunter2")
    assert "hunter2" not in repr(cfg) and "hunter2" not in cfg.model_dump_json()
