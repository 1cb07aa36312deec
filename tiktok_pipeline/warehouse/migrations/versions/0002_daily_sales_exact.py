"""tiktok_daily_sales: exact amounts on SQLite for any client, days_ago, net_sales_after_refunds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 00:00:00

SQLite keeps an amount as the binary float nearest to TikTok's decimal, and its SUM adds those
floats (15710.7099999999 instead of 15710.71). The view now sums whole millionths instead:
``CAST(ROUND(x * 1000000) AS INTEGER)`` is the amount exactly (for amounts of at most 6 decimal
places, below 9e9), integer sums are exact, and dividing the exact integer by 1000000.0 gives
the float nearest to the exact decimal total (IEEE division rounds correctly), whatever SQLite
client reads the view. Postgres keeps NUMERIC sums (exact already).

``days_ago`` (0 = today UTC) makes "the last 7 days" one portable condition
(``WHERE days_ago < 7``): ``day >= CURRENT_DATE - 7`` compares a date with the integer 2019
on SQLite. ``net_sales_after_refunds`` is the exact difference (a float subtraction on SQLite
is not: 0.30 - 0.10 = 0.19999999999999998).
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Return statuses whose refund counts in tiktok_daily_sales.refunds (frozen here).
_REFUND_SUCCESS = (
    "'RETURN_OR_REFUND_REQUEST_SUCCESS', 'RETURN_OR_REFUND_REQUEST_COMPLETE', "
    "'REPLACEMENT_REQUEST_REFUND_SUCCESS'"
)

# Each fact row is an order or a refunded return; the view sums them per shop, UTC day and
# currency, so a day with only refunds still appears.
_DAILY_SALES = """
CREATE VIEW tiktok_daily_sales AS
SELECT
    shop_id,
    day,
    {days_ago} AS days_ago,
    currency,
    SUM(orders) AS orders,
    SUM(cancelled_orders) AS cancelled_orders,
    SUM(units) AS units,
    {gmv} AS gross_merchandise_value,
    {seller_discount} AS seller_discounts,
    {platform_discount} AS platform_discounts,
    {net_sales} AS net_sales,
    {shipping_fee} AS shipping_fees,
    {tax} AS taxes,
    {refund} AS refunds,
    {net_after_refunds} AS net_sales_after_refunds
FROM (
    SELECT
        o.shop_id AS shop_id,
        {order_day} AS day,
        o.currency AS currency,
        CASE WHEN o.counted = 1 THEN 1 ELSE 0 END AS orders,
        CASE WHEN o.status = 'CANCELLED' THEN 1 ELSE 0 END AS cancelled_orders,
        CASE WHEN o.counted = 1 THEN COALESCE(o.line_item_count, 0) ELSE 0 END AS units,
        CASE WHEN o.counted = 1 THEN o.original_total_product_price END AS gmv,
        CASE WHEN o.counted = 1 THEN o.seller_discount END AS seller_discount,
        CASE WHEN o.counted = 1 THEN o.platform_discount END AS platform_discount,
        CASE WHEN o.counted = 1 THEN o.sub_total END AS net_sales,
        CASE WHEN o.counted = 1 THEN o.shipping_fee END AS shipping_fee,
        CASE WHEN o.counted = 1 THEN o.tax END AS tax,
        NULL AS refund
    FROM (
        SELECT
            tiktok_orders.*,
            CASE WHEN COALESCE(status, '') IN ('UNPAID', 'CANCELLED') THEN 0 ELSE 1 END
                AS counted
        FROM tiktok_orders
    ) AS o
    UNION ALL
    SELECT
        r.shop_id,
        {return_day},
        r.currency,
        0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL,
        r.refund_total
    FROM tiktok_returns AS r
    WHERE r.return_status IN ({refund_success})
) AS facts
GROUP BY shop_id, day, currency
"""

_MONEY = ("gmv", "seller_discount", "platform_discount", "net_sales", "shipping_fee", "tax")


def _daily_sales_sql(dialect: str) -> str:
    if dialect == "postgresql":
        day = "({alias}.created_at AT TIME ZONE 'UTC')::date"
        days_ago = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')::date - day"
        total = "COALESCE(SUM({column}), 0)"
        to_amount = "{micros}"
    else:
        day = "date({alias}.created_at)"
        days_ago = "CAST(julianday(date('now')) - julianday(day) AS INTEGER)"
        total = "COALESCE(SUM(CAST(ROUND({column} * 1000000) AS INTEGER)), 0)"
        to_amount = "({micros}) / 1000000.0"
    sums = {name: to_amount.format(micros=total.format(column=name)) for name in _MONEY}
    difference = total.format(column="net_sales") + " - " + total.format(column="refund")
    return _DAILY_SALES.format(
        days_ago=days_ago,
        order_day=day.format(alias="o"),
        return_day=day.format(alias="r"),
        refund_success=_REFUND_SUCCESS,
        refund=to_amount.format(micros=total.format(column="refund")),
        net_after_refunds=to_amount.format(micros=difference),
        **sums,
    )


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS tiktok_daily_sales")
    op.execute(_daily_sales_sql(op.get_bind().dialect.name))


def downgrade() -> None:
    initial = importlib.import_module(
        "tiktok_pipeline.warehouse.migrations.versions.0001_initial"
    )
    op.execute("DROP VIEW IF EXISTS tiktok_daily_sales")
    op.execute(initial._daily_sales_sql(op.get_bind().dialect.name))
