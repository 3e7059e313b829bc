"""Console pages as text (no browser): no Python reprs leak into a page, people read China
time, and no page makes the browser ask for a missing favicon (issue 17's first findings)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import api_client, console_client, sqlite_app
from tests.support.paths import GOLDEN_START

REPRS = ("built-in method", "object at 0x", "bound method", "<function")


def console_app(tmp_path):
    """An app with one project (insurer "ins", 福田区), a major hazard from the golden
    event, its notice, and the camera online: every console page has something to show."""
    app = sqlite_app(tmp_path, "c.db")
    admin = api_client(app)
    admin.put(
        "/api/v1/projects/futian-0001",
        json={"name": "P", "insurer": "ins", "jurisdiction": "福田区"},
    )
    event = json.loads(GOLDEN_START.read_text()) | {"level": "major"}
    assert admin.post("/api/v1/events", json=event).status_code == 202
    assert (
        api_client(app, "inspector", insurer="ins")
        .post("/api/v1/projects/futian-0001/notices")
        .status_code
        == 201
    )
    app.state.services.ingestor.ingest_camera(
        "siteguard/futian-0001/cam-north/status",
        b'{"state": "online", "detail": "", "at": "2026-10-05T08:30:00Z"}',
    )
    return app


@pytest.fixture
def console(tmp_path):
    app = console_app(tmp_path)
    event = json.loads(GOLDEN_START.read_text()) | {"level": "major"}

    def page(role, url, **scope):
        c, _csrf = console_client(app, role, **scope)
        return c.get(url)

    return page, event


@pytest.mark.parametrize(
    ("role", "url", "scope"),
    [
        ("inspector", "/console/notices", {"insurer": "ins"}),
        ("inspector", "/console/", {"insurer": "ins"}),
        ("inspector", "/console/sites/futian-0001", {"insurer": "ins"}),
        ("inspector", "/console/hazards/1", {"insurer": "ins"}),
        ("inspector", "/console/notices/1", {"insurer": "ins"}),
        ("regulator", "/console/alerts", {"jurisdiction": "福田区"}),
    ],
)
def test_pages_show_no_python_reprs_and_ask_for_no_favicon(console, role, url, scope):
    page, _ = console
    r = page(role, url, **scope)
    assert r.status_code == 200, r.text[:300]
    assert not [x for x in REPRS if x in r.text], url
    assert '<link rel="icon" href="data:,">' in r.text


def test_the_notice_list_counts_items_and_alert_times_are_china_time(console):
    page, event = console
    notices = page("inspector", "/console/notices", insurer="ins").text
    assert "<td>1 <span" in notices or "<td>1</td>" in notices  # one item, not dict.items
    first = datetime.fromisoformat(event["started_at"]).astimezone(UTC) + timedelta(hours=8)
    alerts = page("regulator", "/console/alerts", jurisdiction="福田区").text
    assert first.strftime("%Y-%m-%d %H:%M") in alerts  # China time, not the UTC of the feed
    assert "<th>time</th>" not in alerts and "北京时间" in alerts
    site = page("inspector", "/console/sites/futian-0001", insurer="ins").text
    assert "2026-10-05 16:30" in site  # the camera's status time, in China time
