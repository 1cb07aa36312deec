"""The web service's pages in a real browser (headless Chromium): home, connected, errors.

The seller's whole path runs in the browser: the home page's button, the sandbox's consent page
and the callback. No page may show a token, an auth code, a state or the app secret, and the
home page shows no shop or seller at all (the service has no sign-in).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from tiktok_pipeline.config import Settings
from tiktok_pipeline.lifecycle.links import AUTHORIZE_PATH, AUTHORIZED_PATH
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import WebService, run_web_service
from tiktok_pipeline_tests.browser import page_errors, wait_until
from tiktok_pipeline_tests.conftest import POSTGRES_ADMIN_URL
from tiktok_pipeline_tests.test_web.helpers import sandbox_settings, start

By = pytest.importorskip("selenium.webdriver.common.by", reason="selenium is not installed").By

HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
}


@pytest.fixture
def service(sandbox: RunningSandbox, sqlite_db_url: str) -> Iterator[WebService]:
    """The web service wired to the sandbox, with a fresh SQLite store."""
    yield from start(sandbox, sandbox_settings(sandbox, sqlite_db_url))


def _status(browser) -> dict[str, str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#status li")
    return {
        row.get_attribute("data-check"): f"{row.get_attribute('class')}: {row.text}" for row in rows
    }


def _connect_button(browser):
    [button] = browser.find_elements(By.CSS_SELECTOR, "a.button")
    return button


def test_the_home_page_says_what_the_service_is_and_how_to_connect(
    browser, service: WebService, sandbox: RunningSandbox
) -> None:
    browser.get(service.url("/"))

    assert browser.title == "TikTok Shop connector · tiktok-pipeline"
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == "Connect your TikTok Shop to the data pipeline"
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "seller authorization" in text and "webhooks" in text
    button = _connect_button(browser)
    assert button.text == "Connect a TikTok Shop"
    assert button.get_attribute("href") == service.url(AUTHORIZE_PATH)
    assert button.is_displayed()
    status = _status(browser)
    assert status["Database"].startswith("ok: Database")
    assert "reachable" in status["Database"]
    assert status["Seller authorization"].startswith("ok:")
    assert sandbox.base_url in status["Seller authorization"]  # where consent links go
    assert "POST /tiktok/webhooks/all" in status["Webhook receiver"]
    health = browser.find_element(By.LINK_TEXT, "/tiktok/health")
    assert health.get_attribute("href") == service.url("/tiktok/health")
    assert page_errors(browser) == []

    response = requests.get(service.url("/"), timeout=10)
    assert response.status_code == 200
    assert {k: response.headers.get(k) for k in HEADERS} == HEADERS


def test_one_click_connects_and_the_home_page_still_lists_nothing(
    browser, service: WebService, sandbox: RunningSandbox
) -> None:
    browser.get(service.url("/"))
    _connect_button(browser).click()  # -> TikTok's (the sandbox's) consent -> the callback

    wait_until(lambda: urlsplit(browser.current_url).path == AUTHORIZED_PATH, what="callback")
    seller = sandbox.sellers[0]
    assert browser.find_element(By.TAG_NAME, "h1").text == (
        f"TikTok Shop connected for {seller.seller_name}"
    )
    shops = [shop for shop in sandbox.shops if shop.open_id == seller.open_id]
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert sorted(rows) == sorted([shop.name, shop.region, shop.id] for shop in shops)
    again = _connect_button(browser)
    assert (again.text, again.get_attribute("href")) == (
        "Connect another shop",
        service.url(AUTHORIZE_PATH),
    )
    [authorization] = service.store.tokens.list_authorizations()
    query = dict(p.split("=", 1) for p in urlsplit(browser.current_url).query.split("&"))
    secrets = [
        authorization.access_token,
        authorization.refresh_token,
        query["code"],
        query["state"],
        sandbox.config.app_secret,
        *(shop.cipher for shop in shops),
    ]
    assert [s for s in secrets if s in browser.page_source] == []

    browser.get(service.url("/"))
    home = browser.page_source
    identities = [seller.seller_name, seller.open_id, authorization.open_id]
    for shop in shops:
        identities += [shop.name, shop.id, shop.code]
    assert [s for s in identities + secrets if s in home] == []
    assert page_errors(browser) == []


def test_error_pages_say_what_happened_and_lead_back(
    browser, service: WebService, sandbox: RunningSandbox
) -> None:
    browser.get(service.url(f"{AUTHORIZED_PATH}?error=auth_denied&state=x"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Authorization declined"
    assert browser.find_element(By.CLASS_NAME, "kicker").text.upper() == "ERROR 403"
    retry = _connect_button(browser)
    assert retry.text == "Start the authorization again"
    assert retry.get_attribute("href") == service.url(AUTHORIZE_PATH)
    retry.click()  # the retry really works: consent, callback, connected
    wait_until(lambda: "connected" in browser.find_element(By.TAG_NAME, "h1").text)

    browser.get(service.url(f"{AUTHORIZE_PATH}?region=mars"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Unknown region"
    assert "use `us`" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_elements(By.CSS_SELECTOR, "a.button") == []
    browser.find_element(By.PARTIAL_LINK_TEXT, "home page").click()
    wait_until(lambda: urlsplit(browser.current_url).path == "/", what="the home page")
    assert _connect_button(browser).text == "Connect a TikTok Shop"

    browser.get(service.url(f"{AUTHORIZED_PATH}?code=<script>alert(1)</script>&state=<b>x</b>"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Authorization link not valid"
    assert "<script>" not in browser.page_source and "alert(1)" not in browser.page_source
    assert page_errors(browser) == []


def test_without_a_service_id_the_home_page_says_what_to_set(browser, sqlite_db_url) -> None:
    settings = Settings(app_key="key", app_secret="secret-value", database_url=sqlite_db_url)
    with run_web_service(settings=settings) as service:
        browser.get(service.url("/"))
        note = browser.find_element(By.CLASS_NAME, "note").text
        assert "TIKTOK_SERVICE_ID" in note
        assert _status(browser)["Seller authorization"].startswith("warn:")
        _connect_button(browser).click()
        wait_until(lambda: browser.find_element(By.TAG_NAME, "h1").text != "", what="a page")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Authorization is not configured"
        assert "secret-value" not in browser.page_source


@pytest.mark.postgres
def test_when_the_database_is_gone_the_home_page_says_so(browser, postgres_url: str) -> None:
    store = Store.from_url(postgres_url, upgrade=True)
    settings = Settings(
        app_key="key", app_secret="secret-value", service_id="svc", database_url=postgres_url
    )
    with run_web_service(settings=settings, store=store) as service:
        browser.get(service.url("/"))
        assert _status(browser)["Database"].startswith("ok:")

        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = sa.make_url(postgres_url).database
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

        browser.get(service.url("/"))
        database = _status(browser)["Database"]
        assert database.startswith("bad:") and "not reachable" in database
        assert _connect_button(browser).get_attribute("href") == service.url(AUTHORIZE_PATH)
        assert requests.get(service.url("/tiktok/health"), timeout=10).status_code == 503
    store.close()
