"""Edge disk full (attack report row 8): the outbox write fails, and before this the event
was gone ("analysis failed on a frame") with nothing counting it. Now it is held in memory
in order, retried, counted, and delivered once the disk takes writes again. The disk is a
real size-limited filesystem (a 1 MB tmpfs) that the test mounts and fills."""

import contextlib
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from siteguard.contract.events import HazardEvent
from siteguard.demo.services import Collector, wait_until
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import MqttConfig, Publisher
from tests.edge.test_outbox_publisher import event


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "1m"):
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)])
    assert r.returncode == 0, "mounting a tmpfs needs root (CI runs as root)"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    """Fill the disk to the last block."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    return filler


def test_a_full_disk_holds_messages_in_memory_in_order_and_loses_none(tmp_path):
    with small_disk(tmp_path) as disk:
        box = Outbox(disk / "outbox.db")
        box.put("t", "before")
        filler = fill(disk)
        ids = [box.put("t", f"m{i}-" + "x" * 2000) for i in range(25)]
        assert box.held > 0 and box.write_errors > 0 and 0 in ids
        assert box.depth() == 26 and box.dropped == 0
        filler.unlink()  # the operator frees space
        assert box.retry_held() == 0
        payloads = [m.payload.split(b"-")[0] for m in box.pending(100)]
        assert payloads == [b"before"] + [f"m{i}".encode() for i in range(25)]


def test_past_the_memory_bound_messages_are_counted_not_silently_lost(tmp_path):
    with small_disk(tmp_path) as disk:
        box = Outbox(disk / "outbox.db", memory_max=5)
        fill(disk)
        for i in range(8):
            box.put("t", f"m{i}-" + "x" * 2000)
        assert box.held == 5 and box.dropped == 3


def test_events_during_a_full_disk_reach_the_broker_once_space_returns(tmp_path, broker):
    with small_disk(tmp_path) as disk:
        box = Outbox(disk / "outbox.db")
        sub = Collector(**broker.login, topic="siteguard/site-1/+/events", client_id="disk-full")
        pub = Publisher(MqttConfig(**broker.login_as("edge-site-1")), "site-1", box)
        pub.start()
        assert pub.connected.wait(10)
        filler = fill(disk)
        for i in range(25):  # what the camera analysis sends while the disk is full
            pub.send_event(event(i))
        assert box.held > 0
        filler.unlink()
        got = [HazardEvent.model_validate_json(p) for p in sub.wait_for(25, timeout=30)]
        assert [e.event_id for e in got] == [f"evt_{i:012d}" for i in range(25)]
        assert wait_until(lambda: box.depth() == 0, 10)
        pub.stop()
        sub.close()


@pytest.mark.parametrize("held", [0, 3])
def test_the_worker_reports_held_messages_as_degraded(tmp_path, held):
    from siteguard.edge.worker import EdgeWorker

    worker = EdgeWorker.__new__(EdgeWorker)  # health and metrics read only these parts
    worker.config = type("C", (), {"site_id": "s"})()
    worker.outbox = Outbox(tmp_path / "o.db")
    worker.outbox._held.extend([("t", b"x", 1, False, 0.0, False)] * held)
    worker.publisher = type("P", (), {"connected": __import__("threading").Event(), "resent": 0})()
    worker.evidence = type("E", (), {"failures": 0})()
    worker.cameras = {}
    health = worker.health()
    assert health["status"] == ("degraded" if held else "ok")
    assert f"siteguard_outbox_held_in_memory {held}" in worker.metrics_text()
