"""Runs in a spawned process: one "run" calling one shop as fast as its rate limit allows."""

from __future__ import annotations

from typing import Any


def call_one_shop(
    url: str,
    env: dict[str, str],
    shop_id: str,
    calls: int,
    shared: bool,
    barrier: Any,
    results: Any,
) -> None:
    """Make ``calls`` calls for ``shop_id`` at 8 calls/s, the budget shared through the store
    when ``shared`` (else this process's own); report ``("ok", calls)`` or the error."""
    import os

    os.environ.update(env)
    from tiktok_pipeline.client import RetryPolicy, TikTokShopClient
    from tiktok_pipeline.store import Store

    try:
        with (
            Store.from_url(url) as store,
            TikTokShopClient.from_env(
                credentials=store.tokens,
                rate_limits=store.rate_limits if shared else None,
                qps=8,
                retry=RetryPolicy(max_attempts=8, initial_delay=0.05, jitter=0.0),
            ) as client,
        ):
            api = client.shop(shop_id)
            api.seller.shops()  # credentials loaded before the race starts
            barrier.wait(timeout=60)
            for _ in range(calls):
                api.order.list(query={"page_size": 1})
        results.put(("ok", calls))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
        barrier.abort()  # the test stops waiting for the race to start
