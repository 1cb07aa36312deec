"""The warehouse's views, described column by column like the tables.

A view is created by a migration (its SQL differs per backend and is frozen there); the Table
here describes its columns for the data dictionary and Dagster, and lets code select from it.
A test compares these columns with the database's view.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.columns import REFUND_SUCCESS_STATUSES, view_metadata
from tiktok_pipeline.warehouse.finance_schema import FEE_KEYS
from tiktok_pipeline.warehouse.types import Money

daily_sales = sa.Table(
    "tiktok_daily_sales",
    view_metadata,
    sa.Column("shop_id", sa.String, comment="TikTok shop id."),
    sa.Column(
        "day",
        sa.Date,
        comment="UTC calendar day of the orders' created_at and of the returns' created_at "
        "(a date on Postgres, `YYYY-MM-DD` text on SQLite).",
    ),
    sa.Column(
        "days_ago",
        sa.Integer,
        comment="Whole days from `day` to today (UTC) when queried: 0 today, 1 yesterday. "
        "`WHERE days_ago < 7` is the last 7 days, today included, on every backend.",
    ),
    sa.Column("currency", sa.String, comment="ISO 4217 currency of every amount on this row."),
    sa.Column(
        "orders",
        sa.Integer,
        comment="Orders created that day, excluding UNPAID and CANCELLED ones (counted orders).",
    ),
    sa.Column("cancelled_orders", sa.Integer, comment="Orders created that day now CANCELLED."),
    sa.Column(
        "units",
        sa.Integer,
        comment="Line items (= units) of the counted orders (sum of line_item_count).",
    ),
    sa.Column(
        "gross_merchandise_value",
        Money(),
        comment="Sum of original_total_product_price of the counted orders (before discounts).",
    ),
    sa.Column(
        "seller_discounts",
        Money(),
        comment="Sum of seller_discount (product discounts funded by the seller), counted orders.",
    ),
    sa.Column(
        "platform_discounts",
        Money(),
        comment="Sum of platform_discount (product discounts funded by TikTok), counted orders.",
    ),
    sa.Column(
        "net_sales",
        Money(),
        comment="Sum of sub_total of the counted orders: products after all discounts, "
        "without shipping and tax.",
    ),
    sa.Column("shipping_fees", Money(), comment="Sum of shipping_fee of the counted orders."),
    sa.Column("taxes", Money(), comment="Sum of tax of the counted orders."),
    sa.Column(
        "refunds",
        Money(),
        comment="Sum of refund_total of returns created that day whose return_status is a "
        "refund-success state (" + ", ".join(REFUND_SUCCESS_STATUSES) + "). Attributed to "
        "the day the return was requested, not the order's day.",
    ),
    sa.Column(
        "net_sales_after_refunds",
        Money(),
        comment="net_sales - refunds, computed exactly (subtracting the two columns yourself "
        "gives a binary float on SQLite, e.g. 0.19999999999999998 for 0.30 - 0.10).",
    ),
    comment="VIEW. Daily sales per shop, UTC day and currency, from tiktok_orders and "
    "tiktok_returns. A day with only refunds appears with zero orders. Every amount is an "
    "exact sum, on SQLite too and whatever client reads it.",
)

_EXACT = " An exact sum, on SQLite too."


def _settled(name: str, what: str) -> sa.Column:
    return sa.Column(name, Money(), comment=what + _EXACT)


order_settlements = sa.Table(
    "tiktok_order_settlements",
    view_metadata,
    sa.Column("shop_id", sa.String, comment="TikTok shop id."),
    sa.Column("order_id", sa.String, comment="The order settled (tiktok_orders.id)."),
    sa.Column("currency", sa.String, comment="ISO 4217 currency of every amount on this row."),
    sa.Column(
        "statement_id",
        sa.String,
        comment="The statement of the order's ORDER transaction (of the earliest statement "
        "when several ORDER transactions settle it).",
    ),
    sa.Column(
        "statement_time",
        sa.BigInteger,
        comment="That statement's statement_time (Unix seconds); NULL when the statement is "
        "not loaded.",
    ),
    sa.Column("statement_at", UTCDateTime(), comment="That statement's time, UTC."),
    _settled("revenue_amount", "Revenue of the order's transactions."),
    *(_settled(name, f"Sum of the transactions' {name}.") for name in FEE_KEYS),
    _settled("other_fees_amount", "Sum of the transactions' other_fees_amount."),
    _settled("tax_amount", "Sum of the transactions' tax_amount (every tax)."),
    _settled(
        "fee_tax_amount",
        "Fees and taxes: the fee columns + other_fees_amount + tax_amount.",
    ),
    _settled("shipping_cost_amount", "Shipping cost of the order's transactions."),
    _settled(
        "adjustment_amount",
        "Adjustments: of the ORDER transactions and of the adjustments whose "
        "associated_order_id is the order (reimbursements, chargebacks...).",
    ),
    _settled(
        "settlement_amount",
        "What the order paid the seller: revenue + fee_tax + shipping_cost + adjustment.",
    ),
    sa.Column(
        "payment_id",
        sa.String,
        comment="The payment of that statement (tiktok_statements.payment_id).",
    ),
    sa.Column(
        "payment_status",
        sa.String,
        comment="That statement's payment_status: PAID, FAILED or PROCESSING.",
    ),
    sa.Column(
        "paid_at",
        UTCDateTime(),
        comment="When that payment reached the bank (tiktok_payments.paid_at); NULL until "
        "then or when the payment is not loaded.",
    ),
    comment="VIEW. One row per settled order (an order with an ORDER transaction in "
    "tiktok_statement_transactions) and currency: its settlement added up over its "
    "transactions and the adjustments tied to it, with the statement and payment that paid "
    "it out. Every amount is an exact sum, on SQLite too and whatever client reads it.",
)
