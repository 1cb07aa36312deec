"""The /sandbox console in a real browser (headless Chromium), with real webhooks.

The sandbox pushes to the real web service on a socket: one shop's events go to its receiver
(200), the other shop's to a route the receiver does not have (404, retried, then given up), so
the console has both outcomes to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.events import WebhookEvent
from tiktok_pipeline.sandbox import RunningSandbox, run_sandbox
from tiktok_pipeline.sandbox.shops import ShopInfo
from tiktok_pipeline.web import WebService
from tiktok_pipeline.web.registration import set_webhook, webhook_address
from tiktok_pipeline_tests.browser import page_errors, wait_until
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, small_config
from tiktok_pipeline_tests.test_web.helpers import consent, get, sandbox_settings, start

By = pytest.importorskip("selenium.webdriver.common.by", reason="selenium is not installed").By

HOUR = 3600


@dataclass
class Setup:
    """The sandbox, the web service it pushes to, and the two shops' roles."""

    sandbox: RunningSandbox
    service: WebService
    received: ShopInfo  # pushed to the web service's receiver: 200
    refused: ShopInfo  # pushed to a route the receiver does not have: 404
    secrets: list[str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A connected seller whose two shops have webhook addresses on the real web service."""
    database = tmp_path_factory.mktemp("console") / "tiktok.db"
    with run_sandbox(small_config(webhook_retry_scale=0.00005)) as sandbox:
        settings = sandbox_settings(sandbox, f"sqlite:///{database}")
        for service in start(sandbox, settings):
            code_url = consent(service)
            assert get(code_url).status_code == 200  # the seller is connected
            client = TikTokShopClient(
                settings.require("app_key"),
                settings.require("app_secret"),
                base_url=sandbox.base_url,
                auth_base_url=sandbox.base_url,
                credentials=service.store.tokens,
            )
            received, refused = sandbox.shops
            event = WebhookEvent.ORDER_STATUS_CHANGE
            set_webhook(
                client, service.store, received.id, event, webhook_address(service.base_url)
            )
            set_webhook(
                client, service.store, refused.id, event, service.url("/tiktok/webhooks/nowhere")
            )
            client.close()
            [authorization] = service.store.tokens.list_authorizations()
            secrets = [
                sandbox.config.app_secret,
                authorization.access_token,
                authorization.refresh_token,
                sandbox.authorize(),  # a fresh auth code
                code_url.split("code=")[1].split("&")[0],
            ]
            yield Setup(sandbox, service, received, refused, secrets)


@pytest.fixture
def console(browser, setup: Setup):
    """The browser on the console, once the page has rendered the sandbox's state."""
    browser.get(f"{setup.sandbox.base_url}/sandbox")
    wait_until(
        lambda: browser.find_element(By.ID, "updated").text.startswith("updated"),
        what="the first render",
    )
    return browser


def _clock(browser) -> int:
    text = browser.find_element(By.ID, "clock-now").text
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC).timestamp())


def _faults(setup: Setup) -> dict:
    return requests.get(f"{setup.sandbox.base_url}/sandbox/faults", timeout=10).json()


def _delivery_rows(browser) -> list[list[str]]:
    # Read in one go: the page re-renders the table on every poll.
    return browser.execute_script(
        "return [...document.querySelectorAll('#deliveries tr')]"
        ".map(tr => [...tr.cells].map(td => td.innerText.trim()))"
    )


def test_advance_one_hour_shows_the_webhooks_delivered_and_refused(console, setup: Setup) -> None:
    assert _delivery_rows(console) == []
    assert console.find_element(By.ID, "deliveries-empty").is_displayed()
    before = _clock(console)
    assert before == ANCHOR

    console.find_element(By.ID, "advance-hour").click()

    wait_until(lambda: _clock(console) == before + HOUR, what="the clock one hour later")
    result = console.find_element(By.ID, "advance-result").text
    assert result.startswith("Advance 1 hour:") and "webhook pushes queued" in result
    # Each refused push is tried 5 times (TikTok's schedule, scaled down), then given up.
    wait_until(
        lambda: any("gave up" in row[4] for row in _delivery_rows(console)),
        what="a refused push given up",
    )
    wait_until(lambda: console.find_element(By.ID, "count-pending").text == "0", what="idle")
    truth = setup.sandbox.control.deliveries()["deliveries"]
    rows = wait_until(
        lambda: (rows := _delivery_rows(console)) and len(rows) == min(50, len(truth)) and rows,
        what="every attempt listed",
    )
    by_shop = {setup.received.id: [], setup.refused.id: []}
    for row in rows:
        by_shop[row[2]].append(row)
    assert by_shop[setup.received.id], "the shop pushed to the receiver has deliveries"
    assert {row[4] for row in by_shop[setup.received.id]} == {"HTTP 200 delivered"}
    assert {row[1] for row in rows} == {"ORDER_STATUS_CHANGE"}
    refused = {row[4] for row in by_shop[setup.refused.id]}
    assert refused <= {"HTTP 404 · will retry", "HTTP 404 · gave up"} and "HTTP 404 · gave up" in (
        refused
    )
    assert {row[3] for row in by_shop[setup.refused.id]} >= {"1", "5"}
    # What the page calls delivered is what the web service stored.
    delivered = {row[5] for row in by_shop[setup.received.id]}
    stored = {row.tts_notification_id for row in setup.service.store.webhooks.pending()}
    assert delivered <= stored
    assert console.find_element(By.ID, "deliveries-summary").text.endswith("0 pending")
    assert page_errors(console) == []


def test_advance_one_day_moves_the_clock_a_day(console) -> None:
    before = _clock(console)
    console.find_element(By.ID, "advance-day").click()
    wait_until(lambda: _clock(console) == before + 86400, what="the clock one day later")
    assert "frozen" in console.find_element(By.ID, "clock-mode").text


def test_faults_switch_on_and_off_and_follow_changes_made_elsewhere(console, setup: Setup) -> None:
    control = setup.sandbox.control
    toggles = {b.text: b for b in console.find_elements(By.CSS_SELECTOR, "#faults button")}
    rate_limited = toggles["429 rate limited (25%)"]
    assert rate_limited.get_attribute("aria-pressed") == "false"

    rate_limited.click()
    wait_until(lambda: rate_limited.get_attribute("aria-pressed") == "true", what="switched on")
    assert _faults(setup)["error_429_share"] == 0.25
    assert "error_429_share=0.25" in console.find_element(By.ID, "faults-current").text

    toggles["Latency +300 ms"].click()
    wait_until(lambda: toggles["Latency +300 ms"].get_attribute("aria-pressed") == "true")
    faults = _faults(setup)
    assert (faults["latency_ms"], faults["error_429_share"]) == (300, 0.25)  # both on

    rate_limited.click()
    wait_until(lambda: rate_limited.get_attribute("aria-pressed") == "false", what="switched off")
    faults = _faults(setup)
    assert (faults["latency_ms"], faults["error_429_share"]) == (300, 0.0)

    console.find_element(By.ID, "faults-off").click()
    wait_until(lambda: "No faults" in console.find_element(By.ID, "faults-current").text)
    assert _faults(setup)["latency_ms"] == 0

    control.set_faults(drop_share=0.1)  # someone else, through the API
    try:
        dropped = toggles["Dropped connections (10%)"]
        wait_until(lambda: dropped.get_attribute("aria-pressed") == "true", what="the poll")
    finally:
        control.clear_faults()


def test_sellers_shops_and_request_counts(console, setup: Setup) -> None:
    sandbox = setup.sandbox
    seller = sandbox.sellers[0]
    sellers = console.find_element(By.ID, "sellers").text
    assert seller.seller_name in sellers and seller.open_id in sellers
    assert "authorized" in sellers
    shops = console.find_element(By.ID, "shops").text
    for shop in sandbox.shops:
        assert shop.name in shops and shop.id in shops
    assert webhook_address(setup.service.base_url) in shops

    stats = sandbox.control.stats()
    requests_table = console.find_element(By.ID, "requests").text
    assert f"PUT /event/202309/webhooks {stats['requests']['PUT /event/202309/webhooks']}" in (
        requests_table
    )
    assert console.find_element(By.ID, "count-requests").text == str(stats["total_requests"])
    assert (
        f"{stats['token_get_calls']} token get"
        in console.find_element(By.ID, "request-totals").text
    )

    console.find_element(By.ID, "add-seller").click()
    wait_until(
        lambda: console.find_element(By.ID, "count-sellers").text == str(len(sandbox.sellers)),
        what="the new seller",
    )
    assert len(sandbox.sellers) == 2
    assert sandbox.sellers[1].seller_name in console.find_element(By.ID, "sellers").text
    assert len(console.find_elements(By.CSS_SELECTOR, "#shops tr")) == len(sandbox.shops)

    newcomer = sandbox.sellers[1]
    [row] = [
        r
        for r in console.find_elements(By.CSS_SELECTOR, "#sellers tr")
        if newcomer.open_id in r.text
    ]
    row.find_element(By.TAG_NAME, "button").click()
    alert = console.switch_to.alert
    assert newcomer.seller_name in alert.text
    alert.accept()
    wait_until(
        lambda: [s["authorized"] for s in sandbox.control.state()["sellers"]] == [True, False],
        what="the seller deauthorized",
    )
    wait_until(
        lambda: "deauthorized" in console.find_element(By.ID, "sellers").text, what="the badge"
    )

    # "Add a shop" adds a shop to an authorized seller, without a new consent.
    shops_before = len(sandbox.shops)
    [row] = [
        r for r in console.find_elements(By.CSS_SELECTOR, "#sellers tr") if seller.open_id in r.text
    ]
    row.find_element(By.XPATH, ".//button[text()='Add a shop']").click()
    wait_until(
        lambda: len(console.find_elements(By.CSS_SELECTOR, "#shops tr")) == shops_before + 1,
        what="the added shop",
    )
    assert len(sandbox.sellers[0].shop_ids) == len(seller.shop_ids) + 1


def test_the_console_shows_no_secret_and_runs_under_its_policy(console, setup: Setup) -> None:
    wait_until(lambda: _delivery_rows(console) or True)
    shown = console.page_source + console.find_element(By.TAG_NAME, "body").text
    assert [s for s in setup.secrets if s in shown] == []
    for path in ("/sandbox", "/sandbox/static/console.js", "/sandbox/static/console.css"):
        response = requests.get(f"{setup.sandbox.base_url}{path}", timeout=10)
        assert response.status_code == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert [s for s in setup.secrets if s in response.text] == []
    assert page_errors(console) == []  # no script error, nothing blocked by the policy


def test_the_endpoint_reference_and_the_root_redirect(setup: Setup) -> None:
    base = setup.sandbox.base_url
    root = requests.get(f"{base}/", allow_redirects=False, timeout=10)
    assert (root.status_code, root.headers["location"]) == (307, "/sandbox")
    page = requests.get(f"{base}/sandbox", timeout=10).text
    assert "<code>/sandbox/webhooks/deliveries</code>" in page
    assert requests.get(f"{base}/sandbox/static/../control.py", timeout=10).status_code == 404
    assert requests.get(f"{base}/sandbox/static/secrets.txt", timeout=10).status_code == 404


def test_deliveries_limit_returns_the_most_recent(setup: Setup) -> None:
    if setup.sandbox.control.deliveries()["total"] < 3:
        setup.sandbox.control.advance(HOUR)
    base = f"{setup.sandbox.base_url}/sandbox/webhooks/deliveries"
    everything = requests.get(base, params={"wait": 30}, timeout=40).json()
    assert everything["idle"]
    last_two = requests.get(base, params={"limit": 2}, timeout=10).json()
    assert everything["total"] == len(everything["deliveries"]) >= 3
    assert last_two["total"] == everything["total"]
    assert last_two["deliveries"] == everything["deliveries"][-2:]
    assert requests.get(base, params={"limit": 0}, timeout=10).json()["deliveries"] == []
    bad = requests.get(base, params={"limit": "-1"}, timeout=10)
    assert bad.status_code == 400 and "limit" in bad.json()["error"]
