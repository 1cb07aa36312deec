"""Loading rules on SQLite and Postgres: counts, newest wins, children replaced, reruns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    TableCounts,
    Warehouse,
    loader,
    schema,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP, snapshot, table_rows

ORDER_ID = "576461413038785752"


def _order(wh: Warehouse, order_id: str = ORDER_ID, shop_id: str = SHOP) -> dict:
    table = schema.orders
    with wh.engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(table).where(table.c.shop_id == shop_id, table.c.id == order_id)
            )
            .mappings()
            .one()
        )
    return dict(row)


def _line_item_ids(wh: Warehouse, order_id: str = ORDER_ID) -> list[str]:
    return [r["id"] for r in table_rows(wh, schema.order_line_items) if r["order_id"] == order_id]


def test_order_round_trip_keeps_types_exact(warehouse: Warehouse):
    data = f.order(ORDER_ID, create_time=1717243199, update_time=1717243200)
    data["payment"]["total_amount"] = "12345678901234.56"
    data["payment"]["tax"] = ""
    data["line_items"][0]["product_name"] = 'Serum\t"Rose"\nEdition \\ 30ml ünï 中文'
    data["unknown_new_field"] = {"nested": [1, 2, "\\x"]}
    synced_at = datetime(2024, 7, 1, 12, 30, 15, 123456, tzinfo=UTC)

    warehouse.load(ORDER_TABLES, SHOP, [data], synced_at=synced_at, source="webhook")

    row = _order(warehouse)
    assert row["total_amount"] == Decimal("12345678901234.56")
    assert row["sub_total"] == Decimal("39.98")
    assert row["tax"] is None
    assert row["created_at"] == datetime(2024, 6, 1, 11, 59, 59, tzinfo=UTC)
    assert row["created_at"].tzinfo is not None and row["updated_at"].utcoffset() == timedelta(0)
    assert row["create_time"] == 1717243199 and row["paid_time"] == 1717243259
    assert row["rts_time"] is None and row["delivered_at"] is None
    assert row["is_on_hold_order"] is False and row["line_item_count"] == 2
    assert row["_synced_at"] == synced_at and row["_source"] == "webhook"
    assert row["raw"] == data  # unknown fields are kept

    (first, second) = table_rows(warehouse, schema.order_line_items)
    assert first["product_name"] == 'Serum\t"Rose"\nEdition \\ 30ml ünï 中文'
    assert row["raw"]["line_items"][0] == data["line_items"][0]
    assert first["sale_price"] == Decimal("19.99") and first["quantity"] == 1
    assert first["order_id"] == ORDER_ID and second["is_gift"] is False


def test_counts_for_insert_unchanged_update_and_stale(warehouse: Warehouse):
    v1 = f.order(ORDER_ID, update_time=1000, status="AWAITING_SHIPMENT")
    v2 = f.changed(v1, update_time=2000, status="IN_TRANSIT")

    first = warehouse.load(ORDER_TABLES, SHOP, [v1, f.order("2", update_time=1000)])
    assert first["tiktok_orders"] == TableCounts(inserted=2)
    assert first["tiktok_order_line_items"] == TableCounts(inserted=4)
    assert sorted(first.changed_ids) == ["2", ORDER_ID]

    again = warehouse.load(ORDER_TABLES, SHOP, [v1])
    assert again["tiktok_orders"] == TableCounts(unchanged=1)
    assert again["tiktok_order_line_items"] == TableCounts()
    assert again.changed_ids == ()

    newer = warehouse.load(ORDER_TABLES, SHOP, [v2])
    assert newer["tiktok_orders"] == TableCounts(updated=1)
    assert newer["tiktok_order_line_items"] == TableCounts(inserted=2, deleted=2)
    assert _order(warehouse)["status"] == "IN_TRANSIT"

    late = warehouse.load(ORDER_TABLES, SHOP, [v1])
    assert late["tiktok_orders"] == TableCounts(stale=1)
    assert _order(warehouse)["status"] == "IN_TRANSIT"
    assert _order(warehouse)["update_time"] == 2000


def test_an_older_payload_never_overwrites_a_newer_one(warehouse: Warehouse):
    newest = f.order(ORDER_ID, update_time=5000, status="DELIVERED")
    older = f.changed(
        newest, update_time=4999, status="AWAITING_SHIPMENT", line_items=[f.line_item("9")]
    )
    warehouse.load(ORDER_TABLES, SHOP, [newest])
    before = snapshot(warehouse)

    result = warehouse.load(ORDER_TABLES, SHOP, [older], source="webhook")

    assert result["tiktok_orders"] == TableCounts(stale=1)
    assert snapshot(warehouse) == before


def test_equal_update_time_with_other_content_updates(warehouse: Warehouse):
    v1 = f.order(ORDER_ID, update_time=3000, status="AWAITING_SHIPMENT")
    same_time = f.changed(v1, status="AWAITING_COLLECTION")
    warehouse.load(ORDER_TABLES, SHOP, [v1])
    result = warehouse.load(ORDER_TABLES, SHOP, [same_time])
    assert result["tiktok_orders"] == TableCounts(updated=1)
    assert _order(warehouse)["status"] == "AWAITING_COLLECTION"


def test_an_order_that_loses_a_line_item_loses_the_row(warehouse: Warehouse):
    items = [f.line_item("11"), f.line_item("12"), f.line_item("13")]
    v1 = f.order(ORDER_ID, update_time=1000, line_items=items)
    v2 = f.changed(v1, update_time=1100, line_items=items[:1] + items[2:])
    warehouse.load(ORDER_TABLES, SHOP, [v1, f.order("other", update_time=1000)])
    assert _line_item_ids(warehouse) == ["11", "12", "13"]

    result = warehouse.load(ORDER_TABLES, SHOP, [v2])

    assert _line_item_ids(warehouse) == ["11", "13"]
    assert result["tiktok_order_line_items"] == TableCounts(inserted=2, deleted=3)
    assert _line_item_ids(warehouse, "other") == ["other1", "other2"]  # untouched
    assert _order(warehouse)["line_item_count"] == 2


def test_rerun_changes_nothing_not_even_synced_at(warehouse: Warehouse):
    orders = [f.order(str(n), update_time=1000 + n) for n in range(30)]
    products = [f.product(str(900 + n)) for n in range(5)]
    returns = [f.return_(str(700 + n), order_id=str(n)) for n in range(5)]
    first_sync = datetime(2024, 7, 1, tzinfo=UTC)
    with warehouse.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, orders, synced_at=first_sync)
        tx.load(PRODUCT_TABLES, SHOP, products, synced_at=first_sync)
        tx.load(RETURN_TABLES, SHOP, returns, synced_at=first_sync)
    before = snapshot(warehouse)

    with warehouse.begin() as tx:
        results = (
            tx.load(ORDER_TABLES, SHOP, orders, source="webhook")
            + tx.load(PRODUCT_TABLES, SHOP, products, source="webhook")
            + tx.load(RETURN_TABLES, SHOP, returns, source="webhook")
        )

    assert snapshot(warehouse) == before
    assert results["tiktok_orders"] == TableCounts(unchanged=30)
    assert results["tiktok_products"] == TableCounts(unchanged=5)
    assert results["tiktok_returns"] == TableCounts(unchanged=5)
    assert all(c.written == 0 and c.deleted == 0 for c in results.values())


def test_duplicates_in_one_load_keep_the_newest(warehouse: Warehouse):
    newest = f.order(ORDER_ID, update_time=2000, status="IN_TRANSIT")
    older = f.changed(newest, update_time=1000, status="AWAITING_SHIPMENT")
    tie_later = f.changed(newest, status="DELIVERED")

    result = warehouse.load(ORDER_TABLES, SHOP, [newest, older, tie_later])

    assert result["tiktok_orders"] == TableCounts(inserted=1)
    assert _order(warehouse)["status"] == "DELIVERED"


def test_shops_are_kept_apart(warehouse: Warehouse):
    warehouse.load(ORDER_TABLES, SHOP, [f.order(ORDER_ID, status="IN_TRANSIT")])
    result = warehouse.load(ORDER_TABLES, OTHER_SHOP, [f.order(ORDER_ID, status="UNPAID")])
    assert result["tiktok_orders"] == TableCounts(inserted=1)
    assert _order(warehouse, shop_id=SHOP)["status"] == "IN_TRANSIT"
    assert _order(warehouse, shop_id=OTHER_SHOP)["status"] == "UNPAID"


def test_many_batches(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(loader, "BATCH_SIZE", 7)
    orders = [f.order(str(1000 + n), update_time=5000) for n in range(50)]
    assert warehouse.load(ORDER_TABLES, SHOP, orders)["tiktok_orders"] == TableCounts(inserted=50)
    changed = [f.changed(o, update_time=6000) if n % 2 else o for n, o in enumerate(orders)]
    result = warehouse.load(ORDER_TABLES, SHOP, changed)
    assert result["tiktok_orders"] == TableCounts(updated=25, unchanged=25)
    assert result["tiktok_order_line_items"] == TableCounts(inserted=50, deleted=50)
    assert len(table_rows(warehouse, schema.order_line_items)) == 100


def test_products_replace_skus_and_inventory(warehouse: Warehouse):
    v1 = f.product("555", update_time=1000)
    warehouse.load(PRODUCT_TABLES, SHOP, [v1])
    assert len(table_rows(warehouse, schema.product_sku_inventory)) == 3

    v2 = f.changed(v1, update_time=1001, skus=[f.sku("5551", stock={"7068517275539719942": 7})])
    result = warehouse.load(PRODUCT_TABLES, SHOP, [v2])

    assert result["tiktok_products"] == TableCounts(updated=1)
    assert result["tiktok_product_skus"] == TableCounts(inserted=1, deleted=2)
    assert result["tiktok_product_sku_inventory"] == TableCounts(inserted=1, deleted=3)
    (sku,) = table_rows(warehouse, schema.product_skus)
    assert (sku["id"], sku["total_quantity"], sku["sale_price"]) == ("5551", 7, Decimal("19.99"))
    (stock,) = table_rows(warehouse, schema.product_sku_inventory)
    assert (stock["warehouse_id"], stock["quantity"], stock["product_id"]) == (
        "7068517275539719942",
        7,
        "555",
    )
    (product,) = table_rows(warehouse, schema.products)
    assert product["sales_regions"] == ["US"] and product["sku_count"] == 1


def test_returns_and_their_line_items(warehouse: Warehouse):
    v1 = f.return_("4035", return_status="RETURN_OR_REFUND_REQUEST_PENDING", update_time=10)
    warehouse.load(RETURN_TABLES, SHOP, [v1])
    v2 = f.changed(v1, update_time=20, return_status="RETURN_OR_REFUND_REQUEST_SUCCESS")
    result = warehouse.load(RETURN_TABLES, SHOP, [v2])
    assert result["tiktok_returns"] == TableCounts(updated=1)
    (row,) = table_rows(warehouse, schema.returns)
    assert row["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    assert row["refund_total"] == Decimal("21.59") and row["currency"] == "USD"
    (line,) = table_rows(warehouse, schema.return_line_items)
    assert (line["return_id"], line["order_line_item_id"]) == ("4035", "5764614130387857521")


def test_a_line_item_moving_to_another_order_moves_its_row(warehouse: Warehouse):
    warehouse.load(
        ORDER_TABLES, SHOP, [f.order("A", line_items=[f.line_item("x1"), f.line_item("x2")])]
    )
    result = warehouse.load(ORDER_TABLES, SHOP, [f.order("B", line_items=[f.line_item("x2")])])
    assert result["tiktok_orders"] == TableCounts(inserted=1)
    owners = {r["id"]: r["order_id"] for r in table_rows(warehouse, schema.order_line_items)}
    assert owners == {"x1": "A", "x2": "B"}


def test_a_malformed_entity_raises_naming_shop_and_entity(warehouse: Warehouse):
    with pytest.raises(ValueError, match=rf"order at position 1 of shop '{SHOP}'.*has no 'id'"):
        warehouse.load(ORDER_TABLES, SHOP, [f.order("1"), {"status": "UNPAID"}])
    bad_money = f.order("2")
    bad_money["payment"]["tax"] = "n/a"
    with pytest.raises(ValueError, match=r"order '2' of shop .*payment\.tax"):
        warehouse.load(ORDER_TABLES, SHOP, [bad_money])
    with pytest.raises(ValueError, match="return at position 0"):
        warehouse.load(RETURN_TABLES, SHOP, [{"id": "not-a-return-id"}])
    with pytest.raises(ValueError, match="source must be 'poll' or 'webhook'"):
        warehouse.load(ORDER_TABLES, SHOP, [f.order("3")], source="api")
    assert table_rows(warehouse, schema.orders) == []


def test_missing_update_time_never_replaces_a_known_one(warehouse: Warehouse):
    warehouse.load(ORDER_TABLES, SHOP, [f.order(ORDER_ID, update_time=1000, status="IN_TRANSIT")])
    undated = f.order(ORDER_ID, status="UNPAID")
    del undated["update_time"]
    assert warehouse.load(ORDER_TABLES, SHOP, [undated])["tiktok_orders"] == TableCounts(stale=1)
    assert _order(warehouse)["status"] == "IN_TRANSIT"


def test_raw_is_queryable_json(warehouse: Warehouse):
    warehouse.load(ORDER_TABLES, SHOP, [f.order(ORDER_ID)])
    with warehouse.engine.connect() as connection:
        raw = connection.execute(sa.select(schema.orders.c.raw)).scalar_one()
        if connection.dialect.name == "postgresql":
            status = connection.execute(
                sa.text("SELECT raw->>'status' FROM tiktok_orders")
            ).scalar_one()
        else:
            status = connection.execute(
                sa.text("SELECT json_extract(raw, '$.status') FROM tiktok_orders")
            ).scalar_one()
    assert raw["payment"]["sub_total"] == "39.98"
    assert status == "AWAITING_SHIPMENT"
    assert json.loads(json.dumps(raw)) == f.order(ORDER_ID)


def test_values_that_copy_must_quote_round_trip(warehouse: Warehouse):
    """Tabs, line breaks, SOH, backslashes, a literal \\N and empty strings stay exact,
    whether the rows are inserted or replace stored ones."""
    tricky = ["a\tb", "line\nbreak\r\n", "soh\x01x", "\\N", "back\\slash", 'ünï 中文 "q"']
    items = [f.line_item(f"li{n}", product_name=text) for n, text in enumerate(tricky)]
    v1 = f.order(ORDER_ID, update_time=1000, line_items=items, buyer_message="\x01\t\\N")
    product = f.product("p1", skus=[f.sku("s1", stock={"": 4, "w\t1": 5})])
    warehouse.load(ORDER_TABLES, SHOP, [v1])
    warehouse.load(PRODUCT_TABLES, SHOP, [product])
    v2 = f.changed(v1, update_time=2000, status="\\N")

    for version in (v1, v2):
        warehouse.load(ORDER_TABLES, SHOP, [version])
        row = _order(warehouse)
        assert row["raw"] == version and row["status"] == version["status"]
        lines = table_rows(warehouse, schema.order_line_items)
        assert {r["id"]: r["product_name"] for r in lines} == {
            f"li{n}": text for n, text in enumerate(tricky)
        }
    stock = table_rows(warehouse, schema.product_sku_inventory)
    assert {r["warehouse_id"]: r["quantity"] for r in stock} == {"": 4, "w\t1": 5}


@pytest.mark.parametrize(
    "seconds",
    [-1, 86399, 951782400, 1717243199, 4102444799],  # 1969, end of day, leap day, 2099
)
def test_timestamps_round_trip_exactly(warehouse: Warehouse, seconds: int):
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    data = f.order(ORDER_ID, create_time=seconds, paid_time=seconds + 3601)
    warehouse.load(ORDER_TABLES, SHOP, [data])
    row = _order(warehouse)
    assert row["created_at"] == epoch + timedelta(seconds=seconds)
    assert row["paid_at"] == epoch + timedelta(seconds=seconds + 3601)
    assert row["create_time"] == seconds
