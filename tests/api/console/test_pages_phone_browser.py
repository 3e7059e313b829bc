"""Every console page a role opens (the all-pages text test's list), in a real browser
(headless Debian Chromium) at 390x844, in Chinese and English: none scrolls sideways
(wide tables scroll inside their own box) and each has its heading on screen."""

import pytest
from selenium.webdriver.common.by import By

from siteguard.api.access.keys import create_key
from tests.api.console.test_console_pages import console_app
from tests.api.console.test_console_text import PAGES
from tests.support.browser import chromium, click_through, served

PHONE = (390, 844)
ROLES = {role: scope for role, scope, _url in PAGES}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = console_app(tmp_path_factory.mktemp("phone-pages"))
    keys = {}
    with app.state.services.sessions.begin() as s:
        for role, scope in ROLES.items():
            keys[role] = create_key(s, f"phone-{role}", role, **scope)
    with served(app) as url:
        yield url, keys


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_page_scrolls_sideways_on_a_phone(site, role):
    url, keys = site
    b = chromium(*PHONE)
    try:
        b.get(url + "/console/login")
        b.find_element(By.ID, "key").send_keys(keys[role])
        click_through(b, b.find_element(By.ID, "login"))
        assert b.execute_script("return window.innerWidth") == PHONE[0]
        for page in (p for r, _s, p in PAGES if r == role):
            for lang in ("zh", "en"):
                sep = "&" if "?" in page else "?"
                b.get(f"{url}{page}{sep}lang={lang}")
                assert b.find_element(By.TAG_NAME, "h1").is_displayed(), page
                scroll = b.execute_script("return document.documentElement.scrollWidth")
                assert scroll <= PHONE[0], f"{page} ({lang}) is {scroll} px wide at 390"
    finally:
        b.quit()
