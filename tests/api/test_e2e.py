"""End to end through the API: a real broker, events published by the edge's own
publisher, a notice issued and driven through the workflow by the roles, the reference
platform receiving every push once even though it was down across an API restart, and
the audit chain verifying (and archived)."""

import gzip
import io
import json
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from siteguard.api.app import create_app
from siteguard.api.platform.push import PushSettings
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.cli import main
from siteguard.contract.events import HazardEvent
from siteguard.demo.platform_receiver import PlatformReceiver
from siteguard.demo.services import wait_until
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import MqttConfig, Publisher
from tests.support.api import api_client

pytestmark = pytest.mark.slow
SECRET = "e2e-secret"
T0 = datetime(2026, 10, 5, 8, 30, tzinfo=UTC)


def edge_event(i, level="general", hazard="no_helmet", zones=()):
    return HazardEvent.model_validate(
        {
            "event_id": f"evt_e2e{i:09d}",
            "seq": 0,
            "state": "start",
            "site_id": "futian-0001",
            "camera_id": "cam-1",
            "hazard_type": hazard,
            "level": level,
            "reason": "AI finding",
            "score": 0.8,
            "frame_width": 640,
            "frame_height": 352,
            "zones": list(zones),
            "started_at": (T0 + timedelta(seconds=i)).isoformat(),
            "frame_time": (T0 + timedelta(seconds=i)).isoformat(),
            "evidence_uri": f"http://edge/evidence/evt_e2e{i:09d}/0.jpg",
            "model": {"name": "m", "version": "1", "sha256": "a" * 64},
        }
    )


def test_events_to_closed_notice_with_pushes_once_and_audit_intact(
    tmp_path, broker, db_url, capsys
):
    rx = PlatformReceiver(SECRET, store=tmp_path / "platform.jsonl")
    port, url = rx.server.server_address[1], rx.url
    rx.server.server_close()  # the supervision platform is down when it all starts
    settings = ApiSettings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        mqtt=MqttIngestSettings(**broker.login_as("siteguard-api")),
        push=PushSettings(url=url, secret=SECRET, poll_s=0.1, base_backoff_s=0.2, max_backoff_s=1),
    )
    app = create_app(settings)
    with api_client(app) as admin:
        assert app.state.services.mqtt.connected.wait(10)
        admin.put(
            "/api/v1/projects/futian-0001",
            json={
                "name": "福田工程",
                "insurer": "保险A",
                "jurisdiction": "福田区住建局",
                "contractor": "承包商甲",
            },
        )
        # the edge publishes through its durable outbox to the real broker
        pub = Publisher(MqttConfig(**broker.login), "futian-0001", Outbox(tmp_path / "edge.db"))
        pub.start()
        pub.send_event(edge_event(1))
        pub.send_event(edge_event(2, level="major", hazard="edge_unprotected", zones=["slab-3f"]))
        assert wait_until(lambda: app.state.services.ingestor.counts["new"] == 2)
        pub.stop()
        inspector = api_client(app, "inspector", "李检查员", insurer="保险A")
        notice = inspector.post("/api/v1/projects/futian-0001/notices").json()
        assert len(notice["items"]) == 2
    # the API restarts (platform still down)
    app = create_app(settings)
    with api_client(app) as admin:
        contractor = api_client(app, "contractor", "承包商甲", sites=["futian-0001"])
        inspector = api_client(app, "inspector", "李检查员", insurer="保险A")
        n = notice["id"]
        _ok, img = cv2.imencode(".jpg", np.full((40, 40, 3), 200, np.uint8))
        photo = [("photos", ("after.jpg", io.BytesIO(img.tobytes()), "image/jpeg"))]
        assert (
            contractor.post(f"/api/v1/notices/{n}/actions/acknowledge", json={}).status_code == 200
        )
        assert (
            contractor.post(
                f"/api/v1/notices/{n}/submit", data={"reply": "已整改"}, files=photo
            ).status_code
            == 200
        )
        assert (
            inspector.post(
                f"/api/v1/notices/{n}/actions/reject", json={"comment": "栏杆高度不足"}
            ).json()["status"]
            == "rectifying"
        )
        photo = [("photos", ("after2.jpg", io.BytesIO(img.tobytes()), "image/jpeg"))]
        assert (
            contractor.post(
                f"/api/v1/notices/{n}/submit", data={"reply": "已加高"}, files=photo
            ).status_code
            == 200
        )
        assert (
            inspector.post(
                f"/api/v1/notices/{n}/actions/accept", json={"comment": "复查合格"}
            ).json()["status"]
            == "closed"
        )
        # the platform comes back: everything arrives, once per key
        rx = PlatformReceiver(SECRET, store=tmp_path / "platform.jsonl", port=port).start()
        assert wait_until(lambda: len(rx.received) == 4, 30)
        time.sleep(1)
    rx.stop()
    types = sorted(m["type"] for m in rx.received)
    assert types == ["alert.major_hazard", "hazard.closed", "hazard.closed", "notice.issued"]
    assert rx.duplicates == 0 and len(rx.keys) == 4
    assert main(["audit", "verify", "--db", db_url]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    out = tmp_path / "archive.jsonl.gz"
    assert main(["archive", "export", "--db", db_url, "--out", str(out)]) == 0
    with gzip.open(out, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    assert lines[0]["audit_ok"] is True
    tables = {line["table"] for line in lines[1:]}
    assert {"hazards", "events", "notices", "notice_history", "push_outbox", "audit_log"} <= tables
