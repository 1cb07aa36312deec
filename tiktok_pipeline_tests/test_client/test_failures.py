"""Error mapping and retries against the sandbox's real rejections and injected faults."""

from __future__ import annotations

import http.server
import threading

import pytest

from tiktok_pipeline.client import (
    AccessTokenInvalid,
    ConnectionFailed,
    InvalidResponse,
    RateLimited,
    RetryPolicy,
    ServerError,
    SignatureError,
    TikTokAPIError,
    TikTokConfigurationError,
    TikTokShopClient,
    TikTokTimeout,
)


def _attempts(client):
    records = []
    client.on_request(records.append)
    return records


def test_wrong_secret_is_a_signature_error(sandbox, tokens, shop):
    client = TikTokShopClient(sandbox.config.app_key, "not-the-secret", base_url=sandbox.base_url)
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    with pytest.raises(SignatureError) as caught:
        api.order.list(query={"page_size": 1})
    assert caught.value.code == 106001
    assert "TIKTOK_APP_SECRET" in str(caught.value)


def test_unknown_token_and_foreign_cipher_are_token_errors(client, tokens, sandbox, shop):
    with pytest.raises(AccessTokenInvalid):
        client.shop(shop.id, access_token="TTP_bogus", cipher=shop.cipher).order.list(
            query={"page_size": 1}
        )
    other = sandbox.control.add_seller(shops=1)["shops"][0]
    foreign = client.shop(other["id"], access_token=tokens["access_token"], cipher=other["cipher"])
    with pytest.raises(AccessTokenInvalid) as caught:
        foreign.order.list(query={"page_size": 1})
    assert caught.value.code == 101000


def test_unknown_path_and_missing_cipher(sandbox, tokens, shop):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        endpoints={"order.nope": "GET /order/202309/nope"},
    )
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    with pytest.raises(TikTokAPIError) as caught:
        api.order.nope()
    assert (caught.value.code, caught.value.http_status) == (36009009, 404)

    no_cipher = client.shop(shop.id, access_token=tokens["access_token"])
    before = sandbox.control.stats()["requests"]
    with pytest.raises(TikTokConfigurationError, match="needs the shop's cipher"):
        no_cipher.order.list(query={"page_size": 1})
    assert sandbox.control.stats()["requests"] == before  # refused before any request


def test_429_with_retry_after_is_retried_and_honoured(sandbox, client, api):
    sandbox.control.set_faults(error_429_share=1.0, retry_after=0, limit=2)
    records = _attempts(client)
    assert api.order.list(query={"page_size": 1})["code"] == 0
    assert [(r.attempt, r.http_status, r.code) for r in records] == [
        (1, 429, 36009002),
        (2, 429, 36009002),
        (3, 200, 0),
    ]


def test_a_long_retry_after_is_not_waited_for(sandbox, tokens, shop):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        retry=RetryPolicy(max_attempts=5, initial_delay=0.01, max_retry_after=1),
    )
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    sandbox.control.set_faults(error_429_share=1.0, retry_after=30, limit=1)
    with pytest.raises(RateLimited) as caught:
        api.order.list(query={"page_size": 1})
    assert caught.value.retry_after == 30


@pytest.mark.parametrize(
    "faults",
    [
        {"error_503_share": 1.0, "error_503_body": "json"},
        {"error_503_share": 1.0, "error_503_body": "html"},
        {"internal_error_share": 1.0},
        {"drop_share": 1.0},
    ],
    ids=["503-json", "503-html", "36009003", "dropped"],
)
def test_server_errors_and_dropped_connections_are_retried(sandbox, client, api, faults):
    sandbox.control.set_faults(**faults, limit=2)
    records = _attempts(client)
    assert api.order.list(query={"page_size": 1})["code"] == 0
    assert len(records) == 3
    assert all(r.error for r in records[:2]) and records[2].error is None


def test_retries_are_bounded(sandbox, client, api):
    sandbox.control.set_faults(internal_error_share=1.0)
    records = _attempts(client)
    with pytest.raises(ServerError) as caught:
        api.order.list(query={"page_size": 1})
    assert caught.value.code == 36009003
    assert len(records) == client.transport.retry.max_attempts


def test_a_503_html_page_fails_with_the_status_and_a_snippet(sandbox, client, api):
    sandbox.control.set_faults(error_503_share=1.0, error_503_body="html")
    with pytest.raises(ServerError) as caught:
        api.order.list(query={"page_size": 1})
    assert caught.value.http_status == 503
    assert "not a TikTok JSON envelope" in str(caught.value)


def test_read_timeouts_are_retried(sandbox, tokens, shop):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        timeout=(2, 0.3),
        retry=RetryPolicy(max_attempts=3, initial_delay=0.01, jitter=0),
    )
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    sandbox.control.set_faults(slow_share=1.0, slow_seconds=1.0, limit=1)
    records = _attempts(client)
    assert api.order.list(query={"page_size": 1})["code"] == 0
    assert "TikTokTimeout" in records[0].error and records[1].error is None

    sandbox.control.set_faults(slow_share=1.0, slow_seconds=1.0)
    with pytest.raises(TikTokTimeout, match=r"read timeout after 0\.3s"):
        api.order.list(query={"page_size": 1})


def test_writes_are_not_repeated_after_a_dropped_connection(sandbox, client, api):
    product = api.product.list(query={"page_size": 1})["data"]["products"][0]
    sku = product["skus"][0]
    sandbox.control.set_faults(drop_share=1.0, limit=1)
    records = _attempts(client)
    with pytest.raises(ConnectionFailed):
        api.product.update_inventory(
            params={"product_id": product["id"]},
            body={"skus": [{"id": sku["id"], "inventory": sku["inventory"]}]},
        )
    assert len(records) == 1  # the server may have applied it: do not send it twice


def test_refused_connections_are_transport_errors(tokens, shop):
    client = TikTokShopClient(
        "k", "s", base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2, initial_delay=0)
    )
    with pytest.raises(ConnectionFailed, match="refused"):
        client.shop(access_token="t", cipher="c").order.list(query={"page_size": 1})


@pytest.fixture
def html_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>Welcome to nginx!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_non_json_answer_is_an_invalid_response_with_a_snippet(html_server):
    client = TikTokShopClient("k", "secret-value", base_url=html_server)
    with pytest.raises(InvalidResponse) as caught:
        client.shop(access_token="tok-value").seller.shops()
    message = str(caught.value)
    assert "HTTP 200" in message and "Welcome to nginx" in message
    assert "TIKTOK_API_BASE_URL" in message


def test_failure_observers_hear_of_final_failures_only(sandbox, client, api):
    failures = []
    client.on_request_failed(failures.append)
    sandbox.control.set_faults(internal_error_share=1.0, limit=1)
    api.order.list(query={"page_size": 1})
    assert failures == []
    with pytest.raises(TikTokAPIError):
        api.product.get(params={"product_id": "1"})
    assert len(failures) == 1
    assert failures[0].record.action == "product.get"
    assert failures[0].error.code == failures[0].record.code


def test_the_rate_limiter_keeps_threads_under_the_sandbox_limit(sandbox, tokens, shop):
    sandbox.control.set_faults(rate_limit_qps=20)
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        qps=18,
        retry=RetryPolicy(max_attempts=1),
    )
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    records = _attempts(client)
    threads = [
        threading.Thread(target=lambda: [api.order.list(query={"page_size": 1}) for _ in range(6)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(records) == 24
    assert {r.http_status for r in records} == {200}  # not one 429
