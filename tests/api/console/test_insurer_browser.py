"""The insurer's risk page in a real browser (headless Debian Chromium) at desktop and
phone size: no horizontal page scroll, chart labels at least 11 px on screen, the
waterfall and the gauge drawn, the table sorted from the keyboard."""

import re
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.api.access.keys import create_key
from siteguard.api.app import create_app
from siteguard.api.settings import ApiSettings, MqttIngestSettings
from siteguard.api.store.clock import now_naive
from siteguard.demo.history import INSURERS, generate
from tests.support.browser import chromium, served

SMALLEST_LABEL_PX = """
let least = 1e9;
for (const svg of document.querySelectorAll('svg.chart')) {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  for (const t of svg.querySelectorAll('text')) {
    least = Math.min(least, parseFloat(t.getAttribute('font-size')) * scale);
  }
}
return least;
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("insurer")
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{tmp}/r.db", mqtt=MqttIngestSettings(enabled=False))
    )
    start = now_naive() - timedelta(days=75)
    generate(app.state.services.sessions, start, days=75, projects=6, seed=7)
    with app.state.services.sessions.begin() as s:
        key = create_key(s, "保险公司", "insurer", insurer=INSURERS[0])
    with served(app) as url:
        yield url, key


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_the_risk_page_explains_itself_at_desktop_and_phone_size(site, size, tmp_path):
    url, key = site
    b = chromium(*size)
    b.implicitly_wait(5)
    try:
        b.get(url + "/console/login")
        b.find_element(By.ID, "key").send_keys(key)
        b.find_element(By.ID, "login").click()
        WebDriverWait(b, 15).until(lambda d: "/console/login" not in d.current_url)
        b.get(url + "/console/risk")
        assert "年" in b.find_element(By.ID, "period").text and " 至 " in b.page_source
        assert b.find_elements(By.CSS_SELECTOR, "#waterfall svg g.step")
        assert b.find_elements(By.CSS_SELECTOR, "#gauge svg")
        width = b.execute_script("return window.innerWidth")
        scroll = b.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"horizontal page scroll at {size}: {scroll} > {width}"
        assert b.execute_script(SMALLEST_LABEL_PX) >= 11
        b.save_screenshot(str(tmp_path / f"risk-{size[0]}.png"))
        factors = [float(e.text) for e in b.find_elements(By.CSS_SELECTOR, "#projects td.factor")]
        assert factors == sorted(factors, reverse=True) and len(factors) == 3
        link = b.find_element(By.ID, "sort-factor")  # the active column: Enter flips it
        link.send_keys(Keys.ENTER)
        WebDriverWait(b, 15).until(lambda d: "order=asc" in d.current_url)
        again = [float(e.text) for e in b.find_elements(By.CSS_SELECTOR, "#projects td.factor")]
        assert again == sorted(factors)
        th = b.find_element(By.CSS_SELECTOR, "#projects th[aria-sort]")
        assert th.get_attribute("aria-sort") == "ascending"
        b.get(url + "/console/risk?lang=en")
        assert re.search(r"\d+ \w{3} – \d+ \w{3} \d{4}", b.find_element(By.ID, "period").text)
        assert b.execute_script("return document.documentElement.scrollWidth") <= width
        b.save_screenshot(str(tmp_path / f"risk-{size[0]}-en.png"))
    finally:
        b.quit()
