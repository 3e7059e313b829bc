"""The console's monthly bulletin in a real browser (headless Debian Chromium): the body
is inline (no iframe), at 390 px (a phone) and at 1280 px the page never scrolls sideways
(the wide tables scroll inside their own box), with its 文号, 环比 and download links."""

from datetime import datetime, timedelta

import pytest
from selenium.webdriver.common.by import By

from siteguard.api.access.keys import create_key
from siteguard.api.store.clock import CHINA
from tests.api.bulletin.two_months import AUTHORITY, J, build
from tests.support.browser import chromium, click_through, served


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bulletin-console")
    app = build(f"sqlite:///{tmp}/c.db", tmp)
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "住建局", "regulator", None, J, "")
    with served(app) as url:
        yield url, key


def widths(b, selector="html"):
    return b.execute_script(
        "const e = document.querySelector(arguments[0]);return [e.scrollWidth, e.clientWidth];",
        selector,
    )


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)])
def test_the_bulletin_inside_the_console(console, size):
    url, key = console
    w, h = size
    b = chromium(w, h)
    try:
        b.get(url + "/console/login")
        b.find_element(By.ID, "key").send_keys(key)
        click_through(b, b.find_element(By.ID, "login"))
        # the navigation's 月度通报 opens the last whole month (China time)
        click_through(b, b.find_element(By.ID, "nav-bulletin"))
        first = datetime.now(CHINA).replace(day=1)
        last_month = (first - timedelta(days=1)).strftime("%Y-%m")
        assert b.find_element(By.TAG_NAME, "h1").is_displayed()
        assert f"month={last_month}" in b.page_source, "the month's own links name it"
        b.get(url + "/console/bulletin?month=2026-10&lang=zh")
        assert b.execute_script("return window.innerWidth") == w
        assert not b.find_elements(By.TAG_NAME, "iframe")
        assert b.find_element(By.ID, "b-number").text == "包建安〔2026〕11号"
        assert b.find_element(By.ID, "b-authority").text == AUTHORITY
        assert b.find_element(By.ID, "k-hazards").text == "3"
        hazards = b.find_element(By.ID, "kpi-hazards").text
        assert "↑ 1（+50.0%）" in hazards and "上月 2" in hazards
        assert "滨湖花园项目（bh-101）" in b.find_element(By.ID, "projects").text
        scroll, client = widths(b)
        assert scroll <= client, f"the page scrolls sideways at {w} px: {scroll} > {client}"
        assert b.execute_script("return document.body.scrollWidth") <= w
        if w < 600:  # the wide table scrolls inside its own box, not the page
            box = b.execute_script(
                "const e = document.getElementById('projects').parentElement;"
                "return [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX];"
            )
            assert box[0] > box[1] and box[2] == "auto", box
        xlsx = b.find_element(By.ID, "bulletin-xlsx").get_attribute("href")
        pdf = b.find_element(By.ID, "bulletin-pdf").get_attribute("href")
        assert "/regulator/bulletin.xlsx?month=2026-10&lang=zh" in xlsx
        assert "/regulator/bulletin.pdf?month=2026-10&lang=zh" in pdf
        ok = b.execute_script(
            "return fetch(arguments[0]).then(r => [r.status, r.headers.get('content-type')]);",
            xlsx,
        )
        assert ok[0] == 200 and "spreadsheetml" in ok[1]
        b.get(url + "/console/bulletin?month=2026-10&lang=en")
        assert "Key figures against last month" in b.find_element(By.ID, "bulletin").text
        assert b.find_element(By.ID, "bulletin-xlsx").text == "Excel workbook"
        assert widths(b)[0] <= w
    finally:
        b.quit()
