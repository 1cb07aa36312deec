"""Handlers: statements, payments, withdrawals, unsettled and settled transactions."""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.api_common import list_data, paginate
from tiktok_pipeline.sandbox.catalog import money
from tiktok_pipeline.sandbox.errors import ApiError, param_error
from tiktok_pipeline.sandbox.finance import DAY
from tiktok_pipeline.sandbox.orders import (
    CANCELLED,
    COMPLETED,
    DELIVERED,
    MAX_LIFECYCLE,
    UNPAID,
)
from tiktok_pipeline.sandbox.paging import ListSelection
from tiktok_pipeline.sandbox.params import Call, RawData, query_choice, query_int
from tiktok_pipeline.sandbox.state import dumps

CODE = errors.FINANCE_PARAM


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


def _required_sort(call: Call, field: str) -> bool:
    if "sort_field" not in call.query:
        raise param_error(
            CODE, f"Invalid parameter. `sort_field` is required; the only value is `{field}`."
        )
    query_choice(call, "sort_field", (field,), field, CODE)
    return query_choice(call, "sort_order", ("ASC", "DESC"), "ASC", CODE) == "DESC"


def _in(value: int, ge: int | None, lt: int | None) -> bool:
    return (ge is None or value >= ge) and (lt is None or value < lt)


def statements(call: Call) -> RawData:
    """GET /finance/202309/statements (one statement per day, generated at 00:00 UTC)."""
    page_size = query_int(call, "page_size", CODE, default=20, lo=1, hi=100)
    descending = _required_sort(call, "statement_time")
    ge, lt = _window(call, "statement_time")
    status = call.query.get("payment_status") or None
    if status is not None and status not in ("PAID", "FAILED", "PROCESSING"):
        raise param_error(
            CODE, "Invalid parameter. `payment_status` must be PAID, FAILED or PROCESSING."
        )
    query = TimeQuery(ge, lt, descending, status)
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching entity numbers at snapshot ``t``."""
        days = [
            day
            for day in fin.days_until(t)
            if _in(day * DAY, ge, lt) and (status is None or fin.payment_status(day, t) == status)
        ]
        return ListSelection(days, descending)

    page = paginate(call, "statements", CODE, query, page_size, make)
    parts = [dumps(fin.render_statement(s, page.snapshot)) for s in fin.statements(list(page.ids))]
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "statements", parts
    )


def payments(call: Call) -> RawData:
    """GET /finance/202309/payments and /finance/202605/payments (one per statement)."""
    page_size = query_int(call, "page_size", CODE, default=20, lo=1, hi=100)
    descending = _required_sort(call, "create_time")
    ge, lt = _window(call, "create_time")
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching entity numbers at snapshot ``t``."""
        days = [
            day
            for day in fin.days_until(t)
            if day * DAY + 3600 <= t and _in(day * DAY + 3600, ge, lt)
        ]
        return ListSelection(days, descending)

    page = paginate(call, "payments", CODE, TimeQuery(ge, lt, descending), page_size, make)
    parts = [dumps(fin.render_payment(s, page.snapshot)) for s in fin.statements(list(page.ids))]
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "payments", parts
    )


def withdrawals(call: Call) -> RawData:
    """GET /finance/202309/withdrawals (a SETTLE entry per statement)."""
    page_size = query_int(call, "page_size", CODE, default=20, lo=1, hi=100)
    ge, lt = _window(call, "create_time")
    types_raw = call.query.get("types") or ""
    types = {t.strip() for t in types_raw.split(",") if t.strip()}
    bad = types - {"WITHDRAW", "SETTLE", "TRANSFER", "REVERSE"}
    if bad:
        raise param_error(CODE, f"Invalid parameter. `types` has unknown values {sorted(bad)}.")
    fin = call.shop.finance

    def make(t: int) -> ListSelection:
        """The matching entity numbers at snapshot ``t``."""
        if types and "SETTLE" not in types:
            return ListSelection([])
        days = [
            day
            for day in fin.days_until(t)
            if day * DAY + 7200 <= t and _in(day * DAY + 7200, ge, lt)
        ]
        return ListSelection(days)

    query = TimeQuery(ge, lt, False, ",".join(sorted(types)))
    page = paginate(call, "withdrawals", CODE, query, page_size, make)
    parts = [dumps(fin.render_withdrawal(s)) for s in fin.statements(list(page.ids))]
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "withdrawals", parts
    )


def unsettled(call: Call) -> RawData:
    """GET /finance/202507/orders/unsettled: paid orders not completed (settled) yet."""
    page_size = query_int(call, "page_size", CODE, default=20, lo=1, hi=100)
    ge, lt = _window(call, "search_time")
    query_choice(call, "sort_field", ("order_create_time",), "order_create_time", CODE)
    descending = query_choice(call, "sort_order", ("ASC", "DESC"), "ASC", CODE) == "DESC"
    world = call.shop
    book = world.orders

    def make(t: int) -> ListSelection:
        """The matching entity numbers at snapshot ``t``."""
        lo = book.first_at_or_after(max(t - MAX_LIFECYCLE, ge or 0))
        hi = book.created_by(t)
        if lt is not None:
            hi = min(hi, book.first_at_or_after(lt))
        out = []
        for i in range(lo, hi):
            lc = book.lifecycle(i)
            k = lc.index_at(t)
            status = lc.statuses[k - 1]
            if status not in (UNPAID, CANCELLED, COMPLETED):
                out.append(i)
        return ListSelection(out, descending)

    page = paginate(call, "unsettled", CODE, TimeQuery(ge, lt, descending), page_size, make)
    dec = world.ctx.region.decimals
    parts = []
    for i in page.ids:
        b = book.base(i)
        lc = book.lifecycle(i)
        k = lc.index_at(page.snapshot)
        status = lc.statuses[k - 1]
        revenue = sum(it.sale + it.platform_discount for it in b.items)
        fee = -(revenue * 8 // 100)
        shipping = -b.shipping_seller_discount
        parts.append(
            dumps(
                {
                    "id": world.finance.transaction_codec.encode(i),
                    "type": "ORDER",
                    "status": "UNSETTLED",
                    "order_id": b.id,
                    "order_create_time": b.create_time,
                    "currency": world.ctx.region.currency,
                    "est_revenue_amount": money(revenue, dec),
                    "est_fee_tax_amount": money(fee, dec),
                    "est_shipping_cost_amount": money(shipping, dec),
                    "est_settlement_amount": money(revenue + fee + shipping, dec),
                    "unsettled_reason": "NOT_DELIVERED"
                    if status < DELIVERED
                    else "IN_AFTER_SALES_PERIOD",
                    "estimated_settle_time": lc.times[-1] // DAY * DAY + DAY,
                }
            )
        )
    return list_data(
        {"next_page_token": page.next_token, "total_count": page.total}, "transactions", parts
    )


def order_transactions(call: Call) -> dict:
    """GET /finance/202501/orders/{order_id}/statement_transactions."""
    world = call.shop
    order_id = call.path_params["order_id"]
    i = world.orders.index_of(order_id)
    if i is None or i >= world.orders.created_by(call.now):
        raise ApiError(
            errors.ORDER_NOT_OF_SELLER, "The order does not belong to the current seller."
        )
    data = world.finance.order_transactions(i, call.now)
    if data is None:
        b = world.orders.base(i)
        zero = money(0, world.ctx.region.decimals)
        return {
            "order_id": order_id,
            "order_create_time": b.create_time,
            "currency": world.ctx.region.currency,
            "revenue_amount": zero,
            "fee_and_tax_amount": zero,
            "shipping_cost_amount": zero,
            "settlement_amount": zero,
            "sku_transactions": [],
        }
    return data


def statement_transactions(call: Call) -> RawData:
    """GET /finance/202501/statements/{statement_id}/statement_transactions."""
    page_size = query_int(call, "page_size", CODE, default=20, lo=1, hi=100)
    descending = _required_sort(call, "order_create_time")
    world = call.shop
    fin = world.finance
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
        lambda t: ListSelection(fin.statement_orders(day), descending),
    )
    parts = []
    for i in page.ids:
        s = fin.settlement_of(i)
        if s is not None:
            parts.append(dumps(fin.render_order_transaction(s, day)))
    dec = world.ctx.region.decimals
    fields = {
        "id": fin.statement_id(day),
        "create_time": statement.statement_time,
        "status": "SETTLED",
        "currency": world.ctx.region.currency,
        "payable_amount": money(statement.settlement, dec),
        "total_reserve_amount": money(0, dec),
        "total_settlement_amount": money(statement.settlement, dec),
        "total_settlement_breakdown": {
            "total_revenue_amount": money(statement.revenue, dec),
            "total_shipping_cost_amount": money(statement.shipping_cost, dec),
            "total_fee_tax_amount": money(statement.fee_tax, dec),
            "total_adjustment_amount": money(statement.adjustment, dec),
        },
        "total_count": page.total,
        "next_page_token": page.next_token,
    }
    return list_data(fields, "transactions", parts)
