"""Handlers: statements, payments, withdrawals, unsettled and settled transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox import finance_render as render
from tiktok_pipeline.sandbox.api_common import Page, list_data, paginate
from tiktok_pipeline.sandbox.errors import ApiError, param_error
from tiktok_pipeline.sandbox.finance import DAY
from tiktok_pipeline.sandbox.orders import CANCELLED, MAX_LIFECYCLE, UNPAID
from tiktok_pipeline.sandbox.orders import arrays as order_arrays
from tiktok_pipeline.sandbox.paging import ListSelection
from tiktok_pipeline.sandbox.params import Call, RawData, query_choice, query_int
from tiktok_pipeline.sandbox.state import dumps

CODE = errors.FINANCE_PARAM
WITHDRAWAL_TYPES = ("WITHDRAW", "SETTLE", "TRANSFER", "REVERSE")
PAYMENT_STATUSES = ("PAID", "FAILED", "PROCESSING")


@dataclass(frozen=True)
class TimeQuery:
    """A time window, a sort order and an extra filter value."""

    ge: int | None
    lt: int | None
    descending: bool
    extra: str | None = None


def _window(call: Call, prefix: str) -> tuple[int | None, int | None]:
    ge = query_int(call, f"{prefix}_ge", CODE, lo=0)
    lt = query_int(call, f"{prefix}_lt", CODE, lo=0)
    if ge is not None and lt is not None and ge > lt:
        raise param_error(
            CODE, f"Invalid parameter. `{prefix}_ge` must not be after `{prefix}_lt`."
        )
    return ge, lt


def _page_size(call: Call) -> int:
    return query_int(call, "page_size", CODE, default=20, lo=1, hi=100)


def _required_sort(call: Call, field: str) -> bool:
    """Checks ``sort_field`` (required, one value) and returns whether the order is DESC."""
    value = call.query.get("sort_field") or ""
    if value != field:
        problem = "is required" if not value else f"does not accept `{value}`"
        raise param_error(
            CODE,
            f"Invalid parameter. `sort_field` {problem}; send `sort_field={field}` "
            "(the only supported value).",
        )
    return query_choice(call, "sort_order", ("ASC", "DESC"), "ASC", CODE) == "DESC"


def _in(value: int, ge: int | None, lt: int | None) -> bool:
    return (ge is None or value >= ge) and (lt is None or value < lt)


def _listed(page: Page, key: str, parts: list[bytes]) -> RawData:
    return list_data({"next_page_token": page.next_token, "total_count": page.total}, key, parts)


def statements(call: Call) -> RawData:
    """GET /finance/202309/statements (one statement per day, generated at 00:00 UTC)."""
    page_size = _page_size(call)
    descending = _required_sort(call, "statement_time")
    ge, lt = _window(call, "statement_time")
    status = call.query.get("payment_status") or None
    if status is not None and status not in PAYMENT_STATUSES:
        raise param_error(
            CODE, "Invalid parameter. `payment_status` must be PAID, FAILED or PROCESSING."
        )
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching statement days at snapshot ``t``."""
        days = [
            day
            for day in fin.days_until(t)
            if _in(day * DAY, ge, lt) and (status is None or fin.payment_status(day, t) == status)
        ]
        return ListSelection(days, descending)

    query = TimeQuery(ge, lt, descending, status)
    page = paginate(call, "statements", CODE, query, page_size, make)
    parts = [dumps(render.statement(fin, s, page.snapshot)) for s in fin.statements(list(page.ids))]
    return _listed(page, "statements", parts)


def payments(call: Call) -> RawData:
    """GET /finance/202309/payments and /finance/202605/payments (one per statement)."""
    page_size = _page_size(call)
    descending = _required_sort(call, "create_time")
    ge, lt = _window(call, "create_time")
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching payment days at snapshot ``t`` (a payment is created with its
        statement)."""
        return ListSelection([d for d in fin.days_until(t) if _in(d * DAY, ge, lt)], descending)

    page = paginate(call, "payments", CODE, TimeQuery(ge, lt, descending), page_size, make)
    parts = [dumps(render.payment(fin, s, page.snapshot)) for s in fin.statements(list(page.ids))]
    return _listed(page, "payments", parts)


def withdrawals(call: Call) -> RawData:
    """GET /finance/202309/withdrawals: a SETTLE entry per statement, a WITHDRAW per payment."""
    page_size = _page_size(call)
    ge, lt = _window(call, "create_time")
    types_raw = call.query.get("types") or ""
    types = {t.strip() for t in types_raw.split(",") if t.strip()}
    bad = types - set(WITHDRAWAL_TYPES)
    if bad:
        raise param_error(
            CODE,
            f"Invalid parameter. `types` has unknown values {sorted(bad)}; "
            f"use a comma-separated subset of {list(WITHDRAWAL_TYPES)}.",
        )
    kinds = [
        kind
        for kind, name in ((render.SETTLE, "SETTLE"), (render.WITHDRAW, "WITHDRAW"))
        if not types or name in types
    ]
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching entries (day * 2 + kind) at snapshot ``t``, by create time."""
        entries = []
        for day in fin.days_until(t):
            for kind in kinds:
                entity = day * 2 + kind
                created = render.withdrawal_time(entity)
                if created <= t and _in(created, ge, lt):
                    entries.append(entity)
        return ListSelection(entries)

    query = TimeQuery(ge, lt, False, ",".join(sorted(types)))
    page = paginate(call, "withdrawals", CODE, query, page_size, make)
    days = [entity // 2 for entity in page.ids]
    parts = [
        dumps(render.withdrawal(fin, s, entity % 2, page.snapshot))
        for s, entity in zip(fin.statements(days), page.ids, strict=True)
    ]
    return _listed(page, "withdrawals", parts)


def _unsettled_orders(call: Call, t: int, ge: int | None, lt: int | None) -> np.ndarray:
    """Orders created in [ge, lt) that are paid, not cancelled and not settled at ``t``."""
    book = call.shop.orders
    # Orders created longer ago than the longest lifecycle plus a day are settled or cancelled.
    lo = book.first_at_or_after(max(t - MAX_LIFECYCLE - DAY, ge or 0))
    hi = book.created_by(t)
    if lt is not None:
        hi = min(hi, book.first_at_or_after(lt))
    if hi <= lo:
        return np.zeros(0, np.int64)
    idx = np.arange(lo, hi, dtype=np.int64)
    lcs = order_arrays.lifecycles(book, idx)
    status = lcs.at(t).status
    last = (lcs.times != order_arrays.NEVER).sum(axis=1) - 1
    settle_time = (lcs.times[np.arange(len(idx)), last] // DAY + 1) * DAY
    settled = lcs.going & (settle_time <= t)
    return idx[(status != UNPAID) & (status != CANCELLED) & ~settled]


class _UnsettledSelection(ListSelection):
    """The unsettled orders at a snapshot, with the ``sum_est_*`` of all of them (computed
    with the selection, so once per walk)."""

    def __init__(self, items: np.ndarray, descending: bool, sums: dict) -> None:
        super().__init__(items, descending)
        self.sums = sums


def unsettled(call: Call) -> RawData:
    """GET /finance/202507/orders/unsettled: paid orders whose statement is not out yet."""
    page_size = _page_size(call)
    descending = _required_sort(call, "order_create_time")
    ge, lt = _window(call, "search_time")
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching order indices at snapshot ``t``."""
        idx = _unsettled_orders(call, t, ge, lt)
        return _UnsettledSelection(idx, descending, render.unsettled_sums(fin, idx.tolist(), t))

    page = paginate(call, "unsettled", CODE, TimeQuery(ge, lt, descending), page_size, make)
    parts = render.unsettled_transactions(fin, page.ids, page.snapshot)
    sums = page.selection.sums if isinstance(page.selection, _UnsettledSelection) else {}
    fields = {**sums, "next_page_token": page.next_token, "total_count": page.total}
    return list_data(fields, "transactions", parts)


def order_transactions(call: Call) -> dict:
    """GET /finance/202501/orders/{order_id}/statement_transactions."""
    world = call.shop
    i = world.orders.index_of(call.path_params["order_id"])
    if i is None or i >= world.orders.created_by(call.now):
        raise ApiError(
            errors.ORDER_NOT_OF_SELLER, "The order does not belong to the current seller."
        )
    return render.order_transactions(world.finance, i, call.now)


def statement_transactions(call: Call) -> RawData:
    """GET /finance/202501/statements/{statement_id}/statement_transactions."""
    page_size = _page_size(call)
    descending = _required_sort(call, "order_create_time")
    fin = call.shop.finance
    day = fin.day_of_statement(call.path_params["statement_id"])
    if day is None or day < fin.first_day or day * DAY > call.now:
        raise ApiError(CODE, "Invalid parameter. The statement does not exist in this shop.")
    statement = fin.statement(day)
    page = paginate(
        call,
        "statement_tx",
        CODE,
        TimeQuery(None, None, descending),
        page_size,
        lambda t: ListSelection(statement.entries(), descending),
    )
    parts = render.statement_transactions(fin, statement, page.ids)
    fields = {
        **render.statement_header(fin, statement),
        "total_count": page.total,
        "next_page_token": page.next_token,
    }
    return list_data(fields, "transactions", parts)
