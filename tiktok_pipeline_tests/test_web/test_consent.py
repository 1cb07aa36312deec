"""Seller authorization end to end against the sandbox: consent, callback, tokens, shops."""

from __future__ import annotations

import contextlib
import html
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.client.retry import NO_RETRIES
from tiktok_pipeline.config import Settings
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import StateSigner, WebService, run_web_service
from tiktok_pipeline_tests.test_web.helpers import (
    BROWSER,
    CALLBACK,
    consent,
    get,
    query,
    sandbox_settings,
    signed_callback,
    start,
)


@pytest.fixture
def service(sandbox: RunningSandbox, sqlite_db_url: str) -> Iterator[WebService]:
    """The web service wired to the sandbox, with a fresh SQLite store."""
    yield from start(sandbox, sandbox_settings(sandbox, sqlite_db_url))


def test_a_seller_connects_their_shops_in_one_click(
    sandbox: RunningSandbox, service: WebService
) -> None:
    to_tiktok = get(service.url("/tiktok/seller/authorize"))
    assert to_tiktok.status_code == 302
    consent_link = to_tiktok.headers["location"]
    assert consent_link.startswith(f"{sandbox.base_url}/open/authorize?")
    assert query(consent_link)["service_id"] == sandbox.config.service_id
    state = query(consent_link)["state"]

    back = get(consent_link)
    assert back.status_code == 302
    callback_url = back.headers["location"]
    assert callback_url.startswith(service.url(CALLBACK))
    code = query(callback_url)["code"]
    assert query(callback_url)["state"] == state

    page = get(callback_url)

    assert page.status_code == 200
    seller = sandbox.sellers[0]
    shops = [shop for shop in sandbox.shops if shop.open_id == seller.open_id]
    assert len(shops) == 2
    for shop in shops:
        assert html.escape(shop.name) in page.text
        assert shop.id in page.text
    assert html.escape(seller.seller_name) in page.text

    [authorization] = service.store.tokens.list_authorizations()
    assert authorization.open_id == seller.open_id
    assert authorization.status == "active"
    assert authorization.access_token.startswith("TTP_")
    stored = service.store.tokens.list_shops()
    assert sorted(s.id for s in stored) == sorted(s.id for s in shops)
    assert {s.authorization_id for s in stored} == {authorization.id}
    assert {s.cipher for s in stored} == {s.cipher for s in shops}

    secrets = [
        authorization.access_token,
        authorization.refresh_token,
        code,
        state,
        sandbox.config.app_secret,
        *(s.cipher for s in shops),
    ]
    shown = page.text + str(dict(page.headers))
    assert [s for s in secrets if s in shown] == []
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"


def test_the_token_call_leaves_no_code_or_secret_in_the_request_log(
    sandbox: RunningSandbox, sqlite_db_url: str
) -> None:
    settings = sandbox_settings(sandbox, sqlite_db_url)
    for service in start(sandbox, settings):
        callback_url = consent(service)
        assert get(callback_url).status_code == 200
    code = query(callback_url)["code"]

    store = Store.from_url(sqlite_db_url)
    with store.engine.connect() as conn:
        logged = [str(tuple(row)) for row in conn.execute(sa.text("SELECT * FROM tiktok_requests"))]
    assert any("token" in row for row in logged)  # the exchange was logged ...
    assert [row for row in logged if code in row or sandbox.config.app_secret in row] == []


def test_the_same_callback_twice_gets_a_clear_4xx_and_changes_nothing(
    service: WebService,
) -> None:
    callback_url = consent(service)
    assert get(callback_url).status_code == 200
    [before] = service.store.tokens.list_authorizations()

    again = get(callback_url)

    assert again.status_code == 400
    assert "already used" in again.text
    assert "/tiktok/seller/authorize" in again.text
    [after] = service.store.tokens.list_authorizations()
    assert after.access_token == before.access_token


def test_a_reused_code_gets_a_clear_4xx(service: WebService) -> None:
    code = query(consent(service))["code"]
    assert get(signed_callback(service, code)).status_code == 200

    # A fresh, valid state: only TikTok can refuse the spent code.
    reused = get(signed_callback(service, code))

    assert reused.status_code == 400
    assert "Authorization code not accepted" in reused.text
    assert "36004005" in reused.text  # TikTok's own words
    assert code not in reused.text
    assert len(service.store.tokens.list_authorizations()) == 1


def test_a_callback_opened_in_another_browser_is_refused(service: WebService) -> None:
    """Login CSRF: someone sends the seller a callback link of their own consent. The seller's
    browser lacks the cookie set when the flow started, so nothing is connected; the browser
    that started the flow can still finish it."""
    callback_url = consent(service)

    elsewhere = get(callback_url, browser=requests.Session())

    assert elsewhere.status_code == 400
    assert "did not start the authorization" in elsewhere.text
    assert service.store.tokens.list_authorizations() == []
    assert get(callback_url).status_code == 200


def test_another_browsers_cookie_does_not_fit_the_state(service: WebService) -> None:
    attacker = consent(service)
    victim = requests.Session()
    assert get(service.url("/tiktok/seller/authorize"), browser=victim).status_code == 302

    refused = get(attacker, browser=victim)

    assert refused.status_code == 400
    assert "started in another browser" in refused.text
    assert service.store.tokens.list_authorizations() == []


def test_the_consent_cookie_is_http_only_lax_and_scoped_to_the_seller_routes(
    service: WebService,
) -> None:
    response = get(service.url("/tiktok/seller/authorize"), browser=requests.Session())
    cookie = response.headers["set-cookie"]

    assert cookie.startswith("tiktok_consent=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/tiktok/seller" in cookie
    assert "Max-Age=600" in cookie
    binding = cookie.split(";")[0].partition("=")[2]
    assert binding not in response.headers["location"]


def test_a_state_is_used_once_across_web_workers(
    sandbox: RunningSandbox, sqlite_db_url: str
) -> None:
    """Two workers share the store, not their memory: the second refuses a replayed callback."""
    settings = sandbox_settings(sandbox, sqlite_db_url)
    with run_web_service(settings=settings) as other_worker:
        for service in start(sandbox, settings):
            callback_url = consent(service)
            assert get(callback_url).status_code == 200
            replayed = get(callback_url.replace(service.url(""), other_worker.url("")))

    assert replayed.status_code == 400
    assert "already used" in replayed.text
    assert len(Store.from_url(sqlite_db_url).tokens.list_authorizations()) == 1


def test_a_denied_consent_gets_a_403_page_and_stores_nothing(service: WebService) -> None:
    callback_url = consent(service, extra="&deny=1")
    assert query(callback_url)["error"] == "auth_denied"

    page = get(callback_url)

    assert page.status_code == 403
    assert "declined" in page.text
    assert service.store.tokens.list_authorizations() == []


@pytest.mark.parametrize(
    "state",
    ["v1.1750000000.AAAAAAAAAAAAAAAAAAAAAA.forged", "someone-elses-state", "v1" + "." * 300],
)
def test_a_bad_state_is_refused_before_the_code_is_spent(
    sandbox: RunningSandbox, service: WebService, state: str
) -> None:
    code = sandbox.authorize()

    refused = get(service.url(f"{CALLBACK}?{urlencode({'code': code, 'state': state})}"))

    assert refused.status_code == 400
    assert "not issued by this service" in refused.text or "altered" in refused.text
    assert service.store.tokens.list_authorizations() == []
    # The code was not exchanged, so the seller's next (valid) attempt still works.
    assert get(signed_callback(service, code)).status_code == 200


def test_an_expired_state_is_refused(sandbox: RunningSandbox, service: WebService) -> None:
    eleven_minutes_ago = StateSigner(
        sandbox.config.app_secret, clock=lambda: time.time() - 660
    ).issue()
    BROWSER.cookies.set(
        "tiktok_consent", eleven_minutes_ago.binding, domain="127.0.0.1", path="/tiktok/seller"
    )
    code = sandbox.authorize()
    params = urlencode({"code": code, "state": eleven_minutes_ago.state})

    refused = get(service.url(f"{CALLBACK}?{params}"))

    assert refused.status_code == 400
    assert "expired" in refused.text
    assert service.store.tokens.list_authorizations() == []


def test_a_callback_without_state_is_refused_by_default(
    sandbox: RunningSandbox, service: WebService
) -> None:
    refused = get(service.url(f"{CALLBACK}?code={sandbox.authorize()}"))

    assert refused.status_code == 400
    assert "has no state" in refused.text
    assert "Connect a TikTok Shop" in refused.text
    assert service.store.tokens.list_authorizations() == []
    assert get(consent(service)).status_code == 200


def test_without_require_state_a_partner_center_link_is_accepted(
    sandbox: RunningSandbox, sqlite_db_url: str
) -> None:
    settings = sandbox_settings(sandbox, sqlite_db_url)
    for service in start(sandbox, settings, require_state=False):
        accepted = get(service.url(f"{CALLBACK}?code={sandbox.authorize()}"))
        assert accepted.status_code == 200
        # A state that is there is still checked.
        forged = f"{CALLBACK}?code={sandbox.authorize()}&state=v2.1.forged.mac"
        assert get(service.url(forged)).status_code == 400


@pytest.mark.parametrize("params", ["", "?state=", "?code=", "?code=null"])
def test_a_callback_without_a_code_gets_400(service: WebService, params: str) -> None:
    page = get(service.url(CALLBACK + params))

    assert page.status_code == 400
    assert "Missing authorization code" in page.text


def test_another_tiktok_error_gets_400_with_tiktoks_message(
    sandbox: RunningSandbox, sqlite_db_url: str
) -> None:
    settings = sandbox_settings(sandbox, sqlite_db_url, app_secret="not-the-app-secret")
    for service in start(sandbox, settings):
        page = get(signed_callback(service, sandbox.authorize()))

        assert page.status_code == 400
        assert "invalid app_key or app_secret" in page.text
        assert "TIKTOK_APP_SECRET" in page.text
        assert "not-the-app-secret" not in page.text
        assert service.store.tokens.list_authorizations() == []


def test_a_failing_shop_listing_gets_502_and_stores_nothing(
    sandbox: RunningSandbox, sqlite_db_url: str
) -> None:
    settings = sandbox_settings(sandbox, sqlite_db_url)
    store = Store.from_url(sqlite_db_url)
    client = TikTokShopClient(
        settings.app_key,
        settings.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        credentials=store.tokens,
        retry=NO_RETRIES,
    )
    sandbox.control.set_faults(error_503_share=1.0, paths=["/authorization/202309/shops"])
    try:
        for service in start(sandbox, settings, store=store, client=client):
            page = get(signed_callback(service, sandbox.authorize()))
    finally:
        sandbox.control.clear_faults()
        client.close()

    assert page.status_code == 502
    assert "TikTok" in page.text
    assert store.tokens.list_authorizations() == []


def test_an_unreachable_tiktok_gets_502(sandbox: RunningSandbox, sqlite_db_url: str) -> None:
    with socket_closed_port() as port:
        settings = sandbox_settings(
            sandbox, sqlite_db_url, auth_base_url=f"http://127.0.0.1:{port}"
        )
        store = Store.from_url(sqlite_db_url)
        client = TikTokShopClient(
            settings.app_key,
            settings.app_secret,
            auth_base_url=settings.auth_base_url,
            credentials=store.tokens,
            retry=NO_RETRIES,
        )
        with run_web_service(settings=settings, store=store, client=client) as service:
            page = get(signed_callback(service, "some-code"))
        client.close()

    assert page.status_code == 502
    assert "could not be reached" in page.text
    assert "some-code" not in page.text


@contextlib.contextmanager
def socket_closed_port() -> Iterator[int]:
    """A local port that refuses connections (bound, not listening) while the block runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("query_string", "host"),
    [
        ("", "https://services.tiktokshop.com"),
        ("?region=us", "https://services.tiktokshops.us"),
        ("?region=ROW", "https://services.tiktokshop.com"),
    ],
)
def test_the_consent_link_goes_to_tiktoks_regional_host(
    sqlite_db_url: str, query_string: str, host: str
) -> None:
    settings = Settings(app_key="k", app_secret="s", service_id="7123", database_url=sqlite_db_url)
    with run_web_service(settings=settings) as service:
        response = get(service.url("/tiktok/seller/authorize" + query_string))

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{host}/open/authorize?")
    assert query(location)["service_id"] == "7123"
    assert query(location)["state"].startswith("v2.")


def test_a_us_default_region_is_a_setting(sqlite_db_url: str) -> None:
    settings = Settings(app_key="k", app_secret="s", service_id="7123", database_url=sqlite_db_url)
    with run_web_service(settings=settings, region="us") as service:
        us = get(service.url("/tiktok/seller/authorize")).headers["location"]
        row = get(service.url("/tiktok/seller/authorize?region=row")).headers["location"]
        bad = get(service.url("/tiktok/seller/authorize?region=mars"))

    assert us.startswith("https://services.tiktokshops.us/")
    assert row.startswith("https://services.tiktokshop.com/")
    assert bad.status_code == 400
    assert "use `us`" in bad.text


def test_without_a_service_id_authorize_explains_what_to_set(sqlite_db_url: str) -> None:
    settings = Settings(app_key="k", app_secret="s", database_url=sqlite_db_url)
    with run_web_service(settings=settings) as service:
        page = get(service.url("/tiktok/seller/authorize"))

    assert page.status_code == 503
    assert "TIKTOK_SERVICE_ID" in page.text
