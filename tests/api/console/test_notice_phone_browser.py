"""A contractor answers a notice on a phone (390x844, headless Debian Chromium): each item
is a card with its evidence picture, measure, deadline and countdown; the contractor
answers two items separately, each with a photo whose preview shows before it is sent,
submits, the inspector accepts, and the closed notice (console and printed page) shows
both replies. No page scrolls sideways at 390 px. Set SITEGUARD_SHOTS=DIR to keep
screenshots of each step (phone and 1280 px desktop)."""

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.store.tables import NoticeRow, ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import PhotoServer
from tests.api.console.test_console_browser import click, log_in
from tests.support.api import sqlite_app
from tests.support.browser import chromium, served, set_viewport
from tests.support.paths import FIXTURES, GOLDEN_START

pytestmark = pytest.mark.slow
PHOTOS = FIXTURES / "images"
PHONE = (390, 844)


@pytest.fixture
def site(tmp_path):
    """A project with two no-helmet hazards (evidence on its edge box) on one notice
    issued two days ago with a 5-day deadline: 3 days and some hours left."""
    box = PhotoServer(PHOTOS)
    app = sqlite_app(tmp_path, "c.db")
    sessions = app.state.services.sessions
    now = datetime.now(UTC)
    with sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id="bh-001",
                name="滨湖花园项目",
                insurer="平安财险",
                contractor="示例建设",
                responsible_person="张工",
                evidence_base_url=f"{box.url}/",
            )
        )
        keys = {
            "contractor": create_key(s, "张工", "contractor", ["bh-001"]),
            "inspector": create_key(s, "李巡查", "inspector", insurer="平安财险"),
        }
    start = json.loads(GOLDEN_START.read_text())
    for k, photo in enumerate(("hhw-000011.jpg", "hhw-000051.jpg")):
        t = now - timedelta(days=2, hours=1, minutes=k)
        doc = start | {
            "event_id": f"evt_phone{k:08d}",
            "site_id": "bh-001",
            "camera_id": f"cam-{k + 1}",
            "started_at": t.isoformat(),
            "frame_time": t.isoformat(),
            "evidence_uri": f"{box.url}/{photo}",
        }
        app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test")
    with sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id="bh-001").one()
        notice = issue_notice(s, p, DeadlinePolicy(general_days=5), "李巡查", now - timedelta(2))
        assert notice is not None and len(notice.items) == 2
        nid = notice.id
    try:
        with served(app) as url:
            yield app, url, keys, nid
    finally:
        box.stop()


def no_sideways_scroll(b, width):
    assert b.execute_script("return document.documentElement.scrollWidth") <= width, b.current_url


def shot(b, name, full=True):
    """A screenshot of the whole page into $SITEGUARD_SHOTS (when set)."""
    folder = os.environ.get("SITEGUARD_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    if full:
        height = b.execute_script("return document.documentElement.scrollHeight")
        width = b.execute_script("return window.innerWidth")
        set_viewport(b, width, height)
        b.save_screenshot(f"{folder}/{name}.png")
        set_viewport(b, width, PHONE[1] if width < 600 else 900)
    else:
        b.save_screenshot(f"{folder}/{name}.png")


def answer(b, no, text, photo):
    """Answer item ``no`` with ``text`` and ``photo``: the preview shows before sending."""
    field = b.find_element(By.ID, f"photos-{no}")
    assert field.get_attribute("accept") == "image/*"
    assert field.get_attribute("capture") == "environment"  # the phone's back camera
    b.find_element(By.ID, f"reply-{no}").send_keys(text)
    field.send_keys(str(photo))
    WebDriverWait(b, 10).until(
        lambda d: d.execute_script(
            "var i = document.querySelector(arguments[0]);"
            "return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')",
            f"#preview-{no} img",
        )
    )
    preview = b.find_element(By.CSS_SELECTOR, f"#preview-{no} img")
    assert preview.is_displayed() and preview.size["width"] > 40
    shot(b, f"phone-2-item{no}-preview", full=False)
    click(b, By.ID, f"do-reply-{no}")
    assert f"第 {no} 项已回复" in b.find_element(By.ID, "flash").text


def test_a_contractor_answers_each_item_on_a_phone_and_the_closed_notice_shows_both(site):
    app, url, keys, nid = site
    b = chromium(*PHONE)
    try:
        set_viewport(b, *PHONE)
        log_in(b, url, keys["contractor"])
        b.get(f"{url}/console/notices/{nid}")
        cards = b.find_elements(By.CSS_SELECTOR, "#items .item-card")
        assert len(cards) == 2
        for card in cards:  # each card: its evidence picture, measure with the standard
            img = card.find_element(By.CSS_SELECTOR, ".thumb img")
            WebDriverWait(b, 10).until(
                lambda d, img=img: d.execute_script(
                    "return arguments[0].complete && arguments[0].naturalWidth", img
                )
            )
            assert "GB 2811-2019" in card.text and "张工" in card.text
            # deadline: the end of the 5th day after the issue two days ago (China time)
            assert re.search(r"剩余 3 天 \d+ 小时", card.text), card.text
            assert card.size["width"] <= 390
        assert b.find_element(By.ID, "item-status-1").text == "已签发"
        no_sideways_scroll(b, 390)
        shot(b, "phone-1-issued")
        click(b, By.ID, "do-acknowledge")
        assert b.find_element(By.ID, "notice-status").text == "整改中"
        assert b.find_element(By.ID, "item-status-1").text == "整改中"  # in step

        answer(b, 1, "一号门岗已补发安全帽", PHOTOS / "hhw-000051.jpg")
        assert b.find_element(By.ID, "item-status-1").text == "已回复"
        assert b.find_element(By.ID, "item-status-2").text == "整改中"
        # the answered item waits for the re-inspection: no countdown; the other counts down
        assert not b.find_elements(By.ID, "item-countdown-1")
        assert "剩余" in b.find_element(By.ID, "item-countdown-2").text
        assert b.find_element(By.ID, "notice-status").text == "整改中"  # not yet submitted
        assert "已回复 1/2 项" in b.find_element(By.ID, "answered").text
        answer(b, 2, "二号塔吊班组完成安全教育", PHOTOS / "css-2270.jpg")
        no_sideways_scroll(b, 390)
        shot(b, "phone-3-answered")
        click(b, By.ID, "do-submit")
        assert b.find_element(By.ID, "notice-status").text == "待复查"

        log_in(b, url, keys["inspector"])
        b.get(f"{url}/console/notices/{nid}")
        assert "一号门岗已补发安全帽" in b.find_element(By.ID, "reply-of-1").text
        b.find_element(By.ID, "accept-comment").send_keys("现场复查合格")
        b.find_element(By.ID, "do-accept").click()  # the first press asks
        assert "复查通过并闭环" in b.find_element(By.ID, "do-accept").text
        click(b, By.ID, "do-accept")  # the second one sends
        assert b.find_element(By.ID, "notice-status").text == "已关闭"
        for no, text in ((1, "一号门岗已补发安全帽"), (2, "二号塔吊班组完成安全教育")):
            assert text in b.find_element(By.ID, f"reply-of-{no}").text
            assert b.find_element(By.ID, f"item-status-{no}").text == "已关闭"
            proof = b.find_element(By.CSS_SELECTOR, f"#reply-of-{no} .proofs img")
            assert b.execute_script("return arguments[0].naturalWidth", proof) > 0
        assert "现场复查合格" in b.find_element(By.ID, "closure").text
        no_sideways_scroll(b, 390)
        shot(b, "phone-4-closed")

        b.get(f"{url}/notices/{nid}.html")  # the printed notice, closed
        page = b.find_element(By.TAG_NAME, "body").text
        assert "一号门岗已补发安全帽" in page and "二号塔吊班组完成安全教育" in page
        assert "复查通过：现场复查合格" in page and "已关闭（复查通过" in page
        proofs = b.find_elements(By.CSS_SELECTOR, ".reply .proof img")
        assert len(proofs) == 2
        assert all(b.execute_script("return arguments[0].naturalWidth", p) > 0 for p in proofs)
        no_sideways_scroll(b, 390)
        shot(b, "phone-5-printed")

        set_viewport(b, 1280, 900)  # and on a desktop
        b.get(f"{url}/console/notices/{nid}")
        no_sideways_scroll(b, 1280)
        cards = b.find_elements(By.CSS_SELECTOR, "#items .item-card")
        assert cards[0].location["y"] == cards[1].location["y"]  # side by side at 1280 px
        shot(b, "desktop-1-closed")
        b.get(f"{url}/notices/{nid}.html")
        no_sideways_scroll(b, 1280)
        shot(b, "desktop-2-printed")
    finally:
        b.quit()
    with app.state.services.sessions() as s:
        assert s.get_one(NoticeRow, nid).status == "closed"
