"""The inspector's hazard work in a real browser (headless Debian Chromium), on a phone
(390x844) and a desktop (1280 px): confirm a finding from the inbox with the keyboard
(待确认 -> 已确认), issue it; after the contractor's reply the hazard page shows the
contractor's proof photos as real thumbnails beside the hazard photo (side by side on a
desktop, stacked on a phone); the one re-inspection form refuses a rejection without an
opinion, asks to confirm before it changes anything, and then sends the notice back; the
history speaks Chinese (verbs and roles); no sideways scroll at 390 px."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import Principal, create_key
from siteguard.api.notices import workflow
from siteguard.api.notices.proof import store_photos
from siteguard.api.notices.queries import load_notice
from siteguard.api.store.tables import NoticeRow, ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import PhotoServer
from tests.api.console.test_console_browser import click
from tests.support.api import sqlite_app
from tests.support.browser import chromium, served
from tests.support.paths import FIXTURES, GOLDEN_START

pytestmark = pytest.mark.slow
PHOTOS = FIXTURES / "images"
SITE, INSURER = "bh-101", "平安财险安徽分公司"
CONTRACTOR = Principal("张工", "contractor", frozenset({SITE}))
SHOTS = Path(os.environ.get("SITEGUARD_SHOTS", "/tmp/shots-hazard"))


@pytest.fixture
def site(tmp_path):
    box = PhotoServer(PHOTOS)  # the site's edge box, serving the evidence pictures
    app = sqlite_app(tmp_path, "c.db")
    with app.state.services.sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id=SITE,
                name="滨湖花园项目",
                insurer=INSURER,
                contractor="示例建设",
                evidence_base_url=f"{box.url}/",
            )
        )
        key = create_key(s, "李巡查", "inspector", insurer=INSURER)
    now = datetime.now(UTC)
    for n, photo in enumerate(["hhw-000011.jpg", "css-2270.jpg"]):
        t = now - timedelta(hours=2 - n)
        doc = json.loads(GOLDEN_START.read_text()) | {
            "event_id": f"evt_hzpage{n:05d}",
            "site_id": SITE,
            "camera_id": f"cam-{n + 1}",
            "started_at": t.isoformat(),
            "frame_time": t.isoformat(),
            "evidence_uri": f"{box.url}/{photo}",
        }
        app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test")
    with served(app) as url:
        yield app, url, key
    box.stop()


def reply_with_proof(app, notice_id: int) -> list[str]:
    """The contractor acknowledges the notice and replies with two proof photos."""
    settings = app.state.services.settings
    with app.state.services.sessions.begin() as s:
        n = load_notice(s, notice_id)
        workflow.apply(s, n, "acknowledge", CONTRACTOR)
        files = [(p, (PHOTOS / p).read_bytes()) for p in ("hhw-000051.jpg", "css-01437.jpg")]
        stored = store_photos(settings.data_dir, n.number, files)
        workflow.apply(s, n, "submit", CONTRACTOR, "已补发安全帽并完成班前教育", stored)
    return stored


def notice_status(app, notice_id: int) -> str:
    with app.state.services.sessions() as s:
        return s.get(NoticeRow, notice_id).status


def loaded(b, element) -> int:
    WebDriverWait(b, 15).until(lambda d: d.execute_script("return arguments[0].complete", element))
    return b.execute_script("return arguments[0].naturalWidth", element)


def rect(b, element) -> dict[str, float]:
    return b.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element)


def shoot(b, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.save_screenshot(str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_confirm_issue_compare_proof_and_reject_with_an_opinion(site, size):
    app, url, key = site
    w, h = size
    b = chromium(w, h)
    try:
        b.get(url + "/console/login")
        b.find_element(By.ID, "key").send_keys(key)
        click(b, By.ID, "login")
        b.get(url + "/console/inbox")
        card = b.find_element(By.ID, "hz-1")
        assert "待确认" in card.text and "已确认 0 条，待确认 2 条" in b.page_source
        # confirm with the keyboard: a real button, focused and pressed with Enter
        button = b.find_element(By.ID, "confirm-1")
        b.execute_script("arguments[0].focus()", button)
        assert b.switch_to.active_element == button
        button.send_keys(Keys.ENTER)
        WebDriverWait(b, 15).until(lambda d: "msg=" in d.current_url)
        assert "已确认隐患" in b.find_element(By.ID, "flash").text
        card = b.find_element(By.ID, "hz-1")
        assert "已确认" in card.find_element(By.CSS_SELECTOR, ".confirm-state").text
        assert "李巡查" in card.find_element(By.CSS_SELECTOR, ".confirmed-by").text
        assert not b.find_elements(By.ID, "confirm-1") and b.find_elements(By.ID, "confirm-2")
        assert b.execute_script("return document.documentElement.scrollWidth") <= w
        shoot(b, f"inbox-{w}")
        click(b, By.ID, "issue-1")  # the confirmed hazard is issued on its own
        notice_id = int(b.current_url.split("/console/notices/")[1].split("?")[0])
        stored = reply_with_proof(app, notice_id)

        b.get(url + "/console/hazards/1")
        evidence = b.find_element(By.ID, "evidence")
        proof = b.find_element(By.ID, "proof-main")
        assert loaded(b, evidence) > 0 and loaded(b, proof) > 0  # real pictures, not a 📎
        assert proof.get_attribute("src").endswith(stored[0])
        left = rect(b, b.find_element(By.ID, "hazard-figure"))
        right = rect(b, b.find_element(By.ID, "proof-figure"))
        if w >= 1000:  # hazard photo left, proof right, side by side
            assert right["left"] >= left["right"] - 1 and abs(right["top"] - left["top"]) < 2
        else:  # stacked on a phone, the proof under the hazard photo
            assert right["top"] >= left["bottom"] - 1 and right["width"] > 0.8 * w
        thumbs = b.find_elements(By.CSS_SELECTOR, "#proof-thumbs .thumb")
        assert len(thumbs) == 2
        for t in thumbs:
            assert loaded(b, t.find_element(By.TAG_NAME, "img")) > 0
        thumbs[1].click()
        assert proof.get_attribute("src").endswith(stored[1])
        assert thumbs[1].get_attribute("aria-pressed") == "true"
        history = b.find_element(By.ID, "history").text
        for words in (
            "发现隐患",
            "确认隐患",
            "下发整改通知",
            "签收通知",
            "提交整改回复",
            "施工单位",
        ):
            assert words in history, words
        for raw in ("acknowledge", "submit", "(contractor)", "contractor"):
            assert raw not in history
        assert b.execute_script("return document.documentElement.scrollWidth") <= w
        shoot(b, f"hazard-{w}")

        # 复查不通过 without an opinion: the browser refuses, nothing changes
        b.find_element(By.ID, "decision-reject").click()
        opinion = b.find_element(By.ID, "review-comment")
        b.find_element(By.ID, "review-submit").click()
        assert b.execute_script("return arguments[0].validity.valueMissing", opinion)
        assert (
            "/console/hazards/1" in b.current_url and notice_status(app, notice_id) == "submitted"
        )
        # with an opinion: a confirmation step first, still nothing changed
        opinion.send_keys("照片中仍有工人未戴安全帽")
        click(b, By.ID, "review-submit")
        step = b.find_element(By.ID, "review-confirm-step")
        assert "请确认复查结论" in step.text and "复查不通过" in step.text
        assert "照片中仍有工人未戴安全帽" in step.text
        assert notice_status(app, notice_id) == "submitted"
        shoot(b, f"review-confirm-{w}")
        click(b, By.ID, "review-edit")  # back to the form, with what was typed
        assert b.find_element(By.ID, "decision-reject").is_selected()
        assert b.find_element(By.ID, "review-comment").get_attribute("value").startswith("照片中")
        click(b, By.ID, "review-submit")
        click(b, By.ID, "review-yes")
        assert "已退回施工单位整改" in b.find_element(By.ID, "flash").text
        assert notice_status(app, notice_id) == "rectifying"
        history = b.find_element(By.ID, "history").text
        assert "复查不通过" in history and "照片中仍有工人未戴安全帽" in history
        assert "保险公司检查员" in history  # the inspector's role, in Chinese
        assert not b.find_elements(By.ID, "review-form")  # nothing to re-inspect now
    finally:
        b.quit()


def test_the_server_refuses_a_rejection_without_an_opinion_and_needs_the_second_step(site):
    """The same rules without the browser's help (a hand-made form post)."""
    app, _url, key = site
    from tests.support.api import api_client

    c = api_client(app)
    c.headers.pop("Authorization")
    assert c.post("/console/login", data={"key": key}).status_code == 200
    csrf = c.get("/console/inbox").text.split('name="csrf" value="')[1].split('"')[0]
    r = c.post("/console/inbox/issue", data={"csrf": csrf, "hazard": ["2"]})
    notice_id = int(str(r.url).split("/console/notices/")[1].split("?")[0])
    reply_with_proof(app, notice_id)
    form = {"csrf": csrf, "decision": "reject", "comment": "  ", "confirmed": "yes"}
    r = c.post("/console/hazards/2/review", data=form)
    assert "复查不通过须填写复查意见" in r.text and notice_status(app, notice_id) == "submitted"
    r = c.post("/console/hazards/2/review", data=form | {"decision": "maybe"})
    assert "请选择复查结论" in r.text and notice_status(app, notice_id) == "submitted"
    r = c.post("/console/hazards/2/review", data={"csrf": csrf, "decision": "accept"})
    assert 'id="review-confirm-step"' in r.text and notice_status(app, notice_id) == "submitted"
    r = c.post(
        "/console/hazards/2/review", data={"csrf": csrf, "decision": "accept", "confirmed": "yes"}
    )
    assert "复查通过，整改通知已关闭" in r.text and notice_status(app, notice_id) == "closed"
