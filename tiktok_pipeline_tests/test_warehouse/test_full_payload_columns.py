"""The parts of TikTok's full payloads analysts need land in their own columns, exactly.

The sandbox's orders, returns, products (over its truth endpoint) and cancellations (over the
signed API, as a client reads them) are loaded into SQLite and Postgres, and each new column
must hold what the JSON says; migration 0005 adds the columns to a populated warehouse and
takes them away again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from tiktok_pipeline import db
from tiktok_pipeline.sandbox import RunningSandbox, run_sandbox
from tiktok_pipeline.warehouse import (
    CANCELLATION_TABLES,
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    Warehouse,
    loader,
    migrate,
    schema,
)
from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client, small_config
from tiktok_pipeline_tests.test_warehouse.conftest import table_rows
from tiktok_pipeline_tests.test_warehouse.test_migrations import _diff

CANCELLATIONS = "/return_refund/202309/cancellations/search"
#: GB: shipping bears 20 % VAT; US: none.
REGIONS = ("GB", "US")
START = datetime(2026, 1, 1, tzinfo=UTC)

#: (column, its path in the order's JSON) of the order's new amounts.
ORDER_AMOUNTS = ("payment_platform_discount", "payment_discount_service_fee", "distance_fee")
RETURN_DISCOUNTS = (
    "product_platform_discount",
    "product_seller_discount",
    "shipping_fee_platform_discount",
    "shipping_fee_seller_discount",
)
RETURN_SHIPPING = (
    "seller_paid_return_shipping_fee",
    "platform_paid_return_shipping_fee",
    "buyer_paid_return_shipping_fee",
)
RETURN_TEXTS = (
    "seller_proposed_return_type",
    "return_tracking_number",
    "return_provider_name",
    "return_provider_id",
)
CANCEL_LINE_SHARES = ("refund_shipping_fee", "retail_delivery_fee", "buyer_service_fee")


def _amount(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    """Per shop, its orders, returns, products in both shapes and cancellations."""
    config = small_config(
        seed=11, shops=2, regions=REGIONS, orders_per_shop=300, days=20, return_every=4
    )
    with run_sandbox(config) as sandbox:
        yield _read(sandbox)


def _read(sandbox: RunningSandbox) -> dict[str, Any]:
    client = authorized_client(sandbox)
    truth = sandbox.control.truth
    out: dict[str, Any] = {}
    for shop in sandbox.shops:
        out[shop.id] = {
            "orders": truth("orders", shop_id=shop.id),
            "returns": truth("returns", shop_id=shop.id),
            "searched_products": truth("products", shop_id=shop.id),
            "detailed_products": truth("products", shop_id=shop.id, shape="detail"),
            "cancellations": client.walk(CANCELLATIONS, "cancellations", 50, cipher=shop.cipher)[0],
        }
    return out


def _load(wh: Warehouse, served: dict[str, Any], products: str = "searched_products") -> None:
    for shop_id, data in served.items():
        with wh.begin() as tx:
            tx.load(ORDER_TABLES, shop_id, data["orders"])
            tx.load(RETURN_TABLES, shop_id, data["returns"])
            tx.load(PRODUCT_TABLES, shop_id, data[products])
            tx.load(CANCELLATION_TABLES, shop_id, data["cancellations"])


def _by_key(wh: Warehouse, table: sa.Table, key: str = "id") -> dict[tuple[str, str], dict]:
    return {(row["shop_id"], row[key]): row for row in table_rows(wh, table)}


def test_orders_keep_the_payment_providers_discount_and_line_shipping_vat(
    warehouse: Warehouse, served
):
    _load(warehouse, served)
    orders = _by_key(warehouse, schema.orders)
    lines = _by_key(warehouse, schema.order_line_items)
    discounted = vat_lines = 0
    for shop_id, data in served.items():
        for order in data["orders"]:
            row = orders[(shop_id, order["id"])]
            for name in ORDER_AMOUNTS:
                assert row[name] == Decimal(order["payment"][name]), name
            discounted += row["payment_platform_discount"] > 0
            # The provider's discount is beside the total, not taken from it.
            assert row["total_amount"] == Decimal(order["payment"]["total_amount"])
            for item in order["line_items"]:
                line = lines[(shop_id, item["id"])]
                assert line["shipping_vat_amount"] == Decimal(item["shipping_vat_amount"])
                assert line["shipping_vat_rate"] == Decimal(item["shipping_vat_rate"])
                assert line["currency"] == row["currency"]
                vat_lines += line["shipping_vat_amount"] > 0
    assert discounted and vat_lines

    # Exact sums: the VAT of every line adds up to the JSON's, to the cent, on both backends.
    expected = {
        shop_id: sum(
            (Decimal(i["shipping_vat_amount"]) for o in data["orders"] for i in o["line_items"]),
            Decimal(0),
        )
        for shop_id, data in served.items()
    }
    li = schema.order_line_items
    with warehouse.engine.connect() as connection:
        summed = dict(
            connection.execute(
                sa.select(li.c.shop_id, sa.func.sum(li.c.shipping_vat_amount)).group_by(
                    li.c.shop_id
                )
            ).all()
        )
    assert {shop: Decimal(str(total)) for shop, total in summed.items()} == expected
    assert any(total > 0 for total in expected.values())


def test_returns_keep_discounts_return_shipping_and_partial_refunds(warehouse: Warehouse, served):
    _load(warehouse, served)
    rows = _by_key(warehouse, schema.returns, "return_id")
    partial = platform_shipping = quick = tracked = 0
    for shop_id, data in served.items():
        for returned in data["returns"]:
            row = rows[(shop_id, returned["return_id"])]
            (discount,) = returned["discount_amount"]
            (shipping,) = returned["shipping_fee_amount"]
            assert discount["currency"] == shipping["currency"] == row["currency"]
            for name in RETURN_DISCOUNTS:
                assert row[name] == Decimal(discount[name]), name
            for name in RETURN_SHIPPING:
                assert row[name] == Decimal(shipping[name]), name
            for name in RETURN_TEXTS:
                assert row[name] == (returned[name] or None), name
            assert row["is_quick_refund"] is returned["is_quick_refund"]
            offer = returned.get("partial_refund")
            assert row["partial_refund_amount"] == (offer and _amount(offer["amount"]))
            partial += offer is not None
            platform_shipping += row["platform_paid_return_shipping_fee"] > 0
            quick += row["is_quick_refund"]
            tracked += row["return_tracking_number"] is not None
    assert partial and platform_shipping and quick and tracked


def test_cancelled_lines_carry_their_share_of_the_refunded_fees(warehouse: Warehouse, served):
    _load(warehouse, served)
    lines = _by_key(warehouse, schema.cancellation_line_items)
    shipping_shares = 0
    for shop_id, data in served.items():
        for cancellation in data["cancellations"]:
            for item in cancellation["cancel_line_items"]:
                line = lines[(shop_id, item["cancel_line_item_id"])]
                for name in CANCEL_LINE_SHARES:
                    assert line[name] == _amount(item["refund_amount"].get(name)), name
                shipping_shares += line["refund_shipping_fee"] > 0
    assert shipping_shares

    # The lines' shares add up to their cancellation's refunded shipping.
    c, cl = schema.cancellations, schema.cancellation_line_items
    shares = (
        sa.select(cl.c.shop_id, cl.c.cancel_id, sa.func.sum(cl.c.refund_shipping_fee).label("s"))
        .group_by(cl.c.shop_id, cl.c.cancel_id)
        .subquery()
    )
    query = sa.select(c.c.refund_shipping_fee, shares.c.s).join(
        shares, sa.and_(shares.c.shop_id == c.c.shop_id, shares.c.cancel_id == c.c.id)
    )
    with warehouse.engine.connect() as connection:
        pairs = connection.execute(query).all()
    assert pairs
    assert all(Decimal(str(whole)) == Decimal(str(summed)) for whole, summed in pairs)


def test_products_keep_their_audit_and_status(warehouse: Warehouse, served):
    _load(warehouse, served)
    searched = _by_key(warehouse, schema.products)
    audited = 0
    for shop_id, data in served.items():
        for product in data["searched_products"]:
            row = searched[(shop_id, product["id"])]
            assert row["audit_status"] == product["audit"]["status"]
            audited += row["audit_status"] is not None
            # TikTok documents the tier for the US only.
            assert row["listing_quality_tier"] == product.get("listing_quality_tier")
            assert row["audit_failed_reasons"] is None  # Search Products does not send them
            assert row["product_status"] == (product.get("product_status") or None)
    assert audited

    # Get Product's shape: its audit_failed_reasons arrive as the JSON array they are.
    _load(warehouse, served, products="detailed_products")
    detailed = _by_key(warehouse, schema.products)
    for shop_id, data in served.items():
        for product in data["detailed_products"]:
            row = detailed[(shop_id, product["id"])]
            assert row["audit_failed_reasons"] == product["audit_failed_reasons"]
            assert row["audit_status"] == (product.get("audit") or {}).get("status")


def test_a_product_as_get_product_documents_it(warehouse: Warehouse):
    """Fields the sandbox may not send yet, shaped as TikTok's reference documents them."""
    reasons = [
        {
            "position": "Main image",
            "reasons": ["The image is blurry"],
            "suggestions": ["Upload a sharper image"],
            "listing_platform": "TIKTOK_SHOP",
        }
    ]
    product = {
        "id": "1729000000000000001",
        "title": "Sarung batik",
        "status": "FAILED",
        "product_status": "FAILED",
        "update_time": 1767000000,
        "audit": {"status": "FAILED", "pre_approved_reasons": []},
        "audit_failed_reasons": reasons,
        "skus": [],
    }
    with warehouse.begin() as tx:
        tx.load(PRODUCT_TABLES, "1", [product])
    (row,) = table_rows(warehouse, schema.products)
    assert (row["product_status"], row["audit_status"]) == ("FAILED", "FAILED")
    assert row["audit_failed_reasons"] == reasons


def _insert_order_at_0004(connection: sa.Connection) -> None:
    """An order row as a 0004 warehouse holds it (the loader writes today's columns)."""
    connection.execute(
        sa.text(
            "INSERT INTO tiktok_orders (shop_id, id, currency, total_amount, raw, _row_hash, "
            "_synced_at, _source) VALUES ('1', '2', 'GBP', 38.40, '{}', 'h', :at, 'poll')"
        ),
        {"at": START.isoformat(sep=" ")},
    )


def _columns(connection: sa.Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns(table)}


def test_migration_0005_adds_the_columns_to_a_populated_warehouse_and_back(
    database_url: str, served
):
    new_columns = {
        "tiktok_orders": set(ORDER_AMOUNTS),
        "tiktok_order_line_items": {"shipping_vat_amount", "shipping_vat_rate"},
        "tiktok_products": {"product_status", "audit_status", "audit_failed_reasons"},
        "tiktok_returns": {
            "is_quick_refund",
            "partial_refund_amount",
            *RETURN_DISCOUNTS,
            *RETURN_SHIPPING,
            *RETURN_TEXTS,
        },
        "tiktok_cancellation_line_items": set(CANCEL_LINE_SHARES),
    }
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), "0004")
            _insert_order_at_0004(connection)
            for table, names in new_columns.items():
                assert not names & _columns(connection, table)

        assert migrate.upgrade(engine) is True
        assert _diff(engine, schema.metadata) == []
        with engine.begin() as connection:
            # The order written before 0005 is there, its new columns NULL until it syncs again.
            row = connection.execute(sa.select(schema.orders)).mappings().one()
            assert row["total_amount"] == Decimal("38.40")
            assert row["payment_platform_discount"] is None
            shop_id, data = next(iter(served.items()))
            loader.load(
                connection, ORDER_TABLES, shop_id, data["orders"], source="poll", synced_at=START
            )
            discounts = connection.execute(
                sa.select(sa.func.count()).where(schema.orders.c.payment_platform_discount > 0)
            ).scalar_one()
            assert discounts > 0

        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0004")
        with engine.connect() as connection:
            for table, names in new_columns.items():
                assert not names & _columns(connection, table), table
            count = connection.execute(sa.text("SELECT COUNT(*) FROM tiktok_orders")).scalar()
            assert count == 1 + len(data["orders"])
            assert "tiktok_daily_sales" in sa.inspect(connection).get_view_names()

        assert migrate.upgrade(engine) is True
        assert _diff(engine, schema.metadata) == []
    finally:
        engine.dispose()
