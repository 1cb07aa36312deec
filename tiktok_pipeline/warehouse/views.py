"""The warehouse's views, described column by column like the tables.

A view is created by a migration (its SQL differs per backend and is frozen there); the Table
here describes its columns for the data dictionary and Dagster, and lets code select from it.
A test compares these columns with the database's view.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.warehouse.columns import REFUND_SUCCESS_STATUSES, view_metadata
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
