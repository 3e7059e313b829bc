"""Real-browser helpers: the API served by uvicorn in a thread, headless Debian Chromium
driven by Selenium through Debian's chromedriver (nothing downloaded)."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import uvicorn
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from siteguard.demo.ports import free_port, wait_port

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


@contextmanager
def served(app):
    """Run `app` on a free loopback port; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_port(port, 20), "the API did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    b = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    set_viewport(b, width, height)
    return b


def set_viewport(b: webdriver.Chrome, width: int, height: int) -> None:
    """The exact CSS viewport (a headless window may not shrink below ~500 px); under
    600 px wide it is a phone's (mobile viewport, touch-sized layout)."""
    b.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def click_through(b: webdriver.Chrome, element: WebElement, timeout: float = 15) -> None:
    """Click something that loads a new page and wait until that page has loaded.

    While the old document is torn down Chromium may answer a query on it with "Node with
    given id does not belong to the document" instead of a stale-element error; both mean
    the old page is gone."""
    old = b.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_d) -> bool:
        try:
            old.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(b, timeout).until(gone)
    WebDriverWait(b, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
