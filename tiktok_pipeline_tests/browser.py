"""A real browser for the page tests: the system's headless Chromium driven by Selenium.

Chromium comes from the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run``
installs them); Selenium is told where chromedriver is, so it never downloads a browser or a
driver. Without them the browser tests skip with the reason (an error in CI).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("TIKTOK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TIKTOK_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def missing_browser() -> str | None:
    """Why no browser test can run here, or None."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if absent:
        return (
            f"no headless Chromium: {', '.join(absent)} not found; install the Debian packages "
            "(apt-get install chromium chromium-driver) or set TIKTOK_TEST_CHROMIUM / "
            "TIKTOK_TEST_CHROMEDRIVER"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


def start_chromium() -> Any:
    """A headless Chromium session (selenium ``WebDriver``) with the system's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def chromium_session() -> Iterator[Any]:
    """Start Chromium (or skip with the reason), yield it, quit it."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll ``condition`` until it returns a truthy value (returned); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}: {last!r}")


def page_errors(driver: Any) -> list[str]:
    """Errors the page logged: script errors, content the policy blocked.

    HTTP error statuses are left out: an error page's own 4xx is logged as a failed load.
    """
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry.get("source") != "network"
    ]
