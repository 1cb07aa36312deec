"""Retry timing, Retry-After parsing, the rate limiter and the error mapping."""

from __future__ import annotations

import threading

import pytest

from tiktok_pipeline.client import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AuthorizationCodeInvalid,
    MissingScope,
    RateLimited,
    RefreshTokenInvalid,
    RetryPolicy,
    ServerError,
    SignatureError,
    TikTokAPIError,
)
from tiktok_pipeline.client.errors import error_from_response
from tiktok_pipeline.client.ratelimit import RateLimiter, RateLimiterRegistry
from tiktok_pipeline.client.retry import parse_retry_after


def test_backoff_grows_exponentially_within_bounds():
    policy = RetryPolicy(max_attempts=6, initial_delay=1, multiplier=2, max_delay=5, jitter=0)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 5, 5, None]


def test_jitter_stays_within_its_range():
    policy = RetryPolicy(initial_delay=1, jitter=0.5)
    delays = {policy.delay(1) for _ in range(50)}
    assert all(1 <= d <= 1.5 for d in delays)
    assert len(delays) > 1


def test_retry_after_wins_when_longer_and_gives_up_when_too_long():
    policy = RetryPolicy(initial_delay=1, jitter=0, max_retry_after=30)
    assert policy.delay(1, retry_after=7) == 7
    assert policy.delay(1, retry_after=0.1) == 1
    assert policy.delay(1, retry_after=31) is None


def test_retry_after_header_forms():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_rate_limiter_spaces_calls_and_allows_a_burst():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10, burst=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == pytest.approx([0.1, 0.1])  # three at once, then 10 per second
    assert now[0] == pytest.approx(0.2)


def test_rate_limiter_is_shared_by_threads():
    limiter = RateLimiter(200)
    waits = []

    def worker():
        waits.extend(limiter.reserve() for _ in range(10))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 calls at 200/s reserve slots 5 ms apart: the last waits about 195 ms.
    assert max(waits) == pytest.approx(0.195, abs=0.02)


def test_registry_gives_one_limiter_per_app_and_shop():
    registry = RateLimiterRegistry()
    assert registry.get("app", "shop1", 5) is registry.get("app", "shop1", 5)
    assert registry.get("app", "shop1", 5) is not registry.get("app", "shop2", 5)


@pytest.mark.parametrize(
    ("code", "status", "token_call", "expected"),
    [
        (105002, 401, None, AccessTokenExpired),
        (105001, 401, None, AccessTokenInvalid),
        (101000, 401, None, AccessTokenInvalid),
        (36009002, 429, None, RateLimited),
        (None, 429, None, RateLimited),
        (36009003, 200, None, ServerError),
        (None, 503, None, ServerError),
        (105005, 200, None, MissingScope),
        (106001, 401, None, SignatureError),
        (36004001, 200, "refresh", RefreshTokenInvalid),
        (36004005, 200, "refresh", RefreshTokenInvalid),
        (105001, 200, "refresh", RefreshTokenInvalid),
        (36004005, 200, "exchange", AuthorizationCodeInvalid),
        (36004004, 200, "exchange", AuthorizationCodeInvalid),
        (36004003, 200, "exchange", SignatureError),
        (36004003, 200, "refresh", SignatureError),
        (36004002, 200, "refresh", TikTokAPIError),
        (12052048, 200, None, TikTokAPIError),
    ],
)
def test_error_mapping(code, status, token_call, expected):
    error = error_from_response(
        {"code": code, "message": "m", "request_id": "r1"},
        http_status=status,
        endpoint="order.list",
        token_call=token_call,
    )
    assert type(error) is expected
    assert isinstance(error, TikTokAPIError)
    assert (error.code, error.http_status, error.request_id, error.endpoint) == (
        code,
        status,
        "r1",
        "order.list",
    )


def test_error_message_names_the_endpoint_code_and_next_step():
    error = error_from_response(
        {"code": 105005, "message": "you should apply auth pkg for this api", "request_id": "X"},
        http_status=200,
        endpoint="finance.statements",
    )
    text = str(error)
    assert text.startswith("finance.statements: you should apply auth pkg for this api")
    assert "code 105005" in text and "request_id X" in text
    assert "Partner Center" in text
