"""The zone editor in a real browser (headless Debian Chromium): draw three corners, undo
one (button) and add it back, undo another with Ctrl+Z, drag a corner of the polygon
being drawn and, after saving, of an existing zone: the saved coordinates are where the
corners were dragged to. 已防护 is off for each new zone. The whole editor and its Save
button fit a 1280x900 window; on a 390x844 phone nothing scrolls sideways and a finger
draws and drags (touch pointer events). While a camera is offline the editor shows the
last live frame the API kept, else the newest evidence frame, and says so; never a broken
image."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.sites.cameras import site_cameras
from siteguard.api.store.tables import ProjectRow
from siteguard.contract.events import HazardEvent
from siteguard.demo.services import PhotoServer
from tests.api.console.test_console_browser import click
from tests.support.api import api_client, sqlite_app
from tests.support.browser import chromium, served
from tests.support.paths import FIXTURES, GOLDEN_START

pytestmark = pytest.mark.slow
PHOTOS = FIXTURES / "images"
SITE, INSURER = "bh-201", "平安财险安徽分公司"
SHOTS = Path(os.environ.get("SITEGUARD_SHOTS", "/tmp/shots-zones"))


def camera_says(app, camera: str, state: str) -> None:
    msg = {"state": state, "at": datetime.now(UTC).isoformat()}
    app.state.services.ingestor.ingest_camera(
        f"siteguard/{SITE}/{camera}/status", json.dumps(msg).encode()
    )


@pytest.fixture
def site(tmp_path):
    """A project whose edge box serves cam-1's live frame and an evidence picture of cam-2;
    cam-1 online, cam-2 and cam-3 offline."""
    box_dir = tmp_path / "box"
    (box_dir / "live").mkdir(parents=True)
    shutil.copy(PHOTOS / "hhw-000011.jpg", box_dir / "live" / "cam-1.jpg")
    shutil.copy(PHOTOS / "css-2270.jpg", box_dir / "evt.jpg")
    box = PhotoServer(box_dir)
    app = sqlite_app(tmp_path, "c.db")
    with app.state.services.sessions.begin() as s:
        s.add(
            ProjectRow(
                site_id=SITE, name="滨湖花园项目", insurer=INSURER, evidence_base_url=f"{box.url}/"
            )
        )
        key = create_key(s, "李巡查", "inspector", insurer=INSURER)
    admin = api_client(app)
    for cam in ("cam-1", "cam-2", "cam-3"):
        assert admin.put(f"/api/v1/projects/{SITE}/cameras/{cam}", json={}).status_code == 200
    now = datetime.now(UTC).isoformat()
    doc = json.loads(GOLDEN_START.read_text()) | {
        "event_id": "evt_zone_ed_0001",
        "site_id": SITE,
        "camera_id": "cam-2",
        "started_at": now,
        "frame_time": now,
        "evidence_uri": f"{box.url}/evt.jpg",
    }
    hazard = app.state.services.ingestor.ingest(HazardEvent.model_validate(doc), "t").hazard_id
    # the API keeps its copy of the evidence picture the first time it is asked for it
    assert admin.get(f"/api/v1/hazards/{hazard}/evidence.jpg").status_code == 200
    camera_says(app, "cam-1", "online")
    camera_says(app, "cam-2", "offline")
    camera_says(app, "cam-3", "offline")
    with served(app) as url:
        yield app, url, key, box
    box.stop()


def browser(w: int, h: int):
    b = chromium(w, h)
    if w < 600:
        b.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
    return b


def log_in(b, url, key):
    b.get(url + "/console/login")
    b.find_element(By.ID, "key").send_keys(key)
    click(b, By.ID, "login")


def open_editor(b, url, camera):
    b.get(f"{url}/console/sites/{SITE}/cameras/{camera}/zones")
    WebDriverWait(b, 15).until(
        lambda d: d.execute_script(
            "const i = document.getElementById('background');"
            "return !i || (i.complete && i.naturalWidth > 0) || !i.isConnected"
        )
    )


def corner(b, fx, fy):
    """Page coordinates (CSS px) of a point of the editor given in 0..1."""
    r = b.execute_script(
        "return document.getElementById('editor').getBoundingClientRect().toJSON()"
    )
    return r["left"] + fx * r["width"], r["top"] + fy * r["height"]


def mouse_click(b, fx, fy):
    x, y = corner(b, fx, fy)
    actions = ActionBuilder(b)
    actions.pointer_action.move_to_location(int(x), int(y)).click()
    actions.perform()


def mouse_drag(b, frm, to):
    (x0, y0), (x1, y1) = corner(b, *frm), corner(b, *to)
    actions = ActionBuilder(b)
    p = actions.pointer_action
    p.move_to_location(int(x0), int(y0)).pointer_down()
    for k in range(1, 6):  # in steps, like a hand
        p.move_to_location(int(x0 + (x1 - x0) * k / 5), int(y0 + (y1 - y0) * k / 5))
    p.pointer_up()
    actions.perform()


def finger(b):
    return ActionBuilder(b, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))


def touch_tap(b, fx, fy):
    x, y = corner(b, fx, fy)
    actions = finger(b)
    actions.pointer_action.move_to_location(int(x), int(y)).pointer_down().pointer_up()
    actions.perform()


def touch_drag(b, frm, to):
    (x0, y0), (x1, y1) = corner(b, *frm), corner(b, *to)
    actions = finger(b)
    p = actions.pointer_action
    p.move_to_location(int(x0), int(y0)).pointer_down()
    for k in range(1, 6):
        p.move_to_location(int(x0 + (x1 - x0) * k / 5), int(y0 + (y1 - y0) * k / 5))
    p.pointer_up()
    actions.perform()


def corners_drawn(b) -> int:
    return b.execute_script("return document.querySelectorAll('circle[data-zone=\"-1\"]').length")


def saved_zones(app, camera="cam-1"):
    with app.state.services.sessions() as s:
        cams = site_cameras(s, SITE, app.state.services.settings.cameras)
    return {z["id"]: z for c in cams if c["camera_id"] == camera for z in c["zones"]}


def near(p, q, tol=0.02):
    return abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol


def shoot(b, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.save_screenshot(str(SHOTS / f"{name}.png"))


def test_draw_undo_drag_and_save_at_1280(site):
    app, url, key, _box = site
    b = browser(1280, 900)
    try:
        log_in(b, url, key)
        open_editor(b, url, "cam-1")
        bg = b.find_element(By.ID, "background")
        assert bg.get_attribute("currentSrc").endswith("/cameras/cam-1/snapshot.jpg")
        assert b.find_element(By.ID, "frame-note").is_displayed() is False  # live: no note
        # the drawing and Save fit the window: no scrolling to reach either
        inner = b.execute_script("return window.innerHeight")
        for el in ("editor", "save", "add", "undo"):
            r = b.execute_script(
                f"return document.getElementById('{el}').getBoundingClientRect().toJSON()"
            )
            assert r["top"] >= 0 and r["bottom"] <= inner, (el, r, inner)
        assert b.execute_script("return document.documentElement.scrollWidth") <= 1280
        zprot = b.find_element(By.ID, "zprot")
        assert not zprot.is_selected()  # off until someone says the zone is protected
        for fx, fy in ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6)):
            mouse_click(b, fx, fy)
        assert corners_drawn(b) == 3
        b.find_element(By.ID, "undo").click()  # undo the last click
        assert corners_drawn(b) == 2
        mouse_click(b, 0.6, 0.6)  # and put it back
        mouse_click(b, 0.2, 0.6)
        assert corners_drawn(b) == 4
        ActionChains(b).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        assert corners_drawn(b) == 3  # Ctrl+Z takes back the fourth corner
        mouse_drag(b, (0.2, 0.2), (0.3, 0.35))  # move the first corner
        assert corners_drawn(b) == 3  # a drag adds no corner
        b.find_element(By.ID, "zid").clear()
        b.find_element(By.ID, "zid").send_keys("slab-2F")
        zprot.click()
        b.find_element(By.ID, "add").click()
        assert "slab-2F (临边/洞口，已防护)" in b.find_element(By.ID, "zone-list").text
        assert not zprot.is_selected()  # the next zone starts unprotected
        assert b.find_element(By.ID, "zid").get_attribute("value") == "edge-1"
        for fx, fy in ((0.7, 0.7), (0.9, 0.7), (0.9, 0.9)):
            mouse_click(b, fx, fy)
        b.find_element(By.ID, "add").click()
        assert "edge-1 (临边/洞口) " in b.find_element(By.ID, "zone-list").text + " "
        shoot(b, "zones-1280")
        click(b, By.ID, "save")
        assert b.find_element(By.ID, "flash").text == "已保存。"
        zones = saved_zones(app)
        assert set(zones) == {"slab-2F", "edge-1"}
        slab = zones["slab-2F"]["polygon"]
        assert len(slab) == 3 and near(slab[0], (0.3, 0.35)), slab  # where it was dragged
        assert near(slab[1], (0.6, 0.2)) and near(slab[2], (0.6, 0.6))
        assert zones["slab-2F"]["protected"] and not zones["edge-1"]["protected"]
        # a corner of a saved zone moves too
        open_editor(b, url, "cam-1")
        mouse_drag(b, (0.6, 0.2), (0.5, 0.1))
        click(b, By.ID, "save")
        slab = saved_zones(app)["slab-2F"]["polygon"]
        assert near(slab[1], (0.5, 0.1)) and near(slab[0], (0.3, 0.35)), slab
    finally:
        b.quit()


def test_a_phone_draws_with_a_finger_without_sideways_scroll(site):
    app, url, key, _box = site
    b = browser(390, 844)
    try:
        log_in(b, url, key)
        open_editor(b, url, "cam-1")
        assert b.execute_script("return document.documentElement.scrollWidth") <= 390
        r = b.execute_script("return document.getElementById('editor').getBoundingClientRect()")
        assert r["left"] >= 0 and r["right"] <= 390 and r["bottom"] <= 844
        for fx, fy in ((0.1, 0.5), (0.5, 0.5), (0.5, 0.9)):
            touch_tap(b, fx, fy)
        assert corners_drawn(b) == 3
        touch_drag(b, (0.5, 0.9), (0.4, 0.8))
        assert corners_drawn(b) == 3
        b.find_element(By.ID, "add").click()
        shoot(b, "zones-390")
        click(b, By.ID, "save")
        [zone] = saved_zones(app).values()
        assert near(zone["polygon"][2], (0.4, 0.8), 0.03), zone
        assert not zone["protected"]
    finally:
        b.quit()


def test_an_offline_camera_shows_the_last_picture_it_had(site):
    app, url, key, box = site
    b = browser(1280, 900)
    try:
        log_in(b, url, key)
        open_editor(b, url, "cam-1")  # online: the live frame, which the API keeps
        assert int(b.find_element(By.ID, "background").get_attribute("naturalWidth")) > 0
        box.stop()  # the box goes away and the camera with it
        camera_says(app, "cam-1", "offline")
        images = "return [...document.images].map(i => [i.currentSrc, i.complete, i.naturalWidth])"
        for camera, src in (
            ("cam-1", "/cameras/cam-1/last-snapshot.jpg"),
            ("cam-2", "/evidence.jpg"),
        ):
            open_editor(b, url, camera)
            bg = b.find_element(By.ID, "background")
            assert bg.get_attribute("currentSrc").endswith(src), camera
            assert all(ok and width > 0 for _s, ok, width in b.execute_script(images)), camera
            note = b.find_element(By.ID, "frame-note")
            assert note.is_displayed() and "摄像头离线，显示最近画面" in note.text
            assert "画面时间" in note.text
            inner = b.execute_script("return window.innerHeight")
            for el in ("editor", "save"):  # still the whole editor in the window
                r = b.execute_script(
                    f"return document.getElementById('{el}').getBoundingClientRect().toJSON()"
                )
                assert r["bottom"] <= inner, (camera, el, r)
            shoot(b, f"zones-offline-{camera}")
        open_editor(b, url, "cam-3")  # offline and never seen: says so, no broken image
        assert not b.find_elements(By.ID, "background")
        assert "摄像头离线" in b.find_element(By.ID, "no-frame").text
        # drawing still works over the kept picture
        open_editor(b, url, "cam-1")
        for fx, fy in ((0.2, 0.2), (0.6, 0.2), (0.6, 0.6)):
            mouse_click(b, fx, fy)
        b.find_element(By.ID, "add").click()
        click(b, By.ID, "save")
        assert len(saved_zones(app)) == 1
    finally:
        b.quit()
