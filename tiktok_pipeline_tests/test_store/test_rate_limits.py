"""Rate limit budgets shared through the store: one (app, shop) budget for every process."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tiktok_pipeline.store import Store
from tiktok_pipeline.store.rate_limits import SharedRateLimiter


class FakeTime:
    """A clock that sleeping moves forward."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _limiter(store: Store, clock: FakeTime, qps: float = 10, burst: int = 1) -> SharedRateLimiter:
    return SharedRateLimiter(store.engine, "app:shop", qps, burst, clock=clock, sleep=clock.sleep)


def test_two_limiters_of_one_budget_space_their_calls_together(store: Store) -> None:
    """Two processes (two limiters, one database) at 10 calls/s: every call 0.1 s apart."""
    clock = FakeTime()
    first, second = _limiter(store, clock), _limiter(store, clock)

    waits = [limiter.reserve() for limiter in (first, second, first, second)]

    assert [round(w, 6) for w in waits] == [
        0.0,
        0.1,
        0.2,
        0.3,
    ]


def test_a_burst_is_allowed_then_the_spacing_applies(store: Store) -> None:
    clock = FakeTime()
    limiter = _limiter(store, clock, qps=10, burst=3)

    waits = [round(limiter.reserve(), 6) for _ in range(5)]

    assert waits == [0.0, 0.0, 0.0, 0.1, 0.2]


def test_an_idle_budget_does_not_save_up_calls(store: Store) -> None:
    clock = FakeTime()
    limiter = _limiter(store, clock)
    limiter.acquire()
    clock.now += 60

    assert [round(limiter.reserve(), 6) for _ in range(2)] == [0.0, 0.1]


def test_budgets_of_other_shops_are_independent(store: Store) -> None:
    clock = FakeTime()
    mine = _limiter(store, clock)
    other = SharedRateLimiter(store.engine, "app:other", 10, 1, clock=clock, sleep=clock.sleep)

    assert [mine.reserve(), other.reserve()] == [0.0, 0.0]


def test_the_store_hands_out_one_limiter_per_budget(store: Store) -> None:
    assert store.rate_limits.get("app", "shop", 10) is store.rate_limits.get("app", "shop", 10)
    assert store.rate_limits.get("app", "shop", 10) is not store.rate_limits.get("app", "x", 10)


def test_an_unreachable_database_limits_the_process_alone_and_says_so_once(
    store: Store, caplog
) -> None:
    clock = FakeTime()
    limiter = _limiter(store, clock)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE tiktok_rate_limits"))

    with caplog.at_level(logging.WARNING, logger="tiktok_pipeline.store.rate_limits"):
        waits = [round(limiter.acquire(), 6) for _ in range(3)]

    assert waits == [0.0, 0.1, 0.1]  # each sleep moved the clock: 0.1 s apart
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
