"""Per-site order through a platform outage: the reference receiver answers 500 for a
while, then 200; each site's messages arrive in the order they were created, none twice,
and none is even attempted while an older message of its site is undelivered. A site
the platform keeps refusing does not hold up the other sites."""

from __future__ import annotations

import json
import time

from siteguard.api.app import create_app
from siteguard.demo.platform_receiver import PlatformReceiver
from siteguard.demo.services import wait_until
from tests.api.platform.test_push import settings as push_settings
from tests.support.api import api_client
from tests.support.paths import GOLDEN_START

GOLDEN = json.loads(GOLDEN_START.read_text())
SECRET = "order-secret"
A, B = "futian-0001", "nanshan-0002"


def settings(tmp_path, url, db_url):
    return push_settings(
        tmp_path,
        url,
        db_url,
        poll_s=0.05,
        base_backoff_s=0.05,
        max_backoff_s=0.3,
        escalation_check_s=3600,
        secret=SECRET,
    )


def site_of(msg) -> str:
    data = msg["data"]
    return data.get("site_id") or data["project"]["site_id"]


def make_messages(admin, inspector, per_site: int) -> None:
    """Major hazards of both sites interleaved (alert.major_hazard each), a notice per
    site (notice.issued), then more hazards: 2 * per_site + 2 + 4 messages."""
    for site in (A, B):
        r = admin.put(f"/api/v1/projects/{site}", json={"name": site, "insurer": "保险A"})
        assert r.status_code == 200

    def hazard(site: str, i: int) -> None:
        ev = dict(
            GOLDEN, site_id=site, camera_id=f"cam-{i}", event_id=f"evt_{site[:6]}{i:08d}",
            level="major",
        )  # fmt: skip
        assert admin.post("/api/v1/events", json=ev).status_code == 202

    for i in range(per_site):
        hazard(A, i)
        hazard(B, i)
    for site in (A, B):
        assert inspector.post(f"/api/v1/projects/{site}/notices").status_code == 201
    for i in range(per_site, per_site + 2):
        hazard(B, i)
        hazard(A, i)


def created_order(app) -> dict[str, list[str]]:
    """Each site's idempotency keys in creation (outbox id) order."""
    from sqlalchemy import text

    with app.state.services.engine.connect() as c:
        rows = c.execute(text("SELECT idempotency_key, body FROM push_outbox ORDER BY id")).all()
    out: dict[str, list[str]] = {}
    for key, body in rows:
        out.setdefault(site_of(json.loads(body)), []).append(key)
    return out


def by_site(messages) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in messages:
        out.setdefault(site_of(m), []).append(m["idempotency_key"])
    return out


def assert_never_ahead(attempts, order: dict[str, list[str]]) -> None:
    """Per site, the attempts go through the messages in order: retries of the oldest
    undelivered one, then the next; never a later one first."""
    for site, keys in by_site(attempts).items():
        index = [order[site].index(k) for k in keys]
        assert index == sorted(index), (site, index)


def test_each_sites_order_survives_an_outage_and_nothing_arrives_twice(tmp_path, db_url):
    rx = PlatformReceiver(SECRET, refuse=lambda _m: True).start()  # the platform is down
    app = create_app(settings(tmp_path, rx.url, db_url))
    per_site = 15
    total = 2 * per_site + 2 + 4
    with api_client(app) as admin:
        make_messages(admin, api_client(app, "inspector", insurer="保险A"), per_site)
        pusher = app.state.services.pusher
        assert wait_until(lambda: pusher.failures >= 12, timeout=30)  # several backoffs
        rx.refuse = None  # the platform is back
        assert wait_until(lambda: len(rx.received) == total, timeout=60), len(rx.received)
        time.sleep(0.5)  # nothing more arrives
        order = created_order(app)
    rx.stop()
    assert sorted(order) == [A, B] and sum(map(len, order.values())) == total
    assert by_site(rx.received) == order  # each site's arrival order is its creation order
    assert rx.duplicates == 0 and len(rx.keys) == total and len(rx.received) == total
    assert rx.refused >= 12
    assert_never_ahead(rx.attempts, order)
    kinds = {m["type"] for m in rx.received}
    assert kinds == {"alert.major_hazard", "notice.issued"}


def test_a_site_the_platform_refuses_does_not_hold_up_the_others(tmp_path, db_url):
    rx = PlatformReceiver(SECRET, refuse=lambda m: site_of(m) == A).start()
    app = create_app(settings(tmp_path, rx.url, db_url))
    per_site = 8
    with api_client(app) as admin:
        make_messages(admin, api_client(app, "inspector", insurer="保险A"), per_site)
        order = created_order(app)
        assert wait_until(lambda: len(rx.received) == len(order[B]), timeout=30)
        time.sleep(0.5)
        assert by_site(rx.received) == {B: order[B]}  # B complete, in order; A waits
        a_attempts = by_site(rx.attempts)[A]
        assert set(a_attempts) == {order[A][0]}  # only A's oldest, retried
        rx.refuse = None
        assert wait_until(lambda: len(rx.received) == len(order[A]) + len(order[B]), timeout=30)
    rx.stop()
    assert by_site(rx.received) == order and rx.duplicates == 0
    assert_never_ahead(rx.attempts, order)
