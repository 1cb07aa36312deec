"""The JSON objects of the finance endpoints, from a :class:`FinanceBook`'s numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tiktok_pipeline.sandbox import fees
from tiktok_pipeline.sandbox.catalog import money
from tiktok_pipeline.sandbox.finance import (
    ADJUSTMENT_BASE,
    DAY,
    SWEEP_BATCH,
    Adjustment,
    FinanceBook,
    OrderSettlement,
    Statement,
)
from tiktok_pipeline.sandbox.finance_breakdowns import as_objects, join, members
from tiktok_pipeline.sandbox.orders import COMPLETED, DELIVERED

#: Withdrawal entry kinds: entity number = day * 2 + kind.
SETTLE, WITHDRAW = 0, 1
_ZERO_PARTS = [0] * fees.N_PARTS


def _amounts(parts: list[int], adjustment: int, dec: int) -> dict:
    revenue, fee_tax, shipping = fees.totals(parts)
    return {
        "settlement_amount": money(revenue + fee_tax + shipping + adjustment, dec),
        "revenue_amount": money(revenue, dec),
        "fee_tax_amount": money(fee_tax, dec),
        "shipping_cost_amount": money(shipping, dec),
        "adjustment_amount": money(adjustment, dec),
    }


def _no_reserve(dec: int) -> dict:
    """The reserve fields of a transaction that holds no reserve (the sandbox has none)."""
    return {
        "reserve_amount": money(0, dec),
        "reserve_id": "",
        "reserve_status": "",
        "estimated_release_time": "",
    }


def order_transaction(book: FinanceBook, s: OrderSettlement) -> bytes:
    """A statement transaction of type ORDER (JSON)."""
    dec = book.ctx.region.decimals
    head = {
        "id": book.transaction_codec.encode(s.order_index),
        "type": "ORDER",
        "order_id": book.orders.codec.encode(s.order_index),
        "order_create_time": s.create_time,
        "adjustment_id": "",
        "associated_order_id": "",
        "adjustment_order_id": "",
        "currency": book.ctx.region.currency,
        **_amounts(s.parts, 0, dec),
        **_no_reserve(dec),
    }
    return join(head, members("statement", s.parts, dec))


def adjustment_transaction(book: FinanceBook, a: Adjustment) -> bytes:
    """A statement transaction of an adjustment (tied to an order or not), JSON."""
    dec = book.ctx.region.decimals
    order_id = book.orders.codec.encode(a.order_index) if a.order_index >= 0 else ""
    head = {
        "id": book.transaction_codec.encode(a.entity),
        "type": a.type,
        "order_id": order_id,
        "order_create_time": book.orders.create_time(a.order_index) if order_id else 0,
        "adjustment_id": book.adjustment_codec.encode(a.entity - ADJUSTMENT_BASE),
        "associated_order_id": order_id,
        "adjustment_order_id": order_id,
        "currency": book.ctx.region.currency,
        **_amounts(_ZERO_PARTS, a.amount, dec),
        **_no_reserve(dec),
    }
    return join(head, members("statement", _ZERO_PARTS, dec))


def statement_transactions(book: FinanceBook, s: Statement, entities: Sequence[int]) -> list[bytes]:
    """Transactions ``entities`` (order indices or adjustment numbers) of a statement, JSON."""
    orders = [e for e in entities if e < ADJUSTMENT_BASE]
    settled = dict(zip(orders, book.settlements(orders), strict=True))
    out = []
    for e in entities:
        if e >= ADJUSTMENT_BASE:
            a = s.adjustment_of(e)
            if a is None:  # cannot happen: entities come from the statement itself
                raise KeyError(e)
            out.append(adjustment_transaction(book, a))
        else:
            settlement = settled[e]
            if settlement is None:  # cannot happen: a statement's orders are completed
                raise KeyError(e)
            out.append(order_transaction(book, settlement))
    return out


def statement(book: FinanceBook, s: Statement, t: int) -> dict:
    """A Get Statements entry as seen at ``t`` (``payment_time`` 0 until paid)."""
    dec = book.ctx.region.decimals
    status = book.payment_status(s.day, t)
    return {
        "id": book.statement_id(s.day),
        "statement_time": s.statement_time,
        "currency": book.ctx.region.currency,
        "settlement_amount": money(s.settlement, dec),
        "revenue_amount": money(s.revenue, dec),
        "fee_amount": money(s.fee_tax, dec),
        "adjustment_amount": money(s.adjustment, dec),
        "shipping_cost_amount": money(s.shipping_cost, dec),
        "net_sales_amount": money(s.revenue, dec),
        "payment_status": status,
        "payment_id": book.payment_id(s.day),
        "payment_time": book.paid_time(s.day) if status == "PAID" else 0,
    }


def statement_header(book: FinanceBook, s: Statement) -> dict:
    """The statement fields of Get Transactions by Statement (before the list)."""
    dec = book.ctx.region.decimals
    return {
        "id": book.statement_id(s.day),
        "create_time": s.statement_time,
        "status": "SETTLED",
        "currency": book.ctx.region.currency,
        "payable_amount": money(s.settlement, dec),
        "total_reserve_amount": money(0, dec),
        "total_settlement_amount": money(s.settlement, dec),
        "total_settlement_breakdown": {
            "total_revenue_amount": money(s.revenue, dec),
            "total_fee_tax_amount": money(s.fee_tax, dec),
            "total_shipping_cost_amount": money(s.shipping_cost, dec),
            "total_adjustment_amount": money(s.adjustment, dec),
        },
    }


def payment(book: FinanceBook, s: Statement, t: int) -> dict:
    """A Get Payments entry: the payment of one statement, as seen at ``t``."""
    dec = book.ctx.region.decimals
    cur = book.ctx.region.currency
    amount = {"value": money(s.settlement, dec), "currency": cur}
    status = book.payment_status(s.day, t)
    out = {
        "id": book.payment_id(s.day),
        "create_time": s.statement_time,
        "status": status,
        "amount": amount,
        "settlement_amount": dict(amount),
        "reserve_amount": {"value": money(0, dec), "currency": cur},
        "payment_amount_before_exchange": dict(amount),
        "exchange_rate": "1.000000",
        "bank_account": "***********1234",
    }
    if status == "PAID":
        out["paid_time"] = book.paid_time(s.day)
    return out


def withdrawal_time(entity: int) -> int:
    """When withdrawal entry ``entity`` appears: with its statement and payment (the SETTLE
    entry first)."""
    return entity // 2 * DAY


def withdrawal(book: FinanceBook, s: Statement, kind: int, t: int) -> dict:
    """A Get Withdrawals entry: a statement's SETTLE or its payment's WITHDRAW, at ``t``."""
    if kind == SETTLE:
        kind_name, amount, status = "SETTLE", s.settlement, "SUCCESS"
    else:
        payment_status = book.payment_status(s.day, t)
        kind_name, amount = "WITHDRAW", -s.settlement
        status = {"PAID": "SUCCESS"}.get(payment_status, payment_status)
    return {
        "id": book.withdrawal_codec.encode(s.day * 2 + kind),
        "type": kind_name,
        "amount": money(amount, book.ctx.region.decimals),
        "currency": book.ctx.region.currency,
        "status": status,
        "create_time": withdrawal_time(s.day * 2 + kind),
    }


def sku_transactions(book: FinanceBook, s: OrderSettlement) -> list[dict]:
    """Get Transactions by Order's per-SKU entries (one per line item)."""
    dec = book.ctx.region.decimals
    b = book.orders.base(s.order_index)
    products = book.orders.catalog.products
    statement_id = book.statement_id(s.statement_day)
    out = []
    for it, parts in zip(b.items, s.lines, strict=True):
        amounts = _amounts(parts, 0, dec)
        out.append(
            {
                "sku_id": it.sku.id,
                "sku_name": f"{it.sku.attr_name}: {it.sku.attr_value}",
                "product_name": products[it.sku.product_index].title,
                "statement_id": statement_id,
                "quantity": "1",
                "settlement_amount": amounts["settlement_amount"],
                "revenue_amount": amounts["revenue_amount"],
                "fee_tax_amount": amounts["fee_tax_amount"],
                "shipping_cost_amount": amounts["shipping_cost_amount"],
                **as_objects("sku", parts, dec),
            }
        )
    return out


def order_transactions(book: FinanceBook, i: int, t: int) -> dict:
    """Get Transactions by Order: the order's settlement once its statement exists at ``t``,
    else zeros and no SKU entries."""
    dec = book.ctx.region.decimals
    s = book.settlement_of(i)
    settled = s is not None and s.settle_time <= t
    parts = s.parts if s is not None and settled else _ZERO_PARTS
    amounts = _amounts(parts, 0, dec)
    skus = sku_transactions(book, s) if s is not None and settled else []
    return {
        "order_id": book.orders.codec.encode(i),
        "order_create_time": book.orders.create_time(i),
        "currency": book.ctx.region.currency,
        "revenue_amount": amounts["revenue_amount"],
        "fee_and_tax_amount": amounts["fee_tax_amount"],
        "shipping_cost_amount": amounts["shipping_cost_amount"],
        "settlement_amount": amounts["settlement_amount"],
        "sku_transactions": skus,
        "total_count": len(skus),
    }


def _unsettled_plan(
    book: FinanceBook, indices: Sequence[int], t: int
) -> tuple[list, list[int], list[int]]:
    """(lifecycles, refund cutoffs, expected settle times) of unsettled orders at ``t``."""
    lcs = [book.orders.lifecycle(i) for i in indices]
    cutoffs = []
    settle_times = []
    for lc in lcs:
        if lc.statuses[-1] == COMPLETED:
            cutoffs.append(min(t, lc.times[-1]))
            settle_times.append((lc.times[-1] // DAY + 1) * DAY)
        else:  # cancelled later: the estimate assumes the usual schedule
            cutoffs.append(t)
            settle_times.append((lc.times[1] // DAY + 9) * DAY)
    return lcs, cutoffs, settle_times


def unsettled_sums(book: FinanceBook, indices: Sequence[int], t: int) -> dict:
    """Get Unsettled Transactions' ``sum_est_*``: the estimates of every order listed."""
    totals = np.zeros(3, np.int64)
    for lo in range(0, len(indices), SWEEP_BATCH):
        chunk = indices[lo : lo + SWEEP_BATCH]
        _, cutoffs, _ = _unsettled_plan(book, chunk, t)
        parts = book.batch_parts(chunk, cutoffs).orders
        totals += np.stack(
            [
                parts[:, fees.REVENUE].sum(axis=1),
                parts[:, fees.FEE_TAX].sum(axis=1),
                parts[:, fees.SHIPPING].sum(axis=1),
            ],
            axis=1,
        ).sum(axis=0)
    revenue, fee_tax, shipping = (int(x) for x in totals)
    dec = book.ctx.region.decimals
    return {
        "sum_est_revenue_amount": money(revenue, dec),
        "sum_est_fee_amount": money(fee_tax, dec),
        "sum_est_adjustment_amount": money(0, dec),
        "sum_est_settlement_amount": money(revenue + fee_tax + shipping, dec),
    }


def unsettled_transactions(book: FinanceBook, indices: Sequence[int], t: int) -> list[bytes]:
    """Get Unsettled Transactions' entries of orders paid and not settled at ``t``: the
    amounts their settlements will have unless a refund is granted before they complete.
    ``estimated_settlement`` is the settle time once delivered, else the usual delay. JSON."""
    dec = book.ctx.region.decimals
    lcs, cutoffs, settle_times = _unsettled_plan(book, indices, t)
    parts = book.batch_parts(indices, cutoffs).orders.tolist()
    out = []
    for i, lc, order_parts, settle_time in zip(indices, lcs, parts, settle_times, strict=True):
        k = lc.index_at(t)
        status = lc.statuses[k - 1]
        revenue, fee_tax, shipping = fees.totals(order_parts)
        if status == COMPLETED:
            reason = "PENDING_STATEMENT"
        elif status < DELIVERED:
            reason = "NOT_DELIVERED"
        else:
            reason = "IN_AFTER_SALES_PERIOD"
        delivered = [
            at for at, st in zip(lc.times[:k], lc.statuses[:k], strict=True) if st == DELIVERED
        ]
        entry = {
            "id": book.transaction_codec.encode(i),
            "type": "ORDER",
            "status": "UNSETTLED",
            "order_id": book.orders.codec.encode(i),
            "order_create_time": lc.times[0],
            "adjustment_id": "",
            "adjustment_order_id": "",
            "currency": book.ctx.region.currency,
            "est_revenue_amount": money(revenue, dec),
            "est_fee_tax_amount": money(fee_tax, dec),
            "est_shipping_cost_amount": money(shipping, dec),
            "est_adjustment_amount": money(0, dec),
            "est_settlement_amount": money(revenue + fee_tax + shipping, dec),
            "unsettled_reason": reason,
            "estimated_settle_time": settle_time,
            "estimated_settlement": str(settle_time) if delivered else "7 days after delivery",
        }
        if delivered:
            entry["order_delivery_time"] = delivered[0]
        out.append(join(entry, members("unsettled", order_parts, dec)))
    return out
