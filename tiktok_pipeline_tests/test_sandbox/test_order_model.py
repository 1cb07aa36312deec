"""The order model: the array derivation (search, rendering) agrees with the one-order one
(events, finance, returns, price detail), rendering gets timestamps of any width right, and
the body cache keeps what it should.

Orders are derived twice: one at a time (``OrderBook.lifecycle/base``, readable) and a page
or a search window at a time with numpy (``orders.arrays``). Webhooks, finance and returns
use the first, Get Order List the second: a difference would make them disagree about the
same order. Checked here over many orders, times and regions.
"""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest

from tiktok_pipeline.sandbox import SandboxConfig
from tiktok_pipeline.sandbox.cache import BodyCache
from tiktok_pipeline.sandbox.catalog import REGIONS, money
from tiktok_pipeline.sandbox.orders import arrays
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.lifecycle import (
    CANCELLED,
    PATH_UNPAID_CANCEL,
    STATUS_CODES,
    STATUS_NAMES,
)
from tiktok_pipeline.sandbox.orders.search import OrderQuery, select_orders
from tiktok_pipeline.sandbox.state import SandboxState
from tiktok_pipeline.sandbox.world import ShopWorld
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR

DAY = 86400
#: Every region the catalog knows, and one it does not (USD-like defaults).
ALL_REGIONS = (*REGIONS, "XX")


def state_of(**overrides) -> SandboxState:
    """A sandbox state without a server (the model is plain functions of it)."""
    values: dict[str, Any] = dict(
        seed=11,
        shops=len(ALL_REGIONS),
        orders_per_shop=5000,
        products_per_shop=37,
        days=30,
        anchor=ANCHOR,
        frozen_clock=True,
        regions=ALL_REGIONS,
        render_cache_mb=1,
    )
    values.update(overrides)
    state = SandboxState(SandboxConfig(**values))
    state.close()
    return state


@pytest.fixture(scope="module")
def state() -> SandboxState:
    return state_of()


@pytest.mark.parametrize("days_after_anchor", [-25, -3, 0, 6])
def test_array_lifecycles_and_states_match_the_one_order_ones(state, days_after_anchor):
    t = ANCHOR + days_after_anchor * DAY
    rnd = random.Random(days_after_anchor)
    for world in state.worlds:
        book = world.orders
        hi = book.created_by(t)
        ids = sorted({rnd.randrange(hi) for _ in range(150)} | set(range(hi - 150, hi)))
        lc = arrays.lifecycles(book, np.array(ids, np.int64))
        st = lc.at(t)
        for n, i in enumerate(ids):
            one = book.lifecycle(i)
            k = len(one.times)
            assert lc.times[n, :k].tolist() == list(one.times), (world.info.region, i)
            assert lc.statuses[n, :k].tolist() == list(one.statuses)
            assert lc.times[n, k] == arrays.NEVER
            assert lc.path[n] == one.path
            assert lc.request[n] == one.request_cancel_time
            status, updated, count = book.state_at(i, t)
            assert (st.status[n], st.update_time[n], st.k[n]) == (status, updated, count)
            if one.cancel_by:
                assert ("BUYER", "SYSTEM", "SELLER")[lc.by[n]] == one.cancel_by


def test_array_attributes_match_the_order_base(state):
    rnd = random.Random(4)
    for world in state.worlds:
        book = world.orders
        ids = sorted(rnd.sample(range(book.created_by(ANCHOR)), 200))
        at = arrays.attributes(book, np.array(ids, np.int64))
        sellable = book.catalog.sellable
        for n, i in enumerate(ids):
            base = book.base(i)
            assert at.units[n] == len(base.items)
            assert [sellable[p] for p in at.picks[n, : at.units[n]]] == [
                it.sku for it in base.items
            ]
            assert book.buyer_codec.encode(int(at.buyer[n])) == base.user_id
            assert book.warehouses[at.warehouse[n]] == base.warehouse_id
            assert book.region.places[at.place[n]] == base.place
            assert ("SELLER", "TIKTOK")[int(at.tiktok[n])] == base.shipping_type


def test_unit_counts_match_the_line_items(state):
    book = state.worlds[0].orders
    ids = np.arange(0, 3000, dtype=np.int64)
    assert arrays.unit_counts(book, ids).tolist() == [len(book.base(i).items) for i in ids.tolist()]


def test_rendered_orders_agree_with_the_model(state):
    t = ANCHOR
    for world in state.worlds:
        book = world.orders
        hi = book.created_by(t)
        ids = list(range(hi - 120, hi))
        for i, body in zip(ids, world.order_renderer.render(ids, t), strict=True):
            order = json.loads(body)
            base = book.base(i)
            status, updated, _k = book.state_at(i, t)
            assert order["id"] == base.id == book.codec.encode(i)
            assert order["status"] == STATUS_NAMES[status]
            assert order["update_time"] == updated
            assert order["user_id"] == base.user_id
            assert [item["id"] for item in order["line_items"]] == [it.id for it in base.items]
            assert order["payment"]["total_amount"] == money(base.total, book.region.decimals)
            assert ("cancel_time" in order) == (status == CANCELLED)


def test_rendering_an_empty_page_gives_nothing(state):
    assert state.worlds[0].order_renderer.render([], ANCHOR) == []


def _expected_times(book: OrderBook, i: int, t: int) -> dict[str, int]:
    """The order's top-level timestamps at ``t``, from the one-order lifecycle."""
    lc = book.lifecycle(i)
    k = lc.index_at(t)
    c, status, updated = lc.times[0], lc.statuses[k - 1], lc.times[k - 1]
    want = {"create_time": c, "update_time": updated}
    paid = k > 1 and lc.path != PATH_UNPAID_CANCEL
    if paid:
        p = lc.times[1]
        want |= {"paid_time": p, "rts_sla_time": p + 2 * DAY, "delivery_sla_time": p + 8 * DAY}
    else:
        want["cancel_order_sla_time"] = c + DAY
    if status == CANCELLED:
        want["cancel_time"] = updated
    if lc.request_cancel_time and lc.request_cancel_time <= t:
        want["request_cancel_time"] = lc.request_cancel_time
    return want


@pytest.mark.parametrize(
    "anchor",
    [
        pytest.param(631_152_000, id="1990: nine digits"),
        pytest.param(1_000_000_000 + 4 * DAY, id="2001: nine and ten digits in one page"),
        pytest.param(-315_619_200, id="1960: negative"),
        pytest.param(10_000_000_000 + 3 * DAY, id="2286: ten and eleven digits in one page"),
    ],
)
def test_orders_with_timestamps_of_any_width_render_every_time_right(anchor):
    # Fast rendering writes 10-digit timestamps; other times take another layout that must
    # give the same orders (an order alone may take a different layout than in its page).
    odd = state_of(shops=2, regions=("US", "GB"), orders_per_shop=400, days=10, anchor=anchor)
    for world in odd.worlds:
        book = world.orders
        for t in (anchor - 5 * DAY, anchor, anchor + 20 * DAY):
            ids = list(range(book.created_by(t)))
            page = world.order_renderer.render(ids, t)
            for i, body in zip(ids, page, strict=True):
                order = json.loads(body)
                want = _expected_times(book, i, t)
                assert {k: order.get(k) for k in want} == want, (anchor, t, i)
                for item in order["line_items"]:
                    assert item.get("rts_time") == order.get("rts_time")
            for i in ids[:: max(1, len(ids) // 40)]:
                assert world.order_renderer.render([i], t) == [page[i]], (anchor, t, i)


def _scan(world: ShopWorld, q: OrderQuery, t: int) -> list[int]:
    """select_orders computed order by order with the one-order model."""
    book: OrderBook = world.orders
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
            asks = bool(
                lc.request_cancel_time
                and lc.request_cancel_time <= t
                and status != STATUS_CODES["CANCELLED"]
            )
            if asks != q.is_buyer_request_cancel:
                continue
        keyed.append((updated if q.sort_field == "update_time" else c, i))
    keyed.sort()
    ordered = [i for _, i in keyed]
    return ordered[::-1] if q.descending else ordered


def test_array_search_matches_a_scan_with_the_one_order_model():
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
            found = select_orders(book, q, t)
            assert list(found.slice(0, found.total)) == _scan(world, q, t), kw
        # Window bounds on real update times: ge includes them, lt excludes them.
        t = ANCHOR
        for i in rnd.sample(range(book.created_by(t)), 4):
            updated = book.state_at(i, t)[1]
            for q in (
                OrderQuery(update_ge=updated, update_lt=updated + 1),
                OrderQuery(update_ge=updated - 60, update_lt=updated),
            ):
                found = select_orders(book, q, t)
                want = _scan(world, q, t)
                assert list(found.slice(0, found.total)) == want
                assert (i in want) == (q.update_ge == updated)


# -- the body cache ------------------------------------------------------------------------


def test_body_cache_keeps_bodies_and_counts_hits():
    cache = BodyCache(1 << 20)
    cache.put_many([1, 2], [b"one", b"two"])
    assert cache.get_many([1, 2, 3]) == [b"one", b"two", None]
    cache.put_many([1], [b"ONE!"])  # a key stored again replaces its body
    assert cache.get_many([1]) == [b"ONE!"]
    assert cache.get_or_make(4, lambda: b"four") == b"four"
    assert cache.get_or_make(4, lambda: b"other") == b"four"
    stats = cache.stats()
    assert stats["bytes"] == len(b"ONE!") + len(b"two") + len(b"four")
    assert (stats["entries"], stats["hits"], stats["misses"]) == (3, 4, 2)
    cache.clear()
    assert cache.get_many([1, 2]) == [None, None]
    assert cache.stats()["bytes"] == 0


def test_body_cache_forgets_the_least_recently_used_bodies_beyond_its_size():
    cache = BodyCache(10 * 1024)
    body = b"x" * 1024
    for key in range(10):
        cache.put_many([key], [body])
    assert cache.get_many([0]) == [body]  # 0 is now the most recently used
    cache.put_many([10, 11], [body, body])
    assert cache.get_many([0, 1, 2, 3, 10, 11]) == [body, None, None, body, body, body]
    assert cache.stats()["bytes"] <= 10 * 1024
    cache.put_many([99], [b"y" * (11 * 1024)])  # larger than the whole cache: not kept
    assert cache.get_many([99]) == [None]
    assert cache.has(11) and not cache.has(99)
