"""Every gateway rejection comes back with TikTok's code, message and HTTP status."""

from __future__ import annotations

import time

import pytest

from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client

SEARCH = "/order/202309/orders/search"


def _error(response, status: int, code: int, words: str | None = None) -> dict:
    payload = response.json()
    assert response.status_code == status, payload
    assert payload["code"] == code, payload
    assert payload["data"] is None
    assert payload["request_id"]
    if words:
        assert words.lower() in payload["message"].lower(), payload["message"]
    return payload


def test_unknown_app_key(sandbox, client):
    response = client.call("GET", "/authorization/202309/shops", app_key="someone-else")
    _error(response, 400, 36009004, "Invalid `app_key`")


def test_missing_app_key(sandbox, client):
    _error(
        client.call("GET", "/authorization/202309/shops", app_key=None), 400, 36009004, "app_key"
    )


@pytest.mark.parametrize(
    ("timestamp", "words"),
    [
        (None, "timestamp"),
        ("yesterday", "timestamp"),
        (-5, "lesser than 0"),
        (lambda: int(time.time()) - 301, "earlier than 5 minutes"),
        (lambda: int(time.time()) + 31, "more than 30 seconds"),
    ],
)
def test_bad_timestamps(sandbox, client, timestamp, words):
    value = timestamp() if callable(timestamp) else timestamp
    response = client.call("GET", "/authorization/202309/shops", timestamp=value)
    _error(response, 400, 36009004, words)


def test_timestamp_inside_the_window_is_accepted(sandbox, client):
    for delta in (-290, 25):
        response = client.call(
            "GET", "/authorization/202309/shops", timestamp=int(time.time()) + delta
        )
        assert response.json()["code"] == 0


def test_missing_sign(sandbox, client):
    _error(client.call("GET", "/authorization/202309/shops", sign=None), 400, 36009004, "signature")


def test_wrong_sign(sandbox, client):
    _error(
        client.call("GET", "/authorization/202309/shops", secret="not-the-secret"),
        401,
        106001,
        "`sign`",
    )


def test_missing_access_token_header(sandbox, client):
    _error(
        client.call("GET", "/authorization/202309/shops", token=None),
        401,
        36009004,
        "x-tts-access-token",
    )


def test_unknown_access_token(sandbox, client):
    _error(
        client.call("GET", "/authorization/202309/shops", token="TTP_not-a-real-token"), 401, 105001
    )


def test_expired_access_token(fresh):
    client = authorized_client(fresh)
    assert client.call("GET", "/authorization/202309/shops").json()["code"] == 0
    fresh.control.expire_tokens(which="access")
    _error(client.call("GET", "/authorization/202309/shops"), 401, 105002, "expired")


def test_shop_cipher_of_another_seller(fresh):
    other = fresh.control.add_seller(shops=1)["shops"][0]
    client = authorized_client(fresh)  # the first seller
    response = client.call("POST", SEARCH, {"page_size": 1}, {}, cipher=other["cipher"])
    _error(response, 401, 101000)
    response = client.call("POST", SEARCH, {"page_size": 1}, {}, cipher="ROW_garbage")
    _error(response, 401, 101000)


def test_missing_shop_cipher(sandbox, client):
    _error(client.call("POST", SEARCH, {"page_size": 1}, {}), 400, 106013, "shop_cipher")


def test_shop_cipher_where_it_is_not_allowed(sandbox, client):
    for path in ("/authorization/202309/shops", "/seller/202309/shops"):
        response = client.call("GET", path, cipher=sandbox.shops[0].cipher)
        _error(
            response,
            400,
            36009004,
            "Unexpected identifier. The `shop_cipher` query parameter is not required",
        )


def test_unknown_path(sandbox, client):
    _error(client.call("GET", "/order/202309/nothing"), 404, 36009009, "Invalid path")
    _error(client.call("GET", "/nope"), 404, 36009009)


def test_wrong_verb(sandbox, client):
    _error(
        client.call("GET", SEARCH, {"page_size": 1}, cipher=sandbox.shops[0].cipher),
        405,
        36009010,
        "method",
    )
    _error(client.call("POST", "/authorization/202309/shops", body={}), 405, 36009010)


def test_unknown_version_of_a_known_resource(sandbox, client):
    response = client.call(
        "POST", "/order/202401/orders/search", {"page_size": 1}, {}, cipher=sandbox.shops[0].cipher
    )
    payload = _error(response, 400, 36009014)
    assert payload["message"] == "The version name is invalid, please check and retry."


def test_path_checks_come_before_credentials(sandbox, client):
    # An unknown path is reported as such even without any credentials.
    response = client.call("GET", "/order/202309/nothing", app_key=None, sign=None, token=None)
    _error(response, 404, 36009009)


@pytest.mark.parametrize(
    ("path", "size", "code"),
    [
        (SEARCH, 0, 36009004),
        (SEARCH, 101, 36009004),
        ("/product/202309/products/search", 101, 12019109),
        ("/product/202502/products/search", 0, 12019109),
        ("/return_refund/202309/returns/search", 9, 25001001),
        ("/return_refund/202309/returns/search", 51, 25001001),
        ("/return_refund/202309/cancellations/search", 51, 25001001),
    ],
)
def test_page_size_out_of_range_is_a_business_error(sandbox, client, path, size, code):
    response = client.call("POST", path, {"page_size": size}, {}, cipher=sandbox.shops[0].cipher)
    _error(response, 200, code, "page_size")


def test_page_size_is_required_for_orders_and_products(sandbox, client):
    for path, code in ((SEARCH, 36009004), ("/product/202502/products/search", 12019109)):
        response = client.call("POST", path, {}, {}, cipher=sandbox.shops[0].cipher)
        _error(response, 200, code, "required")


def test_body_must_be_json(sandbox, client):
    response = client.call(
        "POST",
        SEARCH,
        {"page_size": 1},
        raw_body=b"order_status=UNPAID",
        cipher=sandbox.shops[0].cipher,
    )
    _error(response, 400, 36009022)


def test_bad_filter_types_are_rejected(sandbox, client):
    response = client.call(
        "POST",
        SEARCH,
        {"page_size": 1},
        {"create_time_ge": "yesterday"},
        cipher=sandbox.shops[0].cipher,
    )
    _error(response, 200, 36009004, "create_time_ge")
    response = client.call(
        "POST", SEARCH, {"page_size": 1}, {"order_status": "LOST"}, cipher=sandbox.shops[0].cipher
    )
    _error(response, 200, 36009004, "order_status")


def test_stats_count_rejections_per_code(fresh):
    client = authorized_client(fresh)
    client.call("GET", "/authorization/202309/shops", secret="wrong")
    client.call("GET", "/authorization/202309/shops", secret="wrong")
    client.call("GET", "/nope")
    stats = fresh.control.stats()
    assert stats["rejections"]["106001"] == 2
    assert stats["rejections"]["36009009"] == 1
    assert stats["requests"]["GET /authorization/202309/shops"] == 2
