"""Three processes syncing one shop share its rate limit through the store.

TikTok counts calls per app and shop, whichever process makes them. The sandbox enforces 10
calls/s per shop; three processes each limited to 8 calls/s on their own make ~24 calls/s and
get throttled, while the same three sharing the store's budget stay within it.
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_client.rate_limit_worker import call_one_shop

PROCESSES = 3
CALLS = 16


@pytest.fixture(scope="module")
def sandbox():
    """One seller with one shop, throttling beyond 10 calls/s per shop."""
    config = SandboxConfig(seed=9, shops=1, orders_per_shop=20, products_per_shop=2, days=2)
    with run_sandbox(config) as running:
        yield running


def _race(sandbox, database_url: str, shared: bool) -> tuple[int, float]:
    """Three processes make CALLS calls each; returns (throttled answers, seconds)."""
    env = {
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
    }
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES + 1), context.Queue()
    args = (database_url, env, sandbox.shops[0].id, CALLS, shared, barrier, results)
    processes = [context.Process(target=call_one_shop, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=120)
    except threading.BrokenBarrierError:
        pytest.fail(f"a process failed before the race: {results.get(timeout=10)}")
    sandbox.control.reset_stats()
    sandbox.control.set_faults(rate_limit_qps=10)
    started = time.monotonic()
    outcomes = [results.get(timeout=120) for _ in processes]
    elapsed = time.monotonic() - started
    throttled = sandbox.control.stats()["faults"].get("rate_limit", 0)
    sandbox.control.clear_faults()
    for process in processes:
        process.join(timeout=60)
    assert outcomes == [("ok", CALLS)] * PROCESSES, outcomes
    return throttled, elapsed


def test_three_processes_share_one_shops_budget(sandbox, database_url: str) -> None:
    store = Store.from_url(database_url, upgrade=True)
    with store:
        from tiktok_pipeline.client import TikTokShopClient

        with TikTokShopClient(
            sandbox.config.app_key,
            sandbox.config.app_secret,
            base_url=sandbox.base_url,
            auth_base_url=sandbox.base_url,
            credentials=store.tokens,
        ) as client:
            connect_seller(client, store, sandbox.authorize())

    shared_throttled, shared_seconds = _race(sandbox, database_url, shared=True)
    alone_throttled, _ = _race(sandbox, database_url, shared=False)

    assert shared_throttled == 0
    # 48 calls at 8 calls/s in all take about 6 s: the three processes waited for each other.
    assert shared_seconds >= (PROCESSES * CALLS - 1) / 8 * 0.9
    assert alone_throttled > 0  # the same runs, each limited alone, exceed TikTok's limit
