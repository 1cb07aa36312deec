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
    serialize,
)
from tiktok_pipeline.warehouse.return_mapping import return_rows
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


def _return_prepared(data):
    return return_rows(data, CTX, serialize(data))


def _discounts(currency: str, product_platform: str, shipping_seller: str) -> dict:
    return {
        "currency": currency,
        "product_platform_discount": product_platform,
        "product_seller_discount": "0.00",
        "shipping_fee_platform_discount": "",
        "shipping_fee_seller_discount": shipping_seller,
    }


def test_return_discounts_and_shipping_fees_are_summed_over_their_arrays():
    data = f.return_(
        "8",
        discount_amount=[
            _discounts("USD", "1.10", "0.20"),
            _discounts("USD", "2.05", "0.30"),
        ],
        shipping_fee_amount=[
            {
                "currency": "USD",
                "seller_paid_return_shipping_fee": "0.00",
                "platform_paid_return_shipping_fee": "5.99",
                "buyer_paid_return_shipping_fee": "1.01",
            }
        ],
        partial_refund={"currency": "USD", "amount": "7.50"},
        is_quick_refund=True,
        seller_proposed_return_type="PARTIAL_REFUND",
    )
    row = _return_prepared(data).row
    assert set(row) == {c.name for c in schema.returns.columns}
    assert row["product_platform_discount"] == Decimal("3.15")
    assert row["shipping_fee_seller_discount"] == Decimal("0.50")
    assert row["product_seller_discount"] == Decimal("0.00")
    assert row["shipping_fee_platform_discount"] is None  # "" in every element
    assert row["platform_paid_return_shipping_fee"] == Decimal("5.99")
    assert row["buyer_paid_return_shipping_fee"] == Decimal("1.01")
    assert row["partial_refund_amount"] == Decimal("7.50")
    assert row["is_quick_refund"] is True
    assert row["seller_proposed_return_type"] == "PARTIAL_REFUND"


def test_return_without_discounts_fees_or_offer_gives_nulls():
    row = _return_prepared(f.return_("8")).row  # TikTok's [] and no partial_refund
    for name in (
        "product_platform_discount",
        "seller_paid_return_shipping_fee",
        "partial_refund_amount",
        "is_quick_refund",
        "return_tracking_number",
    ):
        assert row[name] is None, name
    # A return without refund_amount still has the currency of its discounts.
    data = f.return_("9", discount_amount=[_discounts("GBP", "1.00", "0.00")])
    del data["refund_amount"]
    row = _return_prepared(data).row
    assert (row["currency"], row["product_platform_discount"]) == ("GBP", Decimal("1.00"))


def test_bad_return_discount_names_its_element():
    data = f.return_(
        "8", discount_amount=[_discounts("USD", "1.00", "0"), _discounts("USD", "abc", "0")]
    )
    with pytest.raises(BadValue, match=r"discount_amount\[1\]\.product_platform_discount"):
        _return_prepared(data)
    with pytest.raises(BadValue, match=r"partial_refund"):
        _return_prepared(f.return_("8", partial_refund="7.50"))


def test_order_payment_extras_and_line_shipping_vat():
    data = f.order("1")
    data["payment"].update(
        payment_platform_discount="1.20", payment_discount_service_fee="0.05", distance_fee=""
    )
    data["line_items"][0].update(shipping_vat_amount="0.67", shipping_vat_rate="0.2000")
    prepared = _order_prepared(data)
    assert prepared.row["payment_platform_discount"] == Decimal("1.20")
    assert prepared.row["payment_discount_service_fee"] == Decimal("0.05")
    assert prepared.row["distance_fee"] is None
    first, second = prepared.children["tiktok_order_line_items"]
    assert (first["shipping_vat_amount"], first["shipping_vat_rate"]) == (
        Decimal("0.67"),
        Decimal("0.2000"),
    )
    assert second["shipping_vat_amount"] is None and second["shipping_vat_rate"] is None


def test_product_audit_and_status():
    reasons = [{"position": "Title", "reasons": ["Too short"], "suggestions": []}]
    data = {
        "id": "9",
        "status": "FAILED",
        "product_status": "FAILED",
        "audit": {"status": "FAILED"},
        "audit_failed_reasons": reasons,
    }
    row = product_rows(data, CTX, serialize(data)).row
    assert set(row) == {c.name for c in schema.products.columns}
    assert (row["status"], row["product_status"], row["audit_status"]) == ("FAILED",) * 3
    assert row["audit_failed_reasons"] == reasons
    row = product_rows({"id": "9"}, CTX, serialize({"id": "9"})).row
    assert row["audit_status"] is None and row["audit_failed_reasons"] is None
    with pytest.raises(BadValue, match=r"audit"):
        product_rows({"id": "9", "audit": "APPROVED"}, CTX, serialize({"id": "9"}))
