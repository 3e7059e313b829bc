"""The inspector's inbox (待处理) in a real browser (headless Debian Chromium): the open
hazards with thumbnails, major first; the inspector issues one hazard on its own, then two
of one project in bulk (合并下发), and lands on a notice with those items; at 390 px the
page does not scroll sideways."""

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from tests.api.console.test_console_browser import click
from tests.support.api import api_client, sqlite_app
from tests.support.browser import chromium, served
from tests.support.paths import GOLDEN_START

pytestmark = pytest.mark.slow


@pytest.fixture
def console(tmp_path):
    app = sqlite_app(tmp_path, "c.db")
    admin = api_client(app)
    project = {"name": "滨湖花园项目", "insurer": "ins", "contractor": "某建筑公司"}
    assert admin.put("/api/v1/projects/site-a", json=project).status_code == 200
    start = json.loads(GOLDEN_START.read_text())
    for n, level in enumerate(["general", "major", "general"]):
        event = start | {
            "event_id": f"evt_inbox{n:07d}",
            "site_id": "site-a",
            "level": level,
            "camera_id": f"cam-{n}",
        }
        assert admin.post("/api/v1/events", json=event).status_code == 202
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "李检查员", "inspector", None, "", "ins")
    with served(app) as url:
        yield url, key


def items(b):
    return [e.get_attribute("id") for e in b.find_elements(By.CSS_SELECTOR, ".inbox-item")]


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_an_inspector_issues_from_the_inbox_one_and_in_bulk(console, size):
    url, key = console
    w, h = size
    b = chromium(w, h)
    try:
        b.get(url + "/console/login")
        b.find_element(By.ID, "key").send_keys(key)
        click(b, By.ID, "login")
        click(b, By.ID, "nav-inbox")
        first = items(b)
        assert len(first) == 3
        major = b.find_element(By.ID, first[0]).text
        assert "重大" in major  # major first
        assert b.execute_script("return document.documentElement.scrollWidth") <= w
        # one on its own, from its card
        one = first[0].removeprefix("hz-")
        click(b, By.ID, f"issue-{one}")
        assert "/console/notices/" in b.current_url
        assert "已下发整改通知" in b.find_element(By.ID, "flash").text
        # the other two in bulk
        b.get(url + "/console/inbox")
        rest = items(b)
        assert sorted(rest) == sorted(first[1:])
        for box in b.find_elements(By.CSS_SELECTOR, "input[name=hazard]"):
            box.click()
        click(b, By.ID, "issue-chosen")
        assert "/console/notices/" in b.current_url
        page = b.find_element(By.TAG_NAME, "main").text
        assert page.count("作业人员未佩戴安全帽") >= 2  # both items on the one notice
        b.get(url + "/console/inbox")
        WebDriverWait(b, 10).until(lambda d: d.find_elements(By.ID, "inbox-empty"))
    finally:
        b.quit()
