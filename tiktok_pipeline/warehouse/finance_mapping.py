"""TikTok Finance API objects -> warehouse rows (statements, statement transactions, payments,
withdrawals, unsettled transactions). Pure functions, like :mod:`.mapping`.

A breakdown key with a column of its own lands in that column; every other key TikTok sends
is added to the breakdown's ``other_*`` column (taxes: to ``tax_amount``), so the columns
always add up exactly to the transaction's totals, whatever keys TikTok adds later.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tiktok_pipeline.warehouse import convert
from tiktok_pipeline.warehouse.finance_schema import (
    FEE_KEYS,
    OTHER_FEES,
    OTHER_REVENUE,
    OTHER_SHIPPING,
    REVENUE_KEYS,
    SHIPPING_KEYS,
    TAX_KEYS,
    TAX_TOTAL,
)
from tiktok_pipeline.warehouse.mapping import (
    Context,
    Prepared,
    Row,
    Serialized,
    finish_row,
    read_amounts,
    read_field,
    read_object,
    read_texts,
    read_times,
    required_id,
)

_REVENUE = tuple(REVENUE_KEYS)
_FEES = tuple(FEE_KEYS)
_TAXES = tuple(TAX_KEYS)
_SHIPPING = tuple(SHIPPING_KEYS)
_TOTALS = (
    "settlement_amount",
    "revenue_amount",
    "fee_tax_amount",
    "shipping_cost_amount",
    "adjustment_amount",
)
_ESTIMATES = (
    "est_revenue_amount",
    "est_fee_tax_amount",
    "est_shipping_cost_amount",
    "est_adjustment_amount",
    "est_settlement_amount",
)
_STATEMENT_AMOUNTS = (
    "settlement_amount",
    "revenue_amount",
    "fee_amount",
    "adjustment_amount",
    "shipping_cost_amount",
    "net_sales_amount",
)
_NO_CHILDREN: dict[str, list[Row]] = {}


#: Breakdown keys TikTok documents as details of other amounts, not parts of the breakdown's
#: total ("the sum of all contributory amounts"): the affiliate commission before the
#: creator's income tax (``affiliate_commission_amount`` is what is paid), and in unsettled
#: transactions the buyer's sales tax and retail delivery fee. Summing them would count twice.
DETAIL_KEYS = frozenset(
    {
        "affiliate_commission_amount_before_pit",
        "affiliate_commission_before_pit_amount",
        "pit_withheld_from_ads_commission_amount",
        "retail_delivery_fee_amount",
        "retail_delivery_fee_payment_amount",
        "retail_delivery_fee_refund_amount",
        "sales_tax_amount",
        "sales_tax_payment_amount",
        "sales_tax_refund_amount",
    }
)


def _sum_of(data: dict[str, Any], skip: tuple[str, ...], path: str) -> Decimal:
    """The exact sum of ``data``'s contributory amounts under every key not in ``skip`` (0 for
    none). Nested objects (``supplementary_component``: what the buyer paid, the discounts)
    detail the amounts beside them and are kept in ``raw`` only."""
    total = Decimal(0)
    for key, value in data.items():
        if key in skip or key in DETAIL_KEYS or isinstance(value, dict | list):
            continue
        amount = read_field(convert.money, data, path, key)
        if amount is not None:
            total += amount
    return total


def _breakdown(
    row: Row,
    data: Any,
    path: str,
    known: tuple[str, ...],
    rest: str,
    *,
    rest_counts_known: bool = False,
) -> None:
    """Sets ``known`` columns and ``rest`` (the other keys' sum) from the object ``data``;
    all None when TikTok sent no such object."""
    if data is None:
        for name in known:
            row[name] = None
        row[rest] = None
        return
    breakdown = read_object(data, path)
    read_amounts(row, breakdown, known, path)
    row[rest] = _sum_of(breakdown, () if rest_counts_known else known, path)


def breakdown_rows(row: Row, data: dict[str, Any], path: str = "") -> None:
    """Sets the revenue, fee/tax and shipping breakdown columns of ``row`` from ``data``."""
    _breakdown(
        row, data.get("revenue_breakdown"), f"{path}revenue_breakdown.", _REVENUE, OTHER_REVENUE
    )
    fee_tax_path = f"{path}fee_tax_breakdown."
    fee_tax = read_object(data.get("fee_tax_breakdown"), fee_tax_path)
    _breakdown(row, fee_tax.get("fee"), f"{fee_tax_path}fee.", _FEES, OTHER_FEES)
    _breakdown(
        row, fee_tax.get("tax"), f"{fee_tax_path}tax.", _TAXES, TAX_TOTAL, rest_counts_known=True
    )
    _breakdown(
        row,
        data.get("shipping_cost_breakdown"),
        f"{path}shipping_cost_breakdown.",
        _SHIPPING,
        OTHER_SHIPPING,
    )


def statement_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """The ``tiktok_statements`` row of one statement object."""
    statement_id = required_id(data, "id", "the statement", "")
    row: Row = {"shop_id": ctx.shop_id, "id": statement_id}
    read_times(row, data, (("statement_time", "statement_at"),), "")
    read_texts(row, data, ("currency", "payment_status", "payment_id"), "")
    read_amounts(row, data, _STATEMENT_AMOUNTS, "")
    return Prepared(statement_id, finish_row(row, ctx, serialized), _NO_CHILDREN)


def statement_transaction_rows(
    data: dict[str, Any], ctx: Context, serialized: Serialized
) -> Prepared:
    """The ``tiktok_statement_transactions`` row of one transaction object (with the
    ``statement_id`` the fetch added)."""
    transaction_id = required_id(data, "id", "the statement transaction", "")
    row: Row = {
        "shop_id": ctx.shop_id,
        "id": transaction_id,
        "statement_id": required_id(data, "statement_id", "the statement transaction", ""),
    }
    read_texts(
        row,
        data,
        ("type", "order_id", "adjustment_id", "associated_order_id", "currency"),
        "",
    )
    read_times(row, data, (("order_create_time", "order_created_at"),), "")
    read_amounts(row, data, _TOTALS, "")
    breakdown_rows(row, data)
    return Prepared(transaction_id, finish_row(row, ctx, serialized), _NO_CHILDREN)


def _value_and_currency(data: dict[str, Any], key: str) -> tuple[Decimal | None, str | None]:
    """``{value, currency}`` as an exact amount and its currency (a bare string: no currency)."""
    value = data.get(key)
    if value is None or value.__class__ is not dict:
        return read_field(convert.money, data, "", key), None
    path = f"{key}."
    return read_field(convert.money, value, path, "value"), read_field(
        convert.text, value, path, "currency"
    )


def payment_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """The ``tiktok_payments`` row of one payment object."""
    payment_id = required_id(data, "id", "the payment", "")
    row: Row = {"shop_id": ctx.shop_id, "id": payment_id}
    read_times(row, data, (("create_time", "created_at"), ("paid_time", "paid_at")), "")
    read_texts(row, data, ("status", "bank_account"), "")
    currencies = []
    for key in ("amount", "settlement_amount", "reserve_amount"):
        row[key], currency = _value_and_currency(data, key)
        currencies.append(currency)
    row["currency"] = next((c for c in currencies if c), None)
    before, before_currency = _value_and_currency(data, "payment_amount_before_exchange")
    row["payment_amount_before_exchange"] = before
    row["payment_amount_before_exchange_currency"] = before_currency or None
    row["exchange_rate"] = read_field(convert.money, data, "", "exchange_rate")
    return Prepared(payment_id, finish_row(row, ctx, serialized), _NO_CHILDREN)


def withdrawal_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """The ``tiktok_withdrawals`` row of one withdrawal object."""
    withdrawal_id = required_id(data, "id", "the withdrawal", "")
    row: Row = {"shop_id": ctx.shop_id, "id": withdrawal_id}
    read_texts(row, data, ("type", "status", "currency"), "")
    read_amounts(row, data, ("amount",), "")
    read_times(row, data, (("create_time", "created_at"),), "")
    return Prepared(withdrawal_id, finish_row(row, ctx, serialized), _NO_CHILDREN)


def unsettled_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """The ``tiktok_unsettled_transactions`` row of one unsettled transaction object."""
    transaction_id = required_id(data, "id", "the unsettled transaction", "")
    row: Row = {"shop_id": ctx.shop_id, "id": transaction_id}
    read_texts(row, data, ("order_id", "type", "status", "currency", "unsettled_reason"), "")
    read_times(
        row,
        data,
        (
            ("order_create_time", "order_created_at"),
            ("estimated_settle_time", "estimated_settle_at"),
        ),
        "",
    )
    read_amounts(row, data, _ESTIMATES, "")
    breakdown_rows(row, data)
    return Prepared(transaction_id, finish_row(row, ctx, serialized), _NO_CHILDREN)
