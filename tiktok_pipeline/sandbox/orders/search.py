"""Get Order List's search: which orders match the filters at a snapshot time, in order.

Time windows become index ranges by arithmetic (create times grow with the index; an update
happens at most ``MAX_LIFECYCLE`` after creation), so only the candidates of a window are
generated, and those with numpy, a chunk of orders at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox.orders import arrays
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.lifecycle import CANCELLED, MAX_LIFECYCLE
from tiktok_pipeline.sandbox.paging import ListSelection, RangeSelection, Selection

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


def index_window(
    book: OrderBook,
    t: int,
    create_ge: int | None,
    create_lt: int | None,
    update_ge: int | None,
    update_lt: int | None,
    max_span: int,
) -> tuple[int, int]:
    """The order index range that may hold matches of the time filters, visible at ``t``.

    ``max_span``: the longest time from an order's creation to an update of what is searched
    (the order itself, its return, its cancellation).
    """
    lo = 0 if create_ge is None else book.first_at_or_after(create_ge)
    hi = book.created_by(t)
    if create_lt is not None:
        hi = min(hi, book.first_at_or_after(create_lt))
    if update_ge is not None:
        lo = max(lo, book.first_at_or_after(update_ge - max_span))
    if update_lt is not None:
        hi = min(hi, book.first_at_or_after(update_lt))
    return lo, hi


def select_orders(book: OrderBook, q: OrderQuery, t: int) -> Selection:
    """The orders matching ``q`` at time ``t``."""
    lo, hi = index_window(
        book, t, q.create_ge, q.create_lt, q.update_ge, q.update_lt, MAX_LIFECYCLE
    )
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
            lc = arrays.lifecycles(book, idx)
            st = lc.at(t)
            keep = np.ones(len(idx), bool)
            if q.update_ge is not None:
                keep &= st.update_time >= q.update_ge
            if q.update_lt is not None:
                keep &= st.update_time < q.update_lt
            if q.status is not None:
                keep &= st.status == q.status
            if q.is_buyer_request_cancel is not None:
                asks = lc.requested_by(t) & (st.status != CANCELLED)
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
    h = arrays.mix64_array(arrays.offset(book.base_attr, idx))
    keep = np.ones(len(idx), bool)
    if q.buyer is not None:
        keep &= arrays.buyers_of(book, h) == q.buyer
    if q.shipping_type is not None:
        keep &= arrays.tiktok_shipping(h) == (q.shipping_type == "TIKTOK")
    if q.warehouse_ids:
        wanted = [n for n, w in enumerate(book.warehouses) if w in q.warehouse_ids]
        keep &= np.isin(arrays.warehouses_of(book, h), wanted)
    return keep
