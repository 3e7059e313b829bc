"""The web console in a real browser (headless Debian Chromium via Selenium): a contractor
uploads proof, an inspector rejects then accepts it, a regulator sees the escalation of an
overdue major hazard. Same keys, roles and scopes as the API."""

import json
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.notices.issue import issue_notice
from siteguard.api.notices.measures import DeadlinePolicy
from siteguard.api.platform.escalation import escalate_overdue
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import PhotoServer
from tests.support.api import sqlite_app
from tests.support.browser import chromium, served
from tests.support.paths import FIXTURES, GOLDEN_START

GOLDEN = GOLDEN_START
FIXTURES = FIXTURES / "images"
J, INSURER = "合肥市包河区", "平安财险安徽分公司"


@pytest.fixture(scope="module")
def evidence_server():
    """Stands in for the edge's evidence endpoint: serves real site photos."""
    server = PhotoServer(FIXTURES)
    yield server.url
    server.stop()


def ingest(app, site, event_id, t, level="general", kind="no_helmet", evidence=None):
    doc = json.loads(GOLDEN.read_text())
    doc.update(
        event_id=event_id,
        site_id=site,
        level=level,
        hazard_type=kind,
        started_at=t.isoformat(),
        frame_time=t.isoformat(),
        evidence_uri=evidence,
    )
    return app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "test").hazard_id


@pytest.fixture(scope="module")
def site(tmp_path_factory, evidence_server):
    tmp = tmp_path_factory.mktemp("console")
    app = sqlite_app(tmp, "c.db")
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
                    contractor="示例建设",
                    evidence_base_url=f"{evidence_server}/",  # the site's edge box
                )
            )
        keys["contractor"] = create_key(s, "张工", "contractor", ["bh-001"])
        keys["inspector"] = create_key(s, "李巡查", "inspector", insurer=INSURER)
        keys["regulator"] = create_key(s, "住建局", "regulator", jurisdiction=J)
        keys["other_contractor"] = create_key(s, "王工", "contractor", ["bh-002"])
    ingest(
        app,
        "bh-001",
        "evt_console_0001",
        now - timedelta(minutes=30),
        evidence=f"{evidence_server}/hhw-000011.jpg",
    )
    # bh-002: a major hazard whose notice went out two days ago: overdue, escalated
    ingest(
        app,
        "bh-002",
        "evt_console_0002",
        now - timedelta(days=2, hours=1),
        level="major",
        kind="edge_unprotected",
    )
    with sessions.begin() as s:
        for sid, when in (("bh-001", now), ("bh-002", now - timedelta(days=2))):
            p = s.query(ProjectRow).filter_by(site_id=sid).one()
            issue_notice(s, p, DeadlinePolicy(), "李巡查", when)
    assert escalate_overdue(sessions) == 1
    with served(app) as url:
        yield app, url, keys


@pytest.fixture(scope="module")
def browser():
    driver = chromium(412, 915)  # a phone-sized window: the console must work there
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def click(b, by, value):
    """Click something that loads a new page, and wait for that page."""
    old = b.find_element(By.TAG_NAME, "html")
    for attempt in range(3):  # Chromium can still be settling the page it just loaded
        try:
            b.find_element(by, value).click()
            break
        except WebDriverException:
            if attempt == 2:
                raise
            time.sleep(0.3)
    WebDriverWait(b, 15).until(lambda _d: gone(old))
    WebDriverWait(b, 15).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def gone(element):
    """The page that held ``element`` was replaced. Chromium 156's driver sometimes answers
    a look at such an element with "Node with given id does not belong to the document"
    (a plain WebDriverException) instead of a stale-element error: both mean gone."""
    try:
        element.is_enabled()
    except WebDriverException:
        return True
    return False


def log_in(b, url, key, path="/console/"):
    b.delete_all_cookies()
    b.get(url + path)
    assert "/console/login" in b.current_url  # not logged in: sent to the login page
    b.find_element(By.ID, "key").send_keys(key)
    click(b, By.ID, "login")


def open_notice(b, url, number_prefix="SG-bh-001"):
    b.get(url + "/console/notices")  # get() returns once the page has loaded
    click(b, By.PARTIAL_LINK_TEXT, number_prefix)


def status(b):
    return b.find_element(By.ID, "notice-status").text


def test_contractor_inspector_and_regulator_in_a_real_browser(site, browser, tmp_path):
    app, url, keys = site
    b = browser
    log_in(b, url, keys["contractor"])
    assert "滨湖花园项目" in b.page_source and "高铁南站项目" not in b.page_source  # scoped
    open_notice(b, url)
    assert status(b) == "已签发"
    assert not b.find_elements(By.ID, "do-accept")  # a contractor may not close it
    click(b, By.ID, "do-acknowledge")
    assert status(b) == "整改中"
    proof = FIXTURES / "hhw-000051.jpg"
    # one item: one reply form, on the item, that also submits (no second whole-notice form)
    assert len(b.find_elements(By.CSS_SELECTOR, "textarea[name=reply]")) == 1
    assert b.find_element(By.ID, "reply-above").is_displayed()
    b.find_element(By.ID, "reply-1").send_keys("已补发安全帽并完成班前教育")
    b.find_element(By.ID, "photos-1").send_keys(str(proof))
    click(b, By.ID, "do-submit")
    assert status(b) == "待复查"
    assert "已补发安全帽" in b.find_element(By.ID, "history").text
    stored = list((app.state.services.settings.data_dir / "proof").rglob("*.jpg"))
    assert [p.read_bytes() for p in stored] == [proof.read_bytes()]

    log_in(b, url, keys["inspector"])
    open_notice(b, url)
    assert not b.find_elements(By.ID, "do-submit")
    b.find_element(By.ID, "reject-comment").send_keys("照片中仍有工人未戴安全帽")
    b.find_element(By.ID, "do-reject").click()  # the first press asks
    assert "退回整改" in b.find_element(By.ID, "do-reject").text
    click(b, By.ID, "do-reject")  # the second one sends
    assert status(b) == "整改中"

    log_in(b, url, keys["contractor"])
    open_notice(b, url)
    # sent back: the item's 再次回复 form is open, and it submits again
    assert b.find_element(By.ID, "again-1").get_attribute("open") is not None
    b.find_element(By.ID, "reply-1").send_keys("已全部整改")
    b.find_element(By.ID, "photos-1").send_keys(str(FIXTURES / "hhw-000011.jpg"))
    click(b, By.ID, "do-submit")
    assert status(b) == "待复查"

    log_in(b, url, keys["inspector"])
    open_notice(b, url)
    b.find_element(By.ID, "do-accept").click()  # the first press asks
    assert "复查通过并闭环" in b.find_element(By.ID, "do-accept").text
    click(b, By.ID, "do-accept")  # the second one sends
    assert status(b) == "已关闭"
    history = b.find_element(By.ID, "history").text
    assert history.count("提交整改回复") == 2, history  # the steps in the page's language
    assert "复查不通过" in history and "复查通过" in history and "submit" not in history
    # the hazard page shows the evidence picture and the detections of the event
    click(b, By.CSS_SELECTOR, "#items a")
    img = b.find_element(By.ID, "evidence")
    assert b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
    assert "已关闭" in b.page_source

    log_in(b, url, keys["regulator"])
    b.get(url + "/console/alerts")
    rows = b.find_elements(By.CSS_SELECTOR, "#alerts tr.escalation")
    assert len(rows) == 1 and "高铁南站项目" in rows[0].text and "已升级" in rows[0].text
    assert b.find_elements(By.CSS_SELECTOR, "#alerts tr.major_hazard")


def test_scopes_csrf_and_language(site, browser):
    app, url, keys = site
    b = browser
    log_in(b, url, keys["other_contractor"])
    b.get(url + "/console/notices")
    assert "SG-bh-001" not in b.page_source and "SG-bh-002" in b.page_source
    with app.state.services.sessions() as s:
        from siteguard.api.store.tables import NoticeRow

        theirs = s.query(NoticeRow).join(ProjectRow).filter(ProjectRow.site_id == "bh-001").one()
    b.get(f"{url}/console/notices/{theirs.id}")
    assert "未找到" in b.page_source  # another site's notice: not found, names do not leak
    b.get(url + "/console/notices?lang=en")
    assert "Notices" in b.page_source and "Log out" in b.page_source
    b.get(url + "/console/notices")  # the choice is remembered
    assert "Log out" in b.page_source
    b.get(url + "/console/notices?lang=zh")
    # a change without the session's CSRF token is refused (a cross-site form cannot do it)
    cookie = b.get_cookie("sg_session")["value"]
    import httpx

    r = httpx.post(
        f"{url}/console/notices/{theirs.id}/acknowledge",
        cookies={"sg_session": cookie},
        data={"csrf": "forged"},
    )
    assert r.status_code == 403
    r = httpx.post(
        f"{url}/api/v1/notices/{theirs.id}/actions/acknowledge",
        cookies={"sg_session": cookie},
        json={},
    )
    assert r.status_code == 403 and "CSRF" in r.text
    log_in(b, url, "sg_not_a_key")
    assert b.find_element(By.ID, "error").text == "密钥无效。"


@pytest.fixture
def live_box(site, tmp_path):
    """bh-001's edge box for one test: serves cam-1's live frame (a real site photo) at
    /live/cam-1.jpg under its evidence base, like the edge worker."""
    app, _, _ = site
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "cam-1.jpg").write_bytes((FIXTURES / "hhw-000011.jpg").read_bytes())
    server = PhotoServer(tmp_path)
    sessions = app.state.services.sessions
    with sessions.begin() as s:
        p = s.query(ProjectRow).filter_by(site_id="bh-001").one()
        before, p.evidence_base_url = p.evidence_base_url, f"{server.url}/"
    app.state.services.ingestor.ingest_camera(  # the edge reports the camera
        "siteguard/bh-001/cam-1/status",
        json.dumps({"state": "online", "at": datetime.now(UTC).isoformat()}).encode(),
    )
    yield tmp_path / "live" / "cam-1.jpg"  # the frame the box serves
    with sessions.begin() as s:
        s.query(ProjectRow).filter_by(site_id="bh-001").one().evidence_base_url = before
    server.stop()


def test_an_inspector_draws_and_saves_a_zone(site, browser, live_box):
    app, url, keys = site
    b = browser
    log_in(b, url, keys["inspector"])
    b.get(url + "/console/sites/bh-001/cameras/cam-1/zones")
    # drawn over the camera's live frame, fetched through the API from the site's box
    WebDriverWait(b, 15).until(
        lambda d: d.execute_script(
            "const i = document.getElementById('background'); return i && i.complete"
        )
    )
    bg = b.find_element(By.ID, "background")
    assert bg.get_attribute("currentSrc").endswith(
        "/console/sites/bh-001/cameras/cam-1/snapshot.jpg"
    )
    want = cv2.imdecode(
        np.frombuffer((FIXTURES / "hhw-000011.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR
    ).shape[1]
    assert int(bg.get_attribute("naturalWidth")) == want
    editor = b.find_element(By.ID, "editor")
    w, h = editor.size["width"], editor.size["height"]
    from selenium.webdriver.common.action_chains import ActionChains

    for fx, fy in ((0.1, 0.6), (0.5, 0.6), (0.5, 0.9), (0.1, 0.9)):  # the slab edge's corners
        ActionChains(b).move_to_element_with_offset(
            editor, int((fx - 0.5) * w), int((fy - 0.5) * h)
        ).click().perform()
    b.find_element(By.ID, "zid").clear()
    b.find_element(By.ID, "zid").send_keys("slab-edge-2F")
    b.find_element(By.ID, "zprot").click()
    b.find_element(By.ID, "add").click()
    assert "slab-edge-2F (临边/洞口，已防护)" in b.find_element(By.ID, "zone-list").text
    click(b, By.ID, "save")
    assert b.find_element(By.ID, "flash").text == "已保存。"
    with app.state.services.sessions() as s:
        from siteguard.api.sites.cameras import site_cameras

        [cam] = [
            c
            for c in site_cameras(s, "bh-001", app.state.services.settings.cameras)
            if c["camera_id"] == "cam-1"
        ]
    [zone] = cam["zones"]
    assert zone["id"] == "slab-edge-2F" and zone["kind"] == "edge" and zone["protected"]
    xs, ys = [p[0] for p in zone["polygon"]], [p[1] for p in zone["polygon"]]
    assert abs(min(xs) - 0.1) < 0.03 and abs(max(ys) - 0.9) < 0.03  # where it was clicked
    # the box has no frame now (and there is no evidence frame of cam-1): the editor says so
    live_box.unlink()
    b.get(url + "/console/sites/bh-001/cameras/cam-1/zones")
    WebDriverWait(b, 15).until(lambda d: d.find_element(By.ID, "no-frame").is_displayed())
    assert not b.find_elements(By.ID, "background")
    # a contractor may look but not draw
    log_in(b, url, keys["contractor"])
    b.get(url + "/console/sites/bh-001")
    assert "slab-edge-2F" in b.page_source and "绘制区域" not in b.page_source


def test_the_hazard_page_plays_the_edge_clip_in_a_real_browser(tmp_path, browser):
    """The clip the edge's evidence store encodes (H.264, edge/clip_encoder.py), fetched
    by the API from the site's box and shown in the hazard page's <video>: Chromium
    decodes it (an mp4v clip stops at DEMUXER_ERROR_NO_SUPPORTED_STREAMS)."""
    import cv2

    from siteguard.demo.sample import sample_video_path
    from siteguard.edge.evidence_store import EvidenceConfig, EvidenceStore

    box = PhotoServer(tmp_path / "box")  # the site's edge box
    store = EvidenceStore(
        EvidenceConfig(dir=tmp_path / "box" / "evidence", base_url=f"{box.url}/evidence")
    )
    cap = cv2.VideoCapture(str(sample_video_path()))
    frames = []
    while len(frames) < 16:  # 8 s at the detect rate of 2 fps: every 12th frame of 25 fps
        ok, frame = cap.read()
        assert ok, "the sample clip is shorter than expected"
        if int(cap.get(cv2.CAP_PROP_POS_FRAMES)) % 12 == 1:
            frames.append(frame)
    cap.release()
    evidence = store.save_snapshot("evt_clip_0001", 0, frames[-1])
    assert store.save_clip("evt_clip_0001", frames, 2.0) == store.clip_uri("evt_clip_0001")
    app = sqlite_app(tmp_path, "c.db")
    with app.state.services.sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id="bh-003",
                name="滨湖三期项目",
                insurer=INSURER,
                jurisdiction=J,
                contractor="示例建设",
                evidence_base_url=f"{box.url}/evidence/",
            )
        )
        key = create_key(s, "李巡查", "inspector", insurer=INSURER)
    hazard_id = ingest(app, "bh-003", "evt_clip_0001", datetime.now(UTC), evidence=evidence)
    b = browser
    try:
        with served(app) as url:
            log_in(b, url, key)
            b.get(f"{url}/console/hazards/{hazard_id}")
            video = b.find_element(By.ID, "clip")
            state = (
                "return [arguments[0].readyState, arguments[0].duration, "
                "arguments[0].videoWidth, arguments[0].error && arguments[0].error.message]"
            )
            WebDriverWait(b, 20).until(
                lambda d: (
                    d.execute_script(state, video)[0] >= 2 or d.execute_script(state, video)[3]
                )
            )
            ready, duration, width, error = b.execute_script(state, video)
    finally:
        box.stop()
    assert error is None and ready >= 2, (ready, error)
    assert duration == pytest.approx(8.0, abs=0.1) and width == frames[0].shape[1]
    kept = list((tmp_path / "data" / "evidence").glob("*.mp4"))  # the API's kept copy
    assert [p.read_bytes() for p in kept] == [store.clip_path("evt_clip_0001").read_bytes()]
