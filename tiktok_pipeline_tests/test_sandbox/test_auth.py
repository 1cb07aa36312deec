"""Seller consent, auth codes and tokens (get, refresh, rotation, expiry, errors)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import requests

from tiktok_pipeline_tests.test_sandbox.conftest import APP_KEY, APP_SECRET, authorized_client
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient


def _consent(sandbox, **params) -> requests.Response:
    query = {"service_id": sandbox.config.service_id, **params}
    return requests.get(
        f"{sandbox.base_url}/open/authorize", params=query, allow_redirects=False, timeout=10
    )


def test_consent_redirects_with_code_and_state(sandbox):
    response = _consent(sandbox, state="csrf-123")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == sandbox.config.redirect_url
    params = parse_qs(location.query)
    assert params["state"] == ["csrf-123"]
    code = params["code"][0]
    client = SignedClient(sandbox.base_url, APP_KEY, APP_SECRET)
    data = client.token_get(code).json()["data"]
    assert data["open_id"] == sandbox.sellers[0].open_id


def test_consent_denied(sandbox):
    response = _consent(sandbox, state="s1", deny="1")
    assert response.status_code == 302
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert params == {"code": ["null"], "error": ["auth_denied"], "state": ["s1"]}


def test_consent_for_another_seller(fresh):
    seller = fresh.control.add_seller(shops=1)["seller"]
    response = _consent(fresh, state="x", open_id=seller["open_id"])
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    assert client.token_get(code).json()["data"]["open_id"] == seller["open_id"]


def test_unknown_service_id_is_an_html_error_page(sandbox):
    response = requests.get(
        f"{sandbox.base_url}/open/authorize",
        params={"service_id": "nope", "state": "x"},
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "service_id" in response.text


def test_token_get_answer(sandbox):
    client = SignedClient(sandbox.base_url, APP_KEY, APP_SECRET)
    before = int(time.time())
    payload = client.token_get(sandbox.authorize()).json()
    assert payload["code"] == 0 and payload["message"] == "success"
    data = payload["data"]
    assert data["access_token"].startswith("TTP_") and data["refresh_token"].startswith("TTP_")
    # Absolute epoch seconds, not durations.
    assert before + 7 * 86400 - 5 <= data["access_token_expire_in"] <= time.time() + 7 * 86400
    assert data["refresh_token_expire_in"] >= before + 364 * 86400
    seller = sandbox.sellers[0]
    assert data["open_id"] == seller.open_id
    assert data["seller_name"] == seller.seller_name
    assert data["seller_base_region"] == seller.region
    assert data["user_type"] == 0
    assert "seller.order.info" in data["granted_scopes"]


def test_auth_code_works_once(sandbox):
    client = SignedClient(sandbox.base_url, APP_KEY, APP_SECRET)
    code = sandbox.authorize()
    assert client.token_get(code).json()["code"] == 0
    again = client.token_get(code).json()
    assert again["code"] == 36004005
    assert again["message"] == "can not find related auth record"
    assert client.token_get("made-up").json()["code"] == 36004005


def test_expired_auth_code(fresh):
    fresh.control.config(auth_code_ttl=0)
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    response = client.token_get(fresh.authorize())
    assert response.status_code == 200
    assert response.json()["code"] == 36004005


def test_token_endpoint_errors(sandbox):
    client = SignedClient(sandbox.base_url, APP_KEY, APP_SECRET)
    code = sandbox.authorize()
    wrong_grant = client.token_get(code, grant_type="authorization_code").json()
    assert (wrong_grant["code"], wrong_grant["message"]) == (36004002, "invalid grant_type")
    wrong_secret = client.token_get(code, app_secret="nope").json()
    assert (wrong_secret["code"], wrong_secret["message"]) == (
        36004003,
        "invalid app_key or app_secret",
    )
    wrong_key = client.token_get(code, app_key="nope").json()
    assert wrong_key["code"] == 36004003
    refresh_grant = client.token_refresh("x", grant_type="authorized_code").json()
    assert refresh_grant["code"] == 36004002
    # The code was not consumed by the failed attempts.
    assert client.token_get(code).json()["code"] == 0


def test_refresh_rotates_the_refresh_token(fresh):
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    first = client.authorize(fresh.authorize())
    refreshed = client.token_refresh(first["refresh_token"]).json()
    assert refreshed["code"] == 0 and refreshed["message"] == "success"
    data = refreshed["data"]
    assert data["refresh_token"] != first["refresh_token"]
    assert data["access_token"] != first["access_token"]
    # The old refresh token is dead; the new one works.
    assert client.token_refresh(first["refresh_token"]).json()["code"] == 36004005
    assert client.token_refresh(data["refresh_token"]).json()["code"] == 0
    # The previous access token keeps working during the grace period.
    assert (
        client.call("GET", "/authorization/202309/shops", token=first["access_token"]).json()[
            "code"
        ]
        == 0
    )
    assert fresh.control.stats()["token_refresh_calls"] == 3


def test_previous_access_token_dies_after_the_grace(fresh):
    fresh.control.config(refresh_grace=0)
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    first = client.authorize(fresh.authorize())
    new = client.token_refresh(first["refresh_token"]).json()["data"]
    old = client.call("GET", "/authorization/202309/shops", token=first["access_token"])
    assert (old.status_code, old.json()["code"]) == (401, 105002)
    assert (
        client.call("GET", "/authorization/202309/shops", token=new["access_token"]).json()["code"]
        == 0
    )


def test_refresh_without_rotation_keeps_the_refresh_token(fresh):
    fresh.control.config(rotate_refresh_tokens=False)
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    first = client.authorize(fresh.authorize())
    for _ in range(2):
        data = client.token_refresh(first["refresh_token"]).json()["data"]
        assert data["refresh_token"] == first["refresh_token"]
        assert data["refresh_token_expire_in"] == first["refresh_token_expire_in"]


def test_expired_refresh_token(fresh):
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    first = client.authorize(fresh.authorize())
    fresh.control.expire_tokens(which="refresh")
    answer = client.token_refresh(first["refresh_token"]).json()
    assert (answer["code"], answer["message"]) == (36004001, "rt has expired")


def test_short_token_lifetimes_follow_the_wall_clock(fresh):
    fresh.control.config(access_token_ttl=1)
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    data = client.authorize(fresh.authorize())
    assert data["access_token_expire_in"] <= int(time.time()) + 2
    # Poll (no timing assertion): the token must expire by itself within a few seconds.
    deadline = time.monotonic() + 10
    code = 0
    while time.monotonic() < deadline:
        code = client.call("GET", "/authorization/202309/shops").json()["code"]
        if code == 105002:
            break
        time.sleep(0.2)
    assert code == 105002


def test_token_refresh_calls_are_counted_per_call(fresh):
    client = SignedClient(fresh.base_url, APP_KEY, APP_SECRET)
    first = client.authorize(fresh.authorize())
    fresh.control.reset_stats()
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: client.token_refresh(first["refresh_token"]).json(), range(4))
        )
    # With rotation, exactly one of four concurrent refreshes of the same token wins.
    assert sorted(a["code"] for a in answers) == [0, 36004005, 36004005, 36004005]
    assert fresh.control.stats()["token_refresh_calls"] == 4


def test_deauthorization_revokes_tokens(fresh):
    client = authorized_client(fresh)
    first = fresh.sellers[0]
    fresh.control.deauthorize(first.open_id)
    response = client.call("GET", "/authorization/202309/shops")
    assert (response.status_code, response.json()["code"]) == (401, 105001)
    # A new consent authorizes the seller again.
    again = authorized_client(fresh)
    assert again.call("GET", "/authorization/202309/shops").json()["code"] == 0


def test_authorized_and_active_shops(sandbox, client):
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert [s["id"] for s in shops] == [s.id for s in sandbox.shops]
    for shop, info in zip(shops, sandbox.shops, strict=True):
        assert shop == {
            "id": info.id,
            "name": info.name,
            "region": info.region,
            "seller_type": info.seller_type,
            "cipher": info.cipher,
            "code": info.code,
        }
    active = client.ok("GET", "/seller/202309/shops")["shops"]
    assert active == [{"id": s.id, "region": s.region} for s in sandbox.shops]
