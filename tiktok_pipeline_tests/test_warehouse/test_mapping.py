"""JSON -> rows without a database: values, missing fields, bad values, canonical JSON."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tiktok_pipeline.warehouse import schema
from tiktok_pipeline.warehouse.convert import BadValue
from tiktok_pipeline.warehouse.mapping import (
    Context,
    order_rows,
    product_rows,
    return_rows,
    serialize,
)
from tiktok_pipeline_tests.test_warehouse import factories as f

CTX = Context("7000714532876273420", datetime(2024, 7, 1, 12, 0, tzinfo=UTC), "poll")


def _order_prepared(data):
    return order_rows(data, CTX, serialize(data))


def test_order_row_has_every_column_and_exact_values():
    data = f.order("576461413038785752", create_time=1717243199, update_time=1717243200)
    prepared = _order_prepared(data)
    row = prepared.row

    assert set(row) == {c.name for c in schema.orders.columns}
    assert row["created_at"] == datetime(2024, 6, 1, 11, 59, 59, tzinfo=UTC)
    assert row["update_time"] == 1717243200
    assert row["rts_time"] is None and row["rts_at"] is None  # TikTok's 0 means "not yet"
    assert row["buyer_user_id"] == "7494582356417495306"
    assert row["sub_total"] == Decimal("39.98") and isinstance(row["sub_total"], Decimal)
    assert row["original_total_product_price"] == Decimal("49.98")
    assert row["region_code"] == "US"
    assert row["line_item_count"] == 2
    assert row["is_cod"] is False
    assert row["tracking_number"] is None  # "" from TikTok means "not set"
    assert row["_source"] == "poll" and row["_synced_at"] == CTX.synced_at
    assert json.loads(row["raw"]) == data

    line_items = prepared.children["tiktok_order_line_items"]
    assert [li["id"] for li in line_items] == ["5764614130387857521", "5764614130387857522"]
    assert all(set(li) == {c.name for c in schema.order_line_items.columns} for li in line_items)
    assert line_items[0]["quantity"] == 1
    assert line_items[0]["sale_price"] == Decimal("19.99")
    assert "raw" not in line_items[0]  # a line item's JSON is in the order's raw


def test_missing_optional_fields_give_nulls():
    data = {"id": "1", "update_time": 1717243200}
    row = _order_prepared(data).row
    assert row["status"] is None and row["currency"] is None and row["sub_total"] is None
    assert row["create_time"] is None and row["region_code"] is None
    assert row["line_item_count"] == 0

    product = product_rows({"id": "9"}, CTX, serialize({"id": "9"}))
    assert product.row["sku_count"] == 0 and product.row["sales_regions"] is None
    returned = return_rows({"return_id": "8"}, CTX, serialize({"return_id": "8"}))
    assert returned.row["refund_total"] is None and returned.row["order_id"] is None


def test_money_stays_exact_beyond_float_precision():
    data = f.order("1")
    data["payment"]["total_amount"] = "12345678901234567.89"
    data["payment"]["tax"] = ""
    row = _order_prepared(data).row
    assert row["total_amount"] == Decimal("12345678901234567.89")
    assert row["tax"] is None


def test_bad_amount_names_the_field():
    data = f.order("1")
    data["payment"]["sub_total"] = "12,50"
    with pytest.raises(BadValue, match=r"payment\.sub_total.*'12,50'"):
        _order_prepared(data)


def test_line_item_without_id_is_an_error():
    data = f.order("1", line_items=[f.line_item("")])
    with pytest.raises(BadValue, match=r"line_items\[0\] has no 'id'"):
        _order_prepared(data)


def test_product_skus_and_inventory():
    data = f.product("1729385720000000001")
    data["skus"][0]["list_price"] = {"amount": "29.99", "currency": "USD"}
    prepared = product_rows(data, CTX, serialize(data))

    skus = {s["id"]: s for s in prepared.children["tiktok_product_skus"]}
    first = skus["17293857200000000011"]
    assert first["total_quantity"] == 125 and first["warehouse_count"] == 2
    assert first["list_price"] == Decimal("29.99")
    assert skus["17293857200000000012"]["sale_price"] == Decimal("21.50")
    stock = {
        (s["sku_id"], s["warehouse_id"]): s["quantity"]
        for s in prepared.children["tiktok_product_sku_inventory"]
    }
    assert stock == {
        ("17293857200000000011", "7068517275539719942"): 100,
        ("17293857200000000011", "7068517275539719943"): 25,
        ("17293857200000000012", "7068517275539719942"): 5,
    }
    assert prepared.row["sku_count"] == 2 and prepared.row["sales_regions"] == ["US"]


def test_return_rows_carry_order_and_refunds():
    data = f.return_("4035312345678901234", refund_total="21.59")
    prepared = return_rows(data, CTX, serialize(data))
    assert prepared.row["refund_total"] == Decimal("21.59")
    assert prepared.row["can_buyer_keep_item"] is True
    assert prepared.row["arbitration_status"] is None
    (line,) = prepared.children["tiktok_return_line_items"]
    assert line["return_id"] == "4035312345678901234"
    assert line["order_id"] == "576461413038785752"
    assert line["refund_total"] == Decimal("21.59")


def test_serialized_json_is_canonical_and_includes_children_unchanged():
    data = f.order("1")
    data["buyer_message"] = 'tab\there "quoted" \\ back ünïcode'
    serialized = serialize(data)
    expected = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert serialized.canonical == expected
    assert serialized.digest == hashlib.sha256(expected.encode()).hexdigest()

    reordered = dict(reversed(list(data.items())))
    assert serialize(reordered).digest == serialized.digest
    assert serialize(f.changed(data, status="X")).digest != serialized.digest
