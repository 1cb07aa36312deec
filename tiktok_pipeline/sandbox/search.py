"""Searches of returns, products and cancellations: what matches a query at a snapshot time.

Time windows are turned into order index ranges by arithmetic (see
:func:`~tiktok_pipeline.sandbox.orders.search.index_window`), so only the candidates of a
window are ever generated. Orders have their own search (``orders.search``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tiktok_pipeline.sandbox.orders.lifecycle import DAY
from tiktok_pipeline.sandbox.orders.search import index_window
from tiktok_pipeline.sandbox.paging import ListSelection, Selection
from tiktok_pipeline.sandbox.returns import MAX_RETURN_SPAN, MAX_RETURN_START
from tiktok_pipeline.sandbox.world import ShopWorld

#: Longest time from an order's creation to the last change of its cancellation.
MAX_CANCELLATION_SPAN = 2 * DAY


@dataclass(frozen=True)
class ReturnQuery:
    """Normalised Search Returns filters."""

    create_ge: int | None = None
    create_lt: int | None = None
    update_ge: int | None = None
    update_lt: int | None = None
    return_ks: frozenset[int] | None = None
    order_indices: frozenset[int] | None = None
    statuses: frozenset[str] | None = None
    types: frozenset[str] | None = None
    buyers: frozenset[int] | None = None
    proposed: frozenset[str] | None = None
    sort_field: str = "create_time"
    descending: bool = False


def select_returns(world: ShopWorld, q: ReturnQuery, t: int) -> Selection:
    """The returns matching ``q`` at time ``t``."""
    book = world.orders
    returns = world.returns
    visible = book.created_by(t)
    if q.return_ks is not None or q.order_indices is not None:
        ks: set[int] | None = None
        if q.return_ks is not None:
            ks = set(q.return_ks)
        if q.order_indices is not None:
            from_orders = {i // returns.every for i in q.order_indices if book.is_return_pick(i)}
            ks = from_orders if ks is None else ks & from_orders
        candidates: Sequence[int] = sorted(ks or ())
    else:
        lo, hi = index_window(book, t, None, q.create_lt, q.update_ge, q.update_lt, MAX_RETURN_SPAN)
        if q.create_ge is not None:
            lo = max(lo, book.first_at_or_after(q.create_ge - MAX_RETURN_START))
        candidates = returns.block_range(lo, hi)
    keyed = []
    by_update = q.sort_field == "update_time"
    for k in candidates:
        i = book.return_order_index(k)
        if i >= visible:
            continue
        if q.buyers is not None and book.buyer_index(book.attr_hash(i)) not in q.buyers:
            continue
        lc = returns.lifecycle(k)
        n = lc.index_at(t)
        if n == 0:
            continue
        created = lc.times[0]
        updated = lc.times[n - 1]
        if q.create_ge is not None and created < q.create_ge:
            continue
        if q.create_lt is not None and created >= q.create_lt:
            continue
        if q.update_ge is not None and updated < q.update_ge:
            continue
        if q.update_lt is not None and updated >= q.update_lt:
            continue
        if q.statuses is not None and lc.statuses[n - 1] not in q.statuses:
            continue
        if q.types is not None and lc.return_type not in q.types:
            continue
        if q.proposed is not None and returns.proposed_type(k, lc, n) not in q.proposed:
            continue
        keyed.append((updated if by_update else created, k))
    keyed.sort()
    return ListSelection([k for _, k in keyed], q.descending)


@dataclass(frozen=True)
class ProductQuery:
    """Normalised Search Products filters (time bounds inclusive)."""

    status: str | None = None
    seller_skus: frozenset[str] | None = None
    sku_ids: frozenset[str] | None = None
    create_ge: int | None = None
    create_le: int | None = None
    update_ge: int | None = None
    update_le: int | None = None


def select_products(world: ShopWorld, q: ProductQuery, t: int) -> Selection:
    """The products matching ``q`` at ``t``, newest first."""
    catalog = world.catalog
    keyed = []
    for p in catalog.products:
        if p.create_time > t:
            continue
        if q.create_ge is not None and p.create_time < q.create_ge:
            continue
        if q.create_le is not None and p.create_time > q.create_le:
            continue
        n, _, updated = catalog.state(p, t)
        if q.update_ge is not None and updated < q.update_ge:
            continue
        if q.update_le is not None and updated > q.update_le:
            continue
        if q.status is not None and catalog.status(p, n, t) != q.status:
            continue
        if q.seller_skus is not None and not any(s.seller_sku in q.seller_skus for s in p.skus):
            continue
        if q.sku_ids is not None and not any(s.id in q.sku_ids for s in p.skus):
            continue
        keyed.append((p.create_time, p.index))
    keyed.sort()
    return ListSelection([j for _, j in keyed], descending=True)


@dataclass(frozen=True)
class CancellationQuery:
    """Normalised Search Cancellations filters."""

    create_ge: int | None = None
    create_lt: int | None = None
    update_ge: int | None = None
    update_lt: int | None = None
    cancel_orders: frozenset[int] | None = None
    order_indices: frozenset[int] | None = None
    types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    buyers: frozenset[int] | None = None
    descending: bool = False


def select_cancellations(world: ShopWorld, q: CancellationQuery, t: int) -> Selection:
    """The cancellations matching ``q`` at ``t`` (entity number: the order index)."""
    book = world.orders
    visible = book.created_by(t)
    explicit = None
    if q.cancel_orders is not None:
        explicit = set(q.cancel_orders)
    if q.order_indices is not None:
        explicit = set(q.order_indices) if explicit is None else explicit & q.order_indices
    if explicit is not None:
        candidates: Sequence[int] = sorted(i for i in explicit if i < visible)
    else:
        lo, hi = index_window(
            book, t, None, q.create_lt, q.update_ge, q.update_lt, MAX_CANCELLATION_SPAN
        )
        if q.create_ge is not None:
            lo = max(lo, book.first_at_or_after(q.create_ge - MAX_CANCELLATION_SPAN))
        candidates = range(lo, hi)
    keyed = []
    for i in candidates:
        c = world.cancellations.of_order(i)
        if c is None or c.times[0] > t:
            continue
        n = sum(1 for time in c.times if time <= t)
        created, updated = c.times[0], c.times[n - 1]
        if q.create_ge is not None and created < q.create_ge:
            continue
        if q.create_lt is not None and created >= q.create_lt:
            continue
        if q.update_ge is not None and updated < q.update_ge:
            continue
        if q.update_lt is not None and updated >= q.update_lt:
            continue
        if q.types is not None and c.cancel_type not in q.types:
            continue
        if q.statuses is not None and c.statuses[n - 1] not in q.statuses:
            continue
        if q.buyers is not None and book.buyer_index(book.attr_hash(i)) not in q.buyers:
            continue
        keyed.append((created, i))
    keyed.sort()
    return ListSelection([i for _, i in keyed], q.descending)
