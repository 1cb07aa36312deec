"""Searches: which entities match a query at a snapshot time, in serving order.

Time windows are turned into order index ranges by arithmetic (create times are monotonic
in the index; an update happens at most ``MAX_LIFECYCLE`` after creation), so only the
candidates of a window are ever generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox import order_arrays as oa
from tiktok_pipeline.sandbox.orders import (
    DAY,
    MAX_LIFECYCLE,
    OrderBook,
)
from tiktok_pipeline.sandbox.paging import ListSelection, RangeSelection, Selection
from tiktok_pipeline.sandbox.returns import MAX_RETURN_SPAN, MAX_RETURN_START
from tiktok_pipeline.sandbox.world import ShopWorld

#: Longest time from an order's creation to the last change of its cancellation.
MAX_CANCELLATION_SPAN = 2 * DAY
#: Orders examined per array pass when a search filters on state or attributes.
SCAN_CHUNK = 65536


@dataclass(frozen=True)
class OrderQuery:
    """Normalised Get Order List filters (``None``: no filter)."""

    create_ge: int | None = None
    create_lt: int | None = None
    update_ge: int | None = None
    update_lt: int | None = None
    status: int | None = None
    buyer: int | None = None
    shipping_type: str | None = None
    is_buyer_request_cancel: bool | None = None
    warehouse_ids: frozenset[str] | None = None
    sort_field: str = "create_time"
    descending: bool = True


def _index_window(book: OrderBook, t: int, create_ge: int | None, create_lt: int | None,
                  update_ge: int | None, update_lt: int | None, max_span: int) -> tuple[int, int]:
    """Order index range that may hold matches of the time filters, visible at ``t``."""
    lo = 0 if create_ge is None else book.first_at_or_after(create_ge)
    hi = book.created_by(t)
    if create_lt is not None:
        hi = min(hi, book.first_at_or_after(create_lt))
    if update_ge is not None:
        lo = max(lo, book.first_at_or_after(update_ge - max_span))
    if update_lt is not None:
        hi = min(hi, book.first_at_or_after(update_lt))
    return lo, hi


def select_orders(world: ShopWorld, q: OrderQuery, t: int) -> Selection:
    """The orders matching ``q`` at time ``t``."""
    book = world.orders
    lo, hi = _index_window(book, t, q.create_ge, q.create_lt, q.update_ge, q.update_lt,
                           MAX_LIFECYCLE)
    attr_filter = q.buyer is not None or q.shipping_type is not None or q.warehouse_ids
    by_update = q.sort_field == "update_time"
    need_state = (
        q.update_ge is not None
        or q.update_lt is not None
        or q.status is not None
        or q.is_buyer_request_cancel is not None
        or by_update
    )
    if not attr_filter and not need_state:
        return RangeSelection(lo, hi, q.descending)
    found: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    for start in range(lo, hi, SCAN_CHUNK):
        idx = np.arange(start, min(hi, start + SCAN_CHUNK), dtype=np.int64)
        if attr_filter:
            idx = idx[_attribute_mask(book, q, idx)]
        if need_state and len(idx):
            lc = oa.lifecycles(book, idx)
            st = lc.at(t)
            keep = np.ones(len(idx), bool)
            if q.update_ge is not None:
                keep &= st.update_time >= q.update_ge
            if q.update_lt is not None:
                keep &= st.update_time < q.update_lt
            if q.status is not None:
                keep &= st.status == q.status
            if q.is_buyer_request_cancel is not None:
                asks = (lc.request > 0) & (lc.request <= t) & (st.status != oa.CANCELLED)
                keep &= asks == q.is_buyer_request_cancel
            idx = idx[keep]
            keys.append(st.update_time[keep])
        found.append(idx)
    matches = np.concatenate(found) if found else np.empty(0, np.int64)
    if by_update and len(matches):
        matches = matches[np.lexsort((matches, np.concatenate(keys)))]
    return ListSelection(matches, q.descending)


def _attribute_mask(book: OrderBook, q: OrderQuery, idx: np.ndarray) -> np.ndarray:
    """Which orders of ``idx`` match the buyer, shipping type and warehouse filters."""
    h = oa.mix64_array(oa.offset(book.base_attr, idx))
    keep = np.ones(len(idx), bool)
    if q.buyer is not None:
        keep &= oa.buyers_of(book, h) == q.buyer
    if q.shipping_type is not None:
        keep &= oa.tiktok_shipping(h) == (q.shipping_type == "TIKTOK")
    if q.warehouse_ids:
        wanted = [n for n, w in enumerate(book.warehouses) if w in q.warehouse_ids]
        keep &= np.isin(oa.warehouses_of(book, h), wanted)
    return keep


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
            from_orders = {
                i // returns.every for i in q.order_indices if book.is_return_pick(i)
            }
            ks = from_orders if ks is None else ks & from_orders
        candidates = sorted(ks or ())
    else:
        lo, hi = _index_window(book, t, None, q.create_lt, q.update_ge, q.update_lt,
                               MAX_RETURN_SPAN)
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
        if q.status is not None and catalog.status(p, n) != q.status:
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
        candidates = sorted(i for i in explicit if i < visible)
    else:
        lo, hi = _index_window(book, t, None, q.create_lt, q.update_ge, q.update_lt,
                               MAX_CANCELLATION_SPAN)
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
