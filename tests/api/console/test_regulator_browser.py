"""The regulator's alerts page in a real browser (headless Debian Chromium): evidence
thumbnails, counts, 已阅 that survives a reload, 督办 with a requirement that the
contractor and the inspector then see on the notice page, an alert ingested while the page
is open appearing within 5 s without a reload, and no horizontal scroll on a phone."""

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import PhotoServer
from tests.api.console.test_console_browser import click, log_in
from tests.support.api import sqlite_app
from tests.support.browser import chromium, served
from tests.support.paths import FIXTURES, GOLDEN_START

J, INSURER = "合肥市包河区", "平安财险安徽分公司"
PHOTOS = FIXTURES / "images"


def ingest(app, site, event_id, t, kind="no_helmet", evidence=None):
    doc = json.loads(GOLDEN_START.read_text())
    doc.update(
        event_id=event_id,
        site_id=site,
        level="major",
        hazard_type=kind,
        started_at=t.isoformat(),
        frame_time=t.isoformat(),
        evidence_uri=evidence,
    )
    return app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test").hazard_id


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("regulator")
    photos = PhotoServer(PHOTOS)  # the sites' edge box
    app = sqlite_app(tmp, "r.db")
    sessions = app.state.services.sessions
    now = datetime.now(UTC)
    keys = {}
    with sessions.begin() as s:
        for sid, name in (("bh-001", "滨湖花园项目"), ("bh-002", "高铁南站项目")):
            s.add(
                ProjectRow(
                    site_id=sid,
                    name=name,
                    insurer=INSURER,
                    jurisdiction=J,
                    evidence_base_url=f"{photos.url}/",
                )
            )
        keys["regulator"] = create_key(s, "住建局", "regulator", jurisdiction=J)
        keys["contractor"] = create_key(s, "王工", "contractor", ["bh-002"])
        keys["inspector"] = create_key(s, "李巡查", "inspector", insurer=INSURER)
    hazards = {
        "helmet": ingest(
            app,
            "bh-001",
            "evt_reg_0001",
            now - timedelta(hours=1),
            evidence=f"{photos.url}/hhw-000011.jpg",
        ),
        "edge": ingest(
            app,
            "bh-002",
            "evt_reg_0002",
            now - timedelta(days=2, hours=1),
            "edge_unprotected",
            f"{photos.url}/hhw-000051.jpg",
        ),
    }
    with sessions.begin() as s:  # bh-002's notice went out two days ago: overdue, escalated
        p = s.query(ProjectRow).filter_by(site_id="bh-002").one()
        notice_id = issue_notice(s, p, DeadlinePolicy(), "李巡查", now - timedelta(days=2)).id
    assert escalate_overdue(sessions) == 1
    with served(app) as url:
        yield app, url, keys, hazards, notice_id
    photos.stop()


@pytest.fixture
def browser():
    driver = chromium(1280, 900)
    driver.implicitly_wait(3)
    yield driver
    driver.quit()


def shot(b, name):
    """A screenshot for a person to look at, when SG_SCREENSHOTS names a folder."""
    if os.environ.get("SG_SCREENSHOTS"):
        b.save_screenshot(os.path.join(os.environ["SG_SCREENSHOTS"], f"{name}.png"))


def absent(b, by, value):
    """Nothing matches (asked without the implicit wait)."""
    b.implicitly_wait(0)
    try:
        return not b.find_elements(by, value)
    finally:
        b.implicitly_wait(3)


def count(b, name):
    return int(b.find_element(By.CSS_SELECTOR, f"#count-{name} b").text)


def test_a_regulator_reads_supervises_and_sees_alerts_arrive(site, browser):
    app, url, keys, hz, notice_id = site
    b = browser
    log_in(b, url, keys["regulator"])
    b.get(url + "/console/alerts")
    assert (count(b, "unread"), count(b, "major"), count(b, "escalated")) == (3, 2, 1)
    # the evidence thumbnail, lazy-loaded through the console's picture route
    img = b.find_element(By.CSS_SELECTOR, f"#alert-major_hazard-{hz['helmet']} td.thumb img")
    assert img.get_attribute("loading") == "lazy"
    WebDriverWait(b, 10).until(
        lambda _d: b.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", img
        )
    )

    # 已阅: marked, and still read after a reload
    click(b, By.ID, f"read-major_hazard-{hz['helmet']}")
    assert b.find_element(By.ID, "flash").text == "已标记为已阅。"
    b.get(url + "/console/alerts")
    row = b.find_element(By.ID, f"alert-major_hazard-{hz['helmet']}")
    assert "read" in row.get_attribute("class").split() and "已阅 住建局" in row.text
    assert absent(b, By.ID, f"read-major_hazard-{hz['helmet']}")
    assert count(b, "unread") == 2
    b.get(url + "/console/alerts?read=unread")
    assert absent(b, By.ID, f"alert-major_hazard-{hz['helmet']}")

    # 督办 of the escalated hazard, with a requirement
    b.get(url + "/console/alerts")
    key = f"escalation-{hz['edge']}"
    b.find_element(By.CSS_SELECTOR, f"#sup-{key} summary").click()
    b.find_element(By.ID, f"req-{key}").send_keys("立即设置临边防护栏杆并报送整改照片")
    click(b, By.ID, f"do-supervise-{key}")
    assert b.find_element(By.ID, "flash").text == "已督办。"
    assert "已督办 ×1" in b.find_element(By.ID, f"alert-{key}").text

    # an alert ingested while the page is open appears on top within 5 s, no reload
    b.get(url + "/console/alerts")
    marker = b.execute_script("window.__same_page = 1; return window.__same_page")
    new = ingest(app, "bh-001", "evt_reg_0003", datetime.now(UTC), "scaffold_unsafe")
    WebDriverWait(b, 5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-key="major_hazard-{new}"]')
    )
    assert b.execute_script("return window.__same_page") == marker  # not reloaded
    first = b.find_element(By.CSS_SELECTOR, "#alerts tbody tr")
    assert first.get_attribute("data-key") == f"major_hazard-{new}"
    assert b.find_element(By.ID, "new-alerts").text == "新告警 1 条"
    shot(b, "alerts-live-1280")

    # the contractor and the inspector see the 督办 on the notice page
    for role in ("contractor", "inspector"):
        log_in(b, url, keys[role])
        b.get(f"{url}/console/notices/{notice_id}")
        banner = b.find_element(By.ID, "supervision")
        assert "监管部门督办" in banner.text and "立即设置临边防护栏杆" in banner.text, role
        assert "住建局" in banner.text
        assert "督办" in b.find_element(By.ID, "history").text
    b.get(f"{url}/console/notices/{notice_id}?lang=en")
    assert "Supervised by the regulator" in b.find_element(By.ID, "supervision").text
    b.get(url + "/console/alerts")  # the inspector's alarm centre: both projects, no 督办
    assert b.find_element(By.ID, f"alert-escalation-{hz['edge']}")
    assert absent(b, By.CSS_SELECTOR, "[id^=sup-]") and absent(b, By.ID, "open-bulletin")
    log_in(b, url, keys["contractor"])  # the contractor's: only its own site (bh-002)
    b.get(url + "/console/alerts")
    shown = {
        r.get_attribute("data-key") for r in b.find_elements(By.CSS_SELECTOR, "#alerts tbody tr")
    }
    assert shown == {f"escalation-{hz['edge']}", f"major_hazard-{hz['edge']}"}, shown
    assert absent(b, By.CSS_SELECTOR, "[id^=sup-]")


def test_the_alerts_page_fits_a_phone(site):
    _, url, keys, hz, _ = site
    b = chromium(390, 844)
    try:
        b.implicitly_wait(3)
        log_in(b, url, keys["regulator"])
        b.get(url + "/console/alerts")
        assert b.find_element(By.ID, f"alert-escalation-{hz['edge']}").is_displayed()
        wide = b.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0, f"{wide}px of horizontal scroll at 390 px"
        shot(b, "alerts-390")
    finally:
        b.quit()
