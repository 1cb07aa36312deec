"""Runs in a spawned process: one store per process, all wanting a refresh at the same time."""

from __future__ import annotations

import time
from typing import Any

from tiktok_pipeline_tests.test_store.fakes import token_data


def counting_refresh(counter: Any, delay: float):
    """A refresh function that counts calls in ``counter`` (shared between processes)."""

    def refresh(refresh_token: str) -> dict[str, Any]:
        with counter.get_lock():
            counter.value += 1
            number = counter.value
        time.sleep(delay)
        return token_data(f"TTP_access_p{number}", f"TTP_refresh_p{number}")

    return refresh


def want_credentials(url: str, shop_id: str, counter: Any, barrier: Any, results: Any) -> None:
    """Open the store, wait for the others, ask for credentials, report the token."""
    from tiktok_pipeline.store import Store

    store = Store.from_url(url)
    try:
        barrier.wait(timeout=60)
        credentials = store.tokens.credentials(
            shop_id, refresh=counting_refresh(counter, delay=0.3)
        )
        results.put(("ok", credentials.access_token))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()
