"""Faults on demand: rate limits, error answers, latency, slow and dropped responses."""

from __future__ import annotations

import pytest
import requests

from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client

SHOPS = "/authorization/202309/shops"


@pytest.fixture
def client(fresh):
    return authorized_client(fresh)


def test_rate_limit_per_app_and_shop(fresh, client):
    fresh.control.set_faults(rate_limit_qps=2, retry_after=3)
    cipher_a, cipher_b = fresh.shops[0].cipher, fresh.shops[1].cipher
    answers = [client.call("GET", "/event/202309/webhooks", cipher=cipher_a) for _ in range(8)]
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 3  # at most 2 per second get through
    for response in limited:
        assert response.json()["code"] == 36009002
        assert response.headers["Retry-After"] == "3"
    # The limit is per (app, shop): the other shop still has its quota.
    assert client.call("GET", "/event/202309/webhooks", cipher=cipher_b).status_code == 200
    assert fresh.control.stats()["faults"]["rate_limit"] == len(limited)


def test_share_of_429_with_a_limit(fresh, client):
    fresh.control.set_faults(error_429_share=1.0, limit=2)
    codes = [client.call("GET", SHOPS).status_code for _ in range(4)]
    assert codes == [429, 429, 200, 200]


@pytest.mark.parametrize("body", ["json", "html"])
def test_503_answers(fresh, client, body):
    fresh.control.set_faults(error_503_share=1.0, error_503_body=body)
    response = client.call("GET", SHOPS)
    assert response.status_code == 503
    if body == "json":
        assert response.json()["code"] == 36009003
    else:
        assert response.headers["content-type"].startswith("text/html")
        with pytest.raises(ValueError):
            response.json()


def test_internal_error_share(fresh, client):
    fresh.control.set_faults(internal_error_share=1.0)
    response = client.call("GET", SHOPS)
    assert response.status_code == 200
    assert response.json()["code"] == 36009003


def test_faults_apply_to_token_calls_too(fresh, client):
    fresh.control.set_faults(error_429_share=1.0)
    assert client.token_refresh("whatever").status_code == 429


def test_faults_never_touch_control_paths(fresh, client):
    fresh.control.set_faults(error_503_share=1.0, drop_share=1.0)
    assert fresh.control.state()["faults"]["drop_share"] == 1.0
    assert requests.get(f"{fresh.base_url}/sandbox", timeout=5).status_code == 200
    fresh.control.clear_faults()
    assert client.call("GET", SHOPS).status_code == 200


def test_faults_can_target_paths(fresh, client):
    fresh.control.set_faults(error_503_share=1.0, paths=["/order/"])
    assert client.call("GET", SHOPS).status_code == 200
    response = client.call(
        "POST", "/order/202309/orders/search", {"page_size": 1}, {}, cipher=fresh.shops[0].cipher
    )
    assert response.status_code == 503


def test_latency_makes_a_short_timeout_fail(fresh, client):
    fresh.control.set_faults(latency_ms=1500)
    with pytest.raises(requests.Timeout):
        client.call("GET", SHOPS, timeout=0.3)
    fresh.control.clear_faults()
    assert client.call("GET", SHOPS, timeout=5).status_code == 200


def test_slow_answers_pass_a_read_timeout(fresh, client):
    fresh.control.set_faults(slow_share=1.0, slow_seconds=1, limit=2)
    with pytest.raises(requests.Timeout):
        client.call("GET", SHOPS, timeout=0.3)
    # A patient client still gets its (late) answer, body and signature intact.
    late = client.call(
        "POST",
        "/order/202309/orders/search",
        {"page_size": 1},
        {},
        cipher=fresh.shops[0].cipher,
        timeout=10,
    )
    assert late.status_code == 200 and late.json()["code"] == 0
    assert fresh.control.stats()["faults"]["slow"] == 2


def test_dropped_connections(fresh, client):
    fresh.control.set_faults(drop_share=1.0, limit=1)
    with pytest.raises(requests.ConnectionError):
        client.call("GET", SHOPS)
    assert client.call("GET", SHOPS).status_code == 200
    assert fresh.control.stats()["faults"]["drop"] == 1


def test_unknown_fault_settings_are_rejected(fresh):
    with pytest.raises(RuntimeError, match="unknown fault setting"):
        fresh.control.set_faults(error_418_share=1.0)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        fresh.control.set_faults(error_429_share=2)
