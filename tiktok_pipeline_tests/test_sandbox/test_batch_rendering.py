"""The fast paths give exactly what the readable one-order reference code gives.

Orders are served by the batch renderer (order_batch, order_arrays), searches by array
filtering, bodies from the arena cache; each is checked here against the reference
(OrderBook.render_bytes, OrderBook.lifecycle/base) over many orders, times and regions.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tiktok_pipeline.sandbox import SandboxConfig
from tiktok_pipeline.sandbox.cache import ArenaCache
from tiktok_pipeline.sandbox.catalog import REGIONS
from tiktok_pipeline.sandbox.order_arrays import NEVER, unit_counts
from tiktok_pipeline.sandbox.orders import STATUS_CODES
from tiktok_pipeline.sandbox.search import OrderQuery, select_orders
from tiktok_pipeline.sandbox.state import SandboxState
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR

DAY = 86400
#: Every region the catalog knows, and one it does not (USD-like defaults).
ALL_REGIONS = (*REGIONS, "XX")


def state_of(**overrides) -> SandboxState:
    """A sandbox state without a server (the renderers are plain functions of it)."""
    values = dict(seed=11, shops=len(ALL_REGIONS), orders_per_shop=5000,
                  products_per_shop=37, days=30, anchor=ANCHOR, frozen_clock=True,
                  regions=ALL_REGIONS, render_cache_mb=1)
    values.update(overrides)
    state = SandboxState(SandboxConfig(**values))
    state.close()
    return state


def sample(hi: int, rnd: random.Random, n: int = 60) -> list[int]:
    """Random orders below ``hi`` plus the newest ones (the states change fastest there)."""
    return sorted({rnd.randrange(hi) for _ in range(n)} | set(range(max(0, hi - n), hi)))


def reference(book, ids: list[int], t: int) -> tuple[list[bytes], list[int], list[float]]:
    out = [book.render_bytes(i, t) for i in ids]
    return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]


def forever(valid_until: list) -> list[float]:
    """``valid_until`` with NEVER (the batch renderer's "for ever") as infinity."""
    return [float("inf") if v == NEVER else v for v in valid_until]


@pytest.fixture(scope="module")
def state() -> SandboxState:
    return state_of()


@pytest.mark.parametrize("days_after_anchor", [-29, -15, -2, 0, 1, 4, 20])
def test_batch_renderer_gives_the_reference_bytes_in_every_region(state, days_after_anchor):
    t = ANCHOR + days_after_anchor * DAY
    rnd = random.Random(days_after_anchor)
    for world in state.worlds:
        book = world.orders
        hi = book.created_by(t)
        ids = sample(hi, rnd)
        bodies, valid_from, valid_until = book.render_many(ids, t)
        want_bodies, want_from, want_until = reference(book, ids, t)
        assert bodies == want_bodies, world.info.region
        assert valid_from == want_from
        assert forever(valid_until) == want_until


def test_batch_renderer_output_is_json_of_the_documented_shape(state):
    book = state.worlds[0].orders
    t = ANCHOR
    ids = list(range(book.created_by(t) - 300, book.created_by(t)))
    bodies, valid_from, _ = book.render_many(ids, t)
    for i, body, updated in zip(ids, bodies, valid_from, strict=True):
        order = json.loads(body)
        assert order["id"] == book.codec.encode(i)
        assert order["update_time"] == updated
        assert order["status"] in STATUS_CODES
        assert order["line_items"] and all(item["id"] for item in order["line_items"])


def test_bodies_hold_until_their_next_change(state):
    book = state.worlds[1].orders
    t = ANCHOR - 3 * DAY
    ids = list(range(book.created_by(t) - 200, book.created_by(t)))
    bodies, _, valid_until = book.render_many(ids, t)
    changing = [n for n, v in enumerate(valid_until) if v != NEVER][:60]
    assert changing, "recent orders still have transitions ahead"
    for n in changing:
        # The same text up to the next transition, another one from it on.
        assert book.render_many([ids[n]], valid_until[n] - 1)[0][0] == bodies[n]
        assert book.render_many([ids[n]], valid_until[n])[0][0] != bodies[n]


def test_orders_outside_the_fast_layouts_fall_back_to_the_reference():
    # 1990: timestamps with 9 digits do not fit the fixed-width layouts.
    old = state_of(anchor=631_152_000, shops=2, regions=("US", "GB"))
    for world in old.worlds:
        book = world.orders
        t = 631_152_000
        ids = sample(book.created_by(t), random.Random(3), 40)
        bodies, valid_from, valid_until = book.render_many(ids, t)
        assert (bodies, valid_from, forever(valid_until)) == reference(book, ids, t)


def test_large_batches_are_cut_into_chunks(state):
    book = state.worlds[0].orders
    t = ANCHOR
    ids = list(range(0, book.created_by(t), 1))[:4500]
    bodies = book.render_many(ids, t)[0]
    picked = ids[::97]
    assert [bodies[n] for n in range(0, len(ids), 97)] == reference(book, picked, t)[0]


def test_unit_counts_match_the_line_items(state):
    book = state.worlds[0].orders
    ids = np.arange(0, 3000, dtype=np.int64)
    assert unit_counts(book, ids).tolist() == [len(book.base(i).items) for i in ids.tolist()]


def scan(world, q: OrderQuery, t: int) -> list[int]:
    """select_orders computed order by order with the reference lifecycle."""
    book = world.orders
    keyed = []
    for i in range(book.created_by(t)):
        c = book.create_time(i)
        if q.create_ge is not None and c < q.create_ge:
            continue
        if q.create_lt is not None and c >= q.create_lt:
            continue
        h = book.attr_hash(i)
        if q.buyer is not None and book.buyer_index(h) != q.buyer:
            continue
        if q.shipping_type is not None and book.shipping_type(h) != q.shipping_type:
            continue
        if q.warehouse_ids and book.warehouse_of(h) not in q.warehouse_ids:
            continue
        status, updated, _k = book.state_at(i, t)
        if q.update_ge is not None and updated < q.update_ge:
            continue
        if q.update_lt is not None and updated >= q.update_lt:
            continue
        if q.status is not None and status != q.status:
            continue
        if q.is_buyer_request_cancel is not None:
            lc = book.lifecycle(i)
            asks = bool(lc.request_cancel_time and lc.request_cancel_time <= t
                        and status != STATUS_CODES["CANCELLED"])
            if asks != q.is_buyer_request_cancel:
                continue
        keyed.append((updated if q.sort_field == "update_time" else c, i))
    keyed.sort()
    ordered = [i for _, i in keyed]
    return ordered[::-1] if q.descending else ordered


def test_array_search_matches_a_scan_with_the_reference_lifecycles():
    small = state_of(shops=2, orders_per_shop=3000, regions=("US", "MY"))
    rnd = random.Random(5)
    for world in small.worlds:
        book = world.orders
        for _ in range(12):
            t = ANCHOR + rnd.choice([-20, -6, 0, 2, 15]) * DAY
            start = ANCHOR - rnd.randrange(0, 32) * DAY
            kw: dict = {"descending": rnd.random() < 0.5}
            if rnd.random() < 0.6:
                kw["update_ge"] = start
                kw["update_lt"] = start + rnd.choice([3600, DAY, 5 * DAY])
            if rnd.random() < 0.3:
                kw["create_ge"] = start - 10 * DAY
            if rnd.random() < 0.4:
                kw["status"] = rnd.randrange(8)
            if rnd.random() < 0.3:
                kw["buyer"] = book.buyer_index(book.attr_hash(rnd.randrange(200)))
            if rnd.random() < 0.3:
                kw["shipping_type"] = rnd.choice(["TIKTOK", "SELLER"])
            if rnd.random() < 0.3:
                kw["warehouse_ids"] = frozenset([rnd.choice(book.warehouses)])
            if rnd.random() < 0.3:
                kw["is_buyer_request_cancel"] = rnd.random() < 0.5
            if rnd.random() < 0.5:
                kw["sort_field"] = "update_time"
            q = OrderQuery(**kw)
            found = select_orders(world, q, t)
            assert list(found.slice(0, found.total)) == scan(world, q, t), kw
        # Window bounds on real update times: ge includes them, lt excludes them.
        t = ANCHOR
        for i in rnd.sample(range(book.created_by(t)), 4):
            updated = book.state_at(i, t)[1]
            for q in (OrderQuery(update_ge=updated, update_lt=updated + 1),
                      OrderQuery(update_ge=updated - 60, update_lt=updated)):
                found = select_orders(world, q, t)
                want = scan(world, q, t)
                assert list(found.slice(0, found.total)) == want
                assert (i in want) == (q.update_ge == updated)


# -- the arena cache ---------------------------------------------------------------------


def test_arena_cache_keeps_bodies_for_their_validity():
    cache = ArenaCache(1 << 20)
    cache.put_many([1, 2], [b"one", b"two"], [10, 10], [20, NEVER])
    assert cache.get_many([1, 2, 3], 15) == [b"one", b"two", None]
    assert cache.get_many([1, 2], 20) == [None, b"two"]
    assert cache.get_many([1], 9) == [None]
    assert [bytes(v) for v in cache.get_many([2], 10**12, views=True)] == [b"two"]
    cache.put(1, 20, 30, b"ONE!")  # a new state replaces the old one
    assert cache.get_valid(1, 25) == b"ONE!"
    assert cache.stats()["bytes"] == len(b"ONE!") + len(b"two")
    cache.clear()
    assert cache.get_many([1, 2], 25) == [None, None]
    assert cache.stats()["bytes"] == 0
    cache.close()


def test_arena_cache_forgets_the_oldest_bodies_when_full():
    cache = ArenaCache(3 * 64 * 1024)  # three segments of 64 KiB
    body = bytes(range(256)) * 16  # 4 KiB
    for key in range(200):  # 800 KiB through a 192 KiB ring
        cache.put_many([key], [body + key.to_bytes(2, "big")], [0], [NEVER])
        assert cache.stats()["bytes"] <= 3 * 64 * 1024
    recent = cache.get_many(list(range(190, 200)), 5)
    assert recent == [body + k.to_bytes(2, "big") for k in range(190, 200)]
    assert cache.get_many(list(range(0, 100)), 5) == [None] * 100
    assert cache.stats()["entries"] <= 3 * 64 * 1024 // len(body)
    cache.close()


def test_arena_cache_batches_with_repeated_or_known_keys():
    cache = ArenaCache(1 << 20)
    cache.put_many([7, 7, 8], [b"a", b"bb", b"c"], [0, 0, 0], [9, 9, 9])
    assert cache.get_many([7, 8], 1) == [b"bb", b"c"]
    cache.put_many([8, 9], [b"cc", b"d"], [0, 0], [9, 9])
    assert cache.get_many([7, 8, 9], 1) == [b"bb", b"cc", b"d"]
    assert cache.stats()["bytes"] == len(b"bb") + len(b"cc") + len(b"d")
    cache.put(10, 0, 9, b"x" * (2 << 20))  # larger than a segment: not cached
    assert cache.get_valid(10, 1) is None
    cache.close()
