"""Concurrent refreshes of one authorization make ONE call to TikTok (threads and processes)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_store.fakes import FakeTokenEndpoint, shop, token_data
from tiktok_pipeline_tests.test_store.refresh_worker import want_credentials

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"


def test_two_threads_needing_a_refresh_make_one_call(store: Store) -> None:
    store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=5)), [shop(SHOP_A), shop(SHOP_B)]
    )
    endpoint = FakeTokenEndpoint(delay=0.3)
    barrier = threading.Barrier(2)
    tokens: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker(shop_id: str) -> None:
        try:
            barrier.wait(timeout=10)
            tokens[shop_id] = store.tokens.credentials(shop_id, refresh=endpoint).access_token
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (SHOP_A, SHOP_B)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert endpoint.calls == 1
    assert tokens == {SHOP_A: "TTP_access_2", SHOP_B: "TTP_access_2"}
    stored = store.tokens.get_authorization(store.tokens.get_shop(SHOP_A).authorization_id)
    assert stored.refresh_token == "TTP_refresh_2"


def test_two_processes_needing_a_refresh_make_one_call(store: Store, database_url: str) -> None:
    store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=5)), [shop(SHOP_A), shop(SHOP_B)]
    )
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(
            target=want_credentials, args=(database_url, shop_id, counter, barrier, results)
        )
        for shop_id in (SHOP_A, SHOP_B)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    assert counter.value == 1
    assert outcomes[0][1] == outcomes[1][1] == "TTP_access_p1"
    authorization = store.tokens.list_authorizations()[0]
    assert authorization.access_token == "TTP_access_p1"
    assert authorization.refresh_token == "TTP_refresh_p1"
