"""The alarm centre (告警中心) of every role, in a real browser (headless Debian Chromium)
over a real locked Mosquitto: a major hazard the edge publishes while an inspector's page
is open appears within 5 s without a reload, with a banner and the alarm sound (once the
inspector has turned it on); a contractor's centre holds only its own site's alarms and
no 督办; the camera, state and day filters; the home dashboard of both; no horizontal
scroll on a phone."""

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import CHINA
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import wait_until
from siteguard.edge.outbox import Outbox
from siteguard.edge.publisher import MqttConfig, Publisher
from tests.api.console.test_console_browser import click, log_in
from tests.api.console.test_regulator_browser import absent, shot
from tests.support.browser import chromium, served

INSURER = "平安财险安徽分公司"


def event(i, camera="cam-east", hazard="no_helmet", level="major", at=None):
    t = at or datetime.now(UTC)
    return HazardEvent.model_validate(
        {
            "event_id": f"evt_alarm{i:08d}",
            "seq": 0,
            "state": "start",
            "site_id": "site-1",
            "camera_id": camera,
            "hazard_type": hazard,
            "level": level,
            "reason": "AI finding",
            "score": 0.8,
            "frame_width": 640,
            "frame_height": 352,
            "zones": [],
            "started_at": t.isoformat(),
            "frame_time": t.isoformat(),
            "evidence_uri": None,
            "model": {"name": "m", "version": "1", "sha256": "a" * 64},
        }
    )


@pytest.fixture
def site(tmp_path, broker):
    app = create_app(
        ApiSettings(
            database_url=f"sqlite:///{tmp_path}/a.db",
            mqtt=MqttIngestSettings(**broker.login_as("siteguard-api")),
            data_dir=tmp_path / "data",
        )
    )
    services = app.state.services
    with services.sessions.begin() as s:
        for sid, name in (("site-1", "滨湖花园项目"), ("site-2", "高铁南站项目")):
            s.add(ProjectRow(site_id=sid, name=name, insurer=INSURER, jurisdiction="包河区"))
        keys = {
            "inspector": create_key(s, "李巡查", "inspector", insurer=INSURER),
            "contractor": create_key(s, "王工", "contractor", ["site-2"]),
        }
    # the edge box of site-1 publishes with its own (ACL-limited) login through its outbox
    pub = Publisher(
        MqttConfig(**broker.login_as("edge-site-1")), "site-1", Outbox(tmp_path / "edge.db")
    )
    with served(app) as url:
        assert services.mqtt.connected.wait(10)
        pub.start()
        yield app, url, keys, pub
        pub.stop()


def new_hazards(app):
    return app.state.services.ingestor.counts["new"]


def test_an_inspector_hears_a_major_hazard_arrive(site):
    app, url, keys, pub = site
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    pub.send_event(event(1, camera="cam-west", at=two_days_ago))
    pub.send_event(event(2, hazard="edge_unprotected"))
    assert wait_until(lambda: new_hazards(app) == 2, 10)

    b = chromium(1280, 900)
    try:
        b.implicitly_wait(3)
        log_in(b, url, keys["inspector"])  # the home dashboard: site-1's two majors
        assert b.find_element(By.CSS_SELECTOR, "#tile-major b").text == "2"
        ranked = b.find_element(By.CSS_SELECTOR, "#ranking tbody tr").text
        assert "滨湖花园项目" in ranked, ranked
        bars = b.find_elements(By.CSS_SELECTOR, "#trend-chart g.day")
        assert len(bars) == 7 and sum(int(g.get_attribute("data-major")) for g in bars) == 2
        shot(b, "home-1280")
        b.find_element(By.ID, "nav-alerts").click()
        WebDriverWait(b, 10).until(lambda d: d.find_elements(By.ID, "alerts"))
        assert b.find_element(By.TAG_NAME, "h1").text.startswith("告警中心")
        rows = b.find_elements(By.CSS_SELECTOR, "#alerts tbody tr[data-key]")
        assert len(rows) == 2
        assert absent(b, By.CSS_SELECTOR, "[id^=sup-]")  # 督办 is the regulator's
        assert absent(b, By.ID, "open-bulletin")

        # turn the sound on (a click: browsers allow audio only after one), then the edge
        # publishes a new major hazard: row on top, banner, sound, all without a reload
        unread_before = int(b.find_element(By.CSS_SELECTOR, "#count-unread b").text)
        sound = b.find_element(By.ID, "alarm-sound")
        sound.click()
        assert sound.get_attribute("aria-pressed") == "true" and sound.text == "提示音已开启"
        marker = b.execute_script("window.__same_page = 1; return window.__same_page")
        pub.send_event(event(3, hazard="scaffold_unsafe"))
        WebDriverWait(b, 5).until(lambda d: d.find_element(By.ID, "major-banner").is_displayed())
        banner = b.find_element(By.ID, "major-banner")
        assert "重大隐患" in banner.text and "滨湖花园项目" in banner.text, banner.text
        assert "cam-east" in banner.text
        first = b.find_element(By.CSS_SELECTOR, "#alerts tbody tr")
        kind, _, hazard_id = first.get_attribute("data-key").rpartition("-")
        assert kind == "major_hazard" and "脚手架" in first.text, first.text
        href = b.find_element(By.ID, "major-banner-link").get_attribute("href")
        assert href.endswith(f"/console/hazards/{hazard_id}")
        WebDriverWait(b, 3).until(lambda _d: sound.get_attribute("data-played") == "1")
        assert b.execute_script("return window.__same_page") == marker  # not reloaded
        assert int(b.find_element(By.CSS_SELECTOR, "#count-unread b").text) == unread_before + 1
        assert b.find_element(By.CSS_SELECTOR, "#count-major b").text == "3"
        shot(b, "alarm-centre-live-1280")
        b.find_element(By.ID, "major-banner-close").click()
        assert not b.find_element(By.ID, "major-banner").is_displayed()

        # filters: camera, state, days (China time)
        b.get(url + "/console/alerts?camera=site-1/cam-west")  # a camera of one project
        keys_shown = b.find_elements(By.CSS_SELECTOR, "#alerts tbody tr[data-key]")
        assert len(keys_shown) == 1
        assert b.find_element(By.CSS_SELECTOR, "#f-camera option[selected]").text.startswith(
            "cam-west"
        )
        today = datetime.now(CHINA).date().isoformat()
        b.get(url + f"/console/alerts?since={today}")
        assert len(b.find_elements(By.CSS_SELECTOR, "#alerts tbody tr[data-key]")) == 2
        b.get(url + "/console/alerts?status=dismissed")
        assert b.find_element(By.ID, "no-alerts").is_displayed()
        # a range that ends before it starts: said on the alarm centre itself, which
        # keeps its other filters and shows the alerts without the days
        b.get(url + f"/console/alerts?since={today}&until=2020-01-01&status=dismissed")
        assert "晚于截止日期" in b.find_element(By.ID, "error").text
        assert b.find_element(By.ID, "f-since").get_attribute("value") == ""
        assert b.find_element(By.ID, "no-alerts").is_displayed()  # status=dismissed kept
        b.get(url + f"/console/alerts?since={today}&until=2020-01-01&lang=en")
        assert "after" in b.find_element(By.ID, "error").text
        assert len(b.find_elements(By.CSS_SELECTOR, "#alerts tbody tr[data-key]")) >= 2
    finally:
        b.quit()


def test_a_contractor_sees_only_its_site_on_a_phone(site):
    app, url, keys, pub = site
    pub.send_event(event(4))  # site-1's: not the contractor's
    assert wait_until(lambda: new_hazards(app) == 1, 10)
    b = chromium(390, 844)
    try:
        b.implicitly_wait(3)
        log_in(b, url, keys["contractor"])  # lands on the home dashboard: nothing of theirs
        assert b.find_element(By.CSS_SELECTOR, "#tile-open b").text == "0"
        assert b.find_element(By.ID, "no-ranking").is_displayed()
        shot(b, "home-390")
        wide = b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, f"{wide}px of horizontal scroll on the home page at 390 px"
        click(b, By.ID, "nav-alerts")
        assert b.find_element(By.ID, "no-alerts").is_displayed()
        wide = b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, f"{wide}px of horizontal scroll at 390 px"
        shot(b, "alarm-centre-390")
    finally:
        b.quit()
