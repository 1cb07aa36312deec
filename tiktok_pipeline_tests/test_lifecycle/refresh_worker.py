"""Runs in a spawned process: its own store and client, refreshing when the others do."""

from __future__ import annotations

from typing import Any


def refresh_in_process(
    url: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    barrier: Any,
    results: Any,
    lease_seconds: float | None = None,
) -> None:
    """Open the store, wait for the other process, run a refresh, report the outcomes.

    ``lease_seconds`` shortens the refresh lease (default: the store's).
    """
    from datetime import timedelta

    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle import refresh_expiring
    from tiktok_pipeline.store import Store
    from tiktok_pipeline.store.tokens import TokenStore

    store = Store.from_url(url)
    if lease_seconds is not None:
        store.tokens = TokenStore(store.engine, lease_duration=timedelta(seconds=lease_seconds))
    try:
        with TikTokShopClient(
            app_key,
            app_secret,
            base_url=base_url,
            auth_base_url=base_url,
            credentials=store.tokens,
            request_log=store.request_log,
            qps=None,
        ) as client:
            barrier.wait(timeout=60)
            report = refresh_expiring(client, store)
        results.put(("ok", [r.outcome.value for r in report.results]))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()
