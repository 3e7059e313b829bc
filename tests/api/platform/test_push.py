"""Pushes to the supervision platform: signed, retried until acknowledged, once per
idempotency key at the platform even across a platform outage and an API restart;
overdue major hazards escalated once."""

import json
import time

from sqlalchemy import text

from siteguard.api.app import create_app
from siteguard.api.platform.push import PushSettings, sign
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.demo.platform_receiver import PlatformReceiver
from siteguard.demo.services import wait_until
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
SECRET = "s3cret-shared-with-the-platform"


def settings(tmp_path, url, db_url, **push):
    """API settings pushing to `url` fast (test timings); `push` overrides them."""
    timings = dict(poll_s=0.1, base_backoff_s=0.2, max_backoff_s=1.0, escalation_check_s=0.2)
    return ApiSettings(
        database_url=db_url,
        mqtt=MqttIngestSettings(enabled=False),
        data_dir=tmp_path / "d",
        push=PushSettings(**({"url": url, "secret": SECRET, "timeout_s": 2} | timings | push)),
    )


def seed(admin, edge, inspector):
    admin.put(
        "/api/v1/projects/futian-0001",
        json={"name": "福田工程", "insurer": "保险A", "jurisdiction": "福田"},
    )
    edge.post("/api/v1/events", json=dict(GOLDEN, level="major"))
    return inspector.post("/api/v1/projects/futian-0001/notices").json()


def test_major_hazard_alert_and_notice_are_pushed_signed_with_recipients(tmp_path, db_url):
    rx = PlatformReceiver(SECRET).start()
    app = create_app(settings(tmp_path, rx.url, db_url))
    with api_client(app) as admin:
        edge = api_client(app, "edge", sites=["futian-0001"])
        notice = seed(admin, edge, api_client(app, "inspector", insurer="保险A"))
        assert wait_until(lambda: len(rx.received) == 2)
    rx.stop()
    by_type = {m["type"]: m for m in rx.received}
    alert = by_type["alert.major_hazard"]
    assert alert["recipients"] == ["contractor", "insurer", "housing_construction"]
    assert alert["data"]["level"] == "major" and alert["contract_version"] == "1.1"
    assert alert["occurred_at"].endswith("Z") and alert["data"]["first_seen"].endswith("Z")
    assert by_type["notice.issued"]["data"]["number"] == notice["number"]
    assert rx.rejected == 0 and rx.duplicates == 0


def test_receiver_refuses_bad_signatures_and_stale_timestamps():
    rx = PlatformReceiver(SECRET)
    body = json.dumps({"contract_version": "1.0", "idempotency_key": "k1"}).encode()
    ts = str(int(time.time()))
    good = {
        "X-SiteGuard-Timestamp": ts,
        "X-SiteGuard-Signature": sign(SECRET, ts, body),
        "Idempotency-Key": "k1",
    }
    assert (
        rx.accept(body, dict(good, **{"X-SiteGuard-Signature": sign("wrong", ts, body)}))[0] == 401
    )
    old = str(int(time.time()) - 3600)
    assert (
        rx.accept(
            body,
            dict(
                good,
                **{"X-SiteGuard-Timestamp": old, "X-SiteGuard-Signature": sign(SECRET, old, body)},
            ),
        )[0]
        == 401
    )
    assert rx.accept(body, good) == (200, {"status": "accepted"})
    assert rx.accept(body, good) == (200, {"status": "duplicate"})
    rx.server.server_close()


def test_platform_down_then_up_across_an_api_restart_receives_each_key_once(tmp_path, db_url):
    rx = PlatformReceiver(SECRET, store=tmp_path / "platform.jsonl")
    port = rx.server.server_address[1]
    url = rx.url
    rx.server.server_close()  # the platform is down: connection refused
    app = create_app(settings(tmp_path, url, db_url))
    with api_client(app) as admin:
        seed(
            admin,
            api_client(app, "edge", sites=["futian-0001"]),
            api_client(app, "inspector", insurer="保险A"),
        )
        assert wait_until(lambda: app.state.services.pusher.failures >= 3)
    # the API restarts while the platform is still down; then the platform comes back
    app2 = create_app(settings(tmp_path, url, db_url))
    with api_client(app2):
        time.sleep(0.5)
        rx = PlatformReceiver(SECRET, store=tmp_path / "platform.jsonl", port=port).start()
        assert wait_until(lambda: len(rx.received) == 2)
        time.sleep(1.0)  # nothing more arrives
        engine = app2.state.services.engine
        with engine.connect() as c:
            rows = c.execute(
                text("SELECT attempts, delivered_at IS NOT NULL FROM push_outbox ORDER BY id")
            ).all()
    rx.stop()
    assert len(rx.received) == 2 and len(rx.keys) == 2 and rx.duplicates == 0
    # a site's messages go in order: the second is tried only once the first is delivered
    assert all(delivered for _, delivered in rows) and rows[0][0] >= 2
    assert all(a >= 1 for a, _ in rows)


def test_overdue_major_hazard_is_escalated_once_even_after_a_restart(tmp_path, db_url):
    rx = PlatformReceiver(SECRET).start()
    app = create_app(settings(tmp_path, rx.url, db_url))
    with api_client(app) as admin:
        seed(
            admin,
            api_client(app, "edge", sites=["futian-0001"]),
            api_client(app, "inspector", insurer="保险A"),
        )
        with app.state.services.engine.begin() as c:  # the same-day deadline has passed
            c.execute(text("UPDATE notice_items SET deadline = '2026-01-01 00:00:00'"))
        assert wait_until(lambda: any(m["type"] == "hazard.escalated" for m in rx.received))
    app2 = create_app(settings(tmp_path, rx.url, db_url))
    with api_client(app2) as admin2:
        time.sleep(1.0)  # several scheduler passes
        hazard = admin2.get("/api/v1/hazards").json()[0]
    rx.stop()
    escalations = [m for m in rx.received if m["type"] == "hazard.escalated"]
    assert len(escalations) == 1
    assert escalations[0]["recipients"] == [
        "housing_construction",
        "emergency_management",
        "insurance_regulator",
    ]
    assert hazard["status"] == "escalated"
