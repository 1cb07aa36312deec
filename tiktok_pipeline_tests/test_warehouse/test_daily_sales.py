"""The tiktok_daily_sales view on a small hand-checked data set (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tiktok_pipeline.warehouse import ORDER_TABLES, RETURN_TABLES, Warehouse, schema
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _items(count: int, **prices: str) -> list[dict]:
    return [f.line_item(f"li{count}{n}{sorted(prices.items())}", **prices) for n in range(count)]


def _load_data_set(wh: Warehouse) -> None:
    # Factory line items: original 24.99, seller discount 3.00, platform discount 2.00;
    # order shipping 5.99 and tax 8% of sub_total, rounded to cents.
    orders = [
        f.order(
            "A", status="DELIVERED", create_time=_at("2024-06-01T10:00:00"), line_items=_items(2)
        ),
        f.order(
            "B",
            status="AWAITING_SHIPMENT",
            create_time=_at("2024-06-01T23:59:59"),
            line_items=_items(3),
        ),
        f.order("C", status="UNPAID", create_time=_at("2024-06-01T08:00:00"), line_items=_items(4)),
        f.order(
            "D", status="CANCELLED", create_time=_at("2024-06-01T09:00:00"), line_items=_items(1)
        ),
        f.order(
            "E", status="COMPLETED", create_time=_at("2024-06-02T00:00:00"), line_items=_items(1)
        ),
        f.order(
            "F",
            status="IN_TRANSIT",
            create_time=_at("2024-06-01T11:00:00"),
            currency="EUR",
            line_items=_items(
                1,
                original_price="30.00",
                seller_discount="0",
                platform_discount="0",
                currency="EUR",
            ),
        ),
    ]
    returns = [
        f.return_(
            "R1",
            return_status="RETURN_OR_REFUND_REQUEST_SUCCESS",
            refund_total="10.00",
            create_time=_at("2024-06-01T12:00:00"),
        ),
        f.return_(
            "R2",
            return_status="RETURN_OR_REFUND_REQUEST_PENDING",
            refund_total="5.00",
            create_time=_at("2024-06-01T13:00:00"),
        ),
        f.return_(
            "R3",
            return_status="REPLACEMENT_REQUEST_REFUND_SUCCESS",
            refund_total="7.50",
            create_time=_at("2024-06-03T06:00:00"),
        ),
        f.return_(
            "R4",
            return_status="RETURN_OR_REFUND_REQUEST_COMPLETE",
            refund_total="1.25",
            create_time=_at("2024-06-02T23:00:00"),
        ),
        f.return_(
            "R5",
            return_status="REFUND_OR_RETURN_REQUEST_REJECT",
            refund_total="99.00",
            create_time=_at("2024-06-02T23:00:00"),
        ),
    ]
    with wh.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, orders)
        tx.load(RETURN_TABLES, SHOP, returns)
        tx.load(
            ORDER_TABLES,
            OTHER_SHOP,
            [
                f.order(
                    "A",
                    status="DELIVERED",
                    create_time=_at("2024-06-01T10:00:00"),
                    line_items=_items(1),
                )
            ],
        )


COLUMNS = (
    "orders",
    "cancelled_orders",
    "units",
    "gross_merchandise_value",
    "seller_discounts",
    "platform_discounts",
    "net_sales",
    "shipping_fees",
    "taxes",
    "refunds",
)


def _expected(*values: str) -> dict:
    counts = dict(zip(COLUMNS[:3], (int(v) for v in values[:3]), strict=True))
    money = dict(zip(COLUMNS[3:], (Decimal(v) for v in values[3:]), strict=True))
    return counts | money


def test_daily_sales_figures(warehouse: Warehouse):
    _load_data_set(warehouse)
    view = schema.daily_sales
    with warehouse.engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(view).order_by(view.c.shop_id, view.c.day, view.c.currency)
            )
            .mappings()
            .all()
        )

    got = {(r["shop_id"], r["day"], r["currency"]): {c: r[c] for c in COLUMNS} for r in rows}
    assert got == {
        # A (2 units) + B (3 units); C is unpaid, D cancelled; R1 refunded, R2 still pending.
        (SHOP, date(2024, 6, 1), "USD"): _expected(
            "2", "1", "5", "124.95", "15.00", "10.00", "99.95", "11.98", "8.00", "10.00"
        ),
        (SHOP, date(2024, 6, 1), "EUR"): _expected(
            "1", "0", "1", "30.00", "0", "0", "30.00", "5.99", "2.40", "0"
        ),
        # E created at midnight UTC belongs to the 2nd; R4 complete counts, R5 rejected not.
        (SHOP, date(2024, 6, 2), "USD"): _expected(
            "1", "0", "1", "24.99", "3.00", "2.00", "19.99", "5.99", "1.60", "1.25"
        ),
        # A day with only a refund still appears.
        (SHOP, date(2024, 6, 3), "USD"): _expected(
            "0", "0", "0", "0", "0", "0", "0", "0", "0", "7.50"
        ),
        (OTHER_SHOP, date(2024, 6, 1), "USD"): _expected(
            "1", "0", "1", "24.99", "3.00", "2.00", "19.99", "5.99", "1.60", "0"
        ),
    }
    assert all(isinstance(r["net_sales"], Decimal) for r in rows)


def test_daily_sales_follows_updates(warehouse: Warehouse):
    order = f.order("A", status="AWAITING_SHIPMENT", update_time=100, line_items=_items(2))
    warehouse.load(ORDER_TABLES, SHOP, [order])
    warehouse.load(ORDER_TABLES, SHOP, [f.changed(order, status="CANCELLED", update_time=200)])
    with warehouse.engine.connect() as connection:
        (row,) = connection.execute(sa.select(schema.daily_sales)).mappings().all()
    assert (row["orders"], row["cancelled_orders"], row["units"]) == (0, 1, 0)
    assert row["net_sales"] == 0


def test_days_ago_and_net_sales_after_refunds(warehouse: Warehouse):
    """`WHERE days_ago < 7` is the last 7 UTC days on both backends; the difference is exact."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    orders = [
        f.order(str(n), create_time=int((today - timedelta(days=n)).timestamp())) for n in range(10)
    ]
    returns = [
        f.return_("R", refund_total="0.10", create_time=int(today.timestamp()), order_id="0")
    ]
    with warehouse.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, orders)
        tx.load(RETURN_TABLES, SHOP, returns)
    view = schema.daily_sales
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.select(view.c.day, view.c.days_ago, view.c.net_sales, view.c.refunds)
            .add_columns(view.c.net_sales_after_refunds)
            .where(view.c.days_ago < 7)
            .order_by(view.c.day)
        ).all()
    days = [(today - timedelta(days=n)).date() for n in range(6, -1, -1)]
    assert [(r.day, r.days_ago) for r in rows] == [(d, 6 - i) for i, d in enumerate(days)]
    assert rows[-1].net_sales_after_refunds == rows[-1].net_sales - Decimal("0.10")
