"""The home dashboard's figures on SQLite and PostgreSQL: open / major / overdue / closed
this week, the 7- and 30-day trends by China-time day, the ranking by open major hazards,
each in the caller's scope; and the page itself (tiles, chart, ranking, the 30-day switch)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from siteguard.api.access.keys import Principal
from siteguard.api.app import create_app
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.overview.figures import figures
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import CHINA, utc_naive
from siteguard.api.store.tables import NoticeHistoryRow, NoticeRow, ProjectRow
from siteguard.contract.events import HazardEvent
from tests.support.paths import GOLDEN_START

INS, OTHER = "平安财险", "人保财险"
NOW = datetime.now(UTC).replace(microsecond=0)


def ingest(app, site, n, t, level="general", kind="no_helmet"):
    doc = json.loads(GOLDEN_START.read_text())
    doc.update(
        event_id=f"evt_dash_{site}_{n:04d}",
        site_id=site,
        level=level,
        hazard_type=kind,
        started_at=t.isoformat(),
        frame_time=t.isoformat(),
    )
    return app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test").hazard_id


@pytest.fixture
def world(db_url, tmp_path):
    app = create_app(
        ApiSettings(
            database_url=db_url, mqtt=MqttIngestSettings(enabled=False), data_dir=tmp_path / "d"
        )
    )
    sessions = app.state.services.sessions
    with sessions.begin() as s:
        for sid, name, ins in (
            ("a-1", "甲项目", INS),
            ("a-2", "乙项目", INS),
            ("b-1", "丙项目", OTHER),
        ):
            s.add(ProjectRow(site_id=sid, name=name, insurer=ins, jurisdiction="区"))
    # a-1: 2 general today, 1 major 3 days ago; a-2: 2 majors today; b-1: 1 major 20 days ago
    ingest(app, "a-1", 1, NOW - timedelta(minutes=30))
    ingest(app, "a-1", 2, NOW - timedelta(minutes=20), kind="edge_unprotected")
    ingest(app, "a-1", 3, NOW - timedelta(days=3), "major", "scaffold_unsafe")
    ingest(app, "a-2", 1, NOW - timedelta(minutes=10), "major")
    ingest(app, "a-2", 2, NOW - timedelta(minutes=5), "major", "edge_unprotected")
    ingest(app, "b-1", 1, NOW - timedelta(days=20), "major")
    with sessions.begin() as s:
        # b-1's notice, issued 20 days ago, is overdue; a-1's is closed 2 days ago
        b1 = s.query(ProjectRow).filter_by(site_id="b-1").one()
        issue_notice(s, b1, DeadlinePolicy(), "李巡查", NOW - timedelta(days=20))
    yield app
    app.state.services.engine.dispose()


def _close_a1_notice(app):
    with app.state.services.sessions.begin() as s:
        a1 = s.query(ProjectRow).filter_by(site_id="a-1").one()
        notice = issue_notice(s, a1, DeadlinePolicy(), "李巡查", NOW - timedelta(days=4))
        notice.status = "closed"
        for item in notice.items:
            item.hazard.status = "closed"
        s.add(
            NoticeHistoryRow(
                notice_id=notice.id,
                at=utc_naive(NOW - timedelta(days=2)),
                actor="李巡查",
                role="inspector",
                action="accept",
                from_status="submitted",
                to_status="closed",
            )
        )


def test_counts_trend_and_ranking_in_each_scope(world):
    _close_a1_notice(world)
    admin = Principal("admin", "admin")
    insurer = Principal("保险", "insurer", insurer=INS)
    contractor = Principal("王工", "contractor", frozenset({"a-2"}))
    with world.state.services.sessions() as s:
        everything = figures(s, admin)
        mine = figures(s, insurer)
        theirs = figures(s, contractor)
        month = figures(s, insurer, days=30)
        odd = figures(s, insurer, days=12)  # not offered: the 7-day chart
        overdue_count = s.query(NoticeRow).filter(NoticeRow.status != "closed").count()
        admin_month = figures(s, admin, days=30)
    # a-1's three hazards are closed with its notice; a-2's 2 majors and b-1's major remain
    assert (everything.open, everything.open_major) == (3, 3)
    assert (everything.overdue, everything.closed_week) == (1, 1) and overdue_count == 1
    assert (mine.open, mine.open_major, mine.overdue, mine.closed_week) == (2, 2, 0, 1)
    assert (theirs.open, theirs.open_major, theirs.overdue, theirs.closed_week) == (2, 2, 0, 0)

    today = NOW.astimezone(CHINA).date()
    days = [d.day for d in mine.trend]
    assert len(days) == 7 and days[-1] == today.isoformat()
    assert days[0] == (today - timedelta(days=6)).isoformat()
    by_day = {d.day: (d.general, d.major) for d in mine.trend}
    three_ago = (NOW - timedelta(days=3)).astimezone(CHINA).date().isoformat()
    assert by_day[three_ago] == (0, 1)
    assert sum(g for g, _m in by_day.values()) == 2 and sum(m for _g, m in by_day.values()) == 3
    assert mine.trend_max == max(g + m for g, m in by_day.values())
    assert len(month.trend) == 30 and len(odd.trend) == 7
    # b-1's major 20 days ago is another insurer's: in the admin's 30 days, not the insurer's
    assert sum(d.total for d in month.trend) == 5
    assert sum(d.total for d in admin_month.trend) == 6

    assert [r["site_id"] for r in everything.ranking] == ["a-2", "b-1"]
    assert everything.ranking[0] == {"site_id": "a-2", "name": "乙项目", "open": 2, "open_major": 2}
    assert [r["site_id"] for r in theirs.ranking] == ["a-2"]


def test_the_home_page_shows_the_dashboard(world):
    from fastapi.testclient import TestClient

    from siteguard.api.access.keys import create_key

    with world.state.services.sessions.begin() as s:
        key = create_key(s, "李巡查", "inspector", insurer=INS)
    inspector = TestClient(world)
    assert inspector.post("/console/login", data={"key": key}).status_code == 200
    r = inspector.get("/console/")
    assert r.status_code == 200, r.text
    page = r.text
    assert 'id="tile-open"' in page and "未闭环隐患" in page
    assert "近 7 天新发现隐患" in page and page.count('class="day"') == 7
    assert 'id="ranking"' in page and "乙项目" in page and "丙项目" not in page
    month = inspector.get("/console/?days=30").text
    assert "近 30 天新发现隐患" in month and month.count('class="day"') == 30


def test_the_overview_api(world):
    from tests.support.api import api_client

    contractor = api_client(world, "contractor", "王工", sites=["a-2"])
    r = contractor.get("/api/v1/overview")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["open"], doc["open_major"], doc["overdue"]) == (2, 2, 0)
    assert len(doc["trend"]) == 7 and sum(d["major"] for d in doc["trend"]) == 2
    assert doc["ranking"] == [{"site_id": "a-2", "name": "乙项目", "open": 2, "open_major": 2}]
    assert len(contractor.get("/api/v1/overview?days=30").json()["trend"]) == 30
    bad = contractor.get("/api/v1/overview?days=12")
    assert bad.status_code == 422 and "one of 7, 30" in bad.text
    edge = api_client(world, "edge", "edge-a-2", sites=["a-2"])
    assert edge.get("/api/v1/overview").status_code == 403


def test_a_dismissed_item_past_its_deadline_makes_no_notice_overdue(world):
    """Overdue as the notice itself says it (an open item past its deadline): a false
    alarm dismissed after its deadline passed leaves the notice on time."""
    from siteguard.api.notices.queries import load_notice
    from siteguard.api.notices.workflow import dismiss
    from tests.support.api import api_client

    inspector = Principal("李巡查", "inspector", insurer=INS)
    with world.state.services.sessions.begin() as s:
        a2 = s.query(ProjectRow).filter_by(site_id="a-2").one()
        notice = issue_notice(s, a2, DeadlinePolicy(), "李巡查", NOW - timedelta(days=2))
        late, later = notice.items
        later.deadline = utc_naive(NOW + timedelta(days=3))
        dismiss(s, late.hazard, inspector, "安全帽颜色误识别")  # past its deadline
        notice_id = notice.id
    client = api_client(world, "inspector", "李巡查", insurer=INS)
    assert client.get(f"/api/v1/notices/{notice_id}").json()["overdue"] is False
    with world.state.services.sessions() as s:
        assert load_notice(s, notice_id).status != "closed"
        assert figures(s, inspector).overdue == 0  # as the notice says
        assert figures(s, Principal("admin", "admin")).overdue == 1  # b-1's only
    assert client.get("/api/v1/overview").json()["overdue"] == 0
