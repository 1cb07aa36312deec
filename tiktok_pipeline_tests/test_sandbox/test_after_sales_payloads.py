"""Returns and cancellations carry TikTok's full payload, consistent with their orders (issue 15).

A sandbox of its own: three regions (US with sales tax and retail delivery fees, GB, ID with a
zero-decimal currency) and one return in four orders, so every kind of return shows up.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

SEARCH = "/return_refund/202309/returns/search"
CANCELLATIONS = "/return_refund/202309/cancellations/search"
ORDERS = "/order/202309/orders/search"
REGIONS = ("US", "GB", "ID")
AMOUNTS = ("refund_subtotal", "refund_shipping_fee", "refund_tax", "retail_delivery_fee")
COUNTRIES = {"US": "United States", "GB": "United Kingdom", "ID": "Indonesia"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """Three shops, many returns, a frozen clock."""
    config = small_config(
        regions=REGIONS, shops=3, orders_per_shop=500, products_per_shop=30, return_every=4
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox: RunningSandbox) -> SignedClient:
    """An authorized client of the module's sandbox."""
    return authorized_client(sandbox)


@pytest.fixture(scope="module")
def shops(sandbox, client) -> list[dict]:
    """Per shop: its cipher, region, returns, cancellations and orders by id."""
    out = []
    for shop in sandbox.shops:
        returns, _ = client.walk(SEARCH, "return_orders", 50, cipher=shop.cipher)
        cancellations, _ = client.walk(CANCELLATIONS, "cancellations", 50, cipher=shop.cipher)
        orders, _ = client.walk(ORDERS, "orders", 100, cipher=shop.cipher)
        out.append(
            {
                "cipher": shop.cipher,
                "region": shop.region,
                "returns": returns,
                "cancellations": cancellations,
                "orders": {o["id"]: o for o in orders},
            }
        )
    return out


def _all_returns(shops: list[dict]) -> list[tuple[dict, dict, dict]]:
    """(shop, return, its order) of every shop."""
    return [(s, r, s["orders"][r["order_id"]]) for s in shops for r in s["returns"]]


def _dec(obj: dict, key: str) -> Decimal:
    return Decimal(obj[key])


def test_every_region_has_every_kind_of_return(shops):
    for shop in shops:
        kinds = {r["return_type"] for r in shop["returns"]}
        assert kinds == {"REFUND", "RETURN_AND_REFUND", "REPLACEMENT"}, shop["region"]
    returns = [r for _, r, _ in _all_returns(shops)]
    assert any(r["is_quick_refund"] for r in returns)
    assert any(r["seller_proposed_return_type"] == "PARTIAL_REFUND" for r in returns)
    assert any(r["shipment_type"] == "BUYER_ARRANGE" for r in returns)


def test_line_refunds_add_up_and_a_full_return_refunds_the_order_total(shops):
    full_returns = 0
    for _, ret, order in _all_returns(shops):
        refund = ret["refund_amount"]
        lines = [li["refund_amount"] for li in ret["return_line_items"]]
        for key in (*AMOUNTS, "refund_total"):
            assert _dec(refund, key) == sum(_dec(line, key) for line in lines), key
        for amounts in (refund, *lines):
            assert _dec(amounts, "refund_total") == sum(_dec(amounts, k) for k in AMOUNTS)
            assert amounts["currency"] == order["payment"]["currency"]
        whole = len(ret["return_line_items"]) == len(order["line_items"])
        if ret["return_type"] == "REPLACEMENT":
            assert _dec(refund, "refund_total") == 0
        elif whole:
            full_returns += 1
            assert refund["refund_total"] == order["payment"]["total_amount"]
            assert refund["refund_shipping_fee"] == order["payment"]["shipping_fee"]
            assert refund["refund_tax"] == order["payment"]["tax"]
        else:
            assert _dec(refund, "refund_shipping_fee") == 0
    assert full_returns > 10


def test_refunded_discounts_are_those_of_the_returned_items(shops):
    for _, ret, order in _all_returns(shops):
        (discount,) = ret["discount_amount"]
        payment = order["payment"]
        lines = {li["id"]: li for li in order["line_items"]}
        returned = [lines[li["order_line_item_id"]] for li in ret["return_line_items"]]
        assert discount["currency"] == payment["currency"]
        if ret["return_type"] == "REPLACEMENT":
            assert all(Decimal(v) == 0 for k, v in discount.items() if k != "currency")
            continue
        assert _dec(discount, "product_seller_discount") == sum(
            _dec(li, "seller_discount") for li in returned
        )
        assert _dec(discount, "product_platform_discount") == sum(
            _dec(li, "platform_discount") for li in returned
        )
        whole = len(returned) == len(order["line_items"])
        for key in ("shipping_fee_seller_discount", "shipping_fee_platform_discount"):
            assert _dec(discount, key) == (_dec(payment, key) if whole else 0), key


def test_the_return_label_is_paid_once_the_buyer_ships(shops):
    sellers_paid = 0
    for _, ret, order in _all_returns(shops):
        (label,) = ret["shipping_fee_amount"]
        shipped = bool(ret["return_tracking_number"])
        fee = order["payment"]["original_shipping_fee"]
        paid = {k: v for k, v in label.items() if k != "currency"}
        assert _dec(paid, "buyer_paid_return_shipping_fee") == 0
        if shipped and ret["return_type"] == "RETURN_AND_REFUND":
            sellers_paid += 1
            assert paid["seller_paid_return_shipping_fee"] == fee
            assert _dec(paid, "platform_paid_return_shipping_fee") == 0
        elif shipped and ret["return_type"] == "REPLACEMENT":
            assert paid["platform_paid_return_shipping_fee"] == fee
            assert _dec(paid, "seller_paid_return_shipping_fee") == 0
        else:
            assert all(Decimal(v) == 0 for v in paid.values())
    assert sellers_paid > 5


def test_the_seller_pays_the_same_label_in_its_settlement(sandbox, client, shops):
    """Finance deducts exactly the label the return says the seller paid."""
    checked = 0
    for shop in shops:
        for ret in shop["returns"]:
            order = shop["orders"][ret["order_id"]]
            if ret["return_type"] != "RETURN_AND_REFUND" or order["status"] != "COMPLETED":
                continue
            if ret["return_status"] != "RETURN_OR_REFUND_REQUEST_COMPLETE":
                continue
            data = client.ok(
                "GET",
                f"/finance/202501/orders/{ret['order_id']}/statement_transactions",
                cipher=shop["cipher"],
            )
            deducted = sum(
                Decimal(sku["shipping_cost_breakdown"]["return_shipping_fee_amount"])
                for sku in data["sku_transactions"]
            )
            if deducted:  # refunded before the order settled: deducted in its settlement
                (label,) = ret["shipping_fee_amount"]
                assert -deducted == _dec(label, "seller_paid_return_shipping_fee") > 0
                checked += 1
    assert checked > 0


def test_shipment_fields_follow_the_return_type_and_status(shops):
    for shop, ret, _ in _all_returns(shops):
        address = ret["return_warehouse_address"]["full_address"]
        shipped = "BUYER_SHIPPED_ITEM" in _statuses_passed(ret)
        if ret["return_type"] == "REFUND":
            assert (ret["shipment_type"], ret["return_method"], address) == ("", "", "")
            assert ret["can_buyer_keep_item"] is True and ret["is_quick_refund"] is False
            continue
        assert ret["can_buyer_keep_item"] is False
        assert address.endswith(COUNTRIES[shop["region"]])
        if ret["shipment_type"] == "PLATFORM":
            assert ret["return_method"] == "PLATFORM_SHIPPED"
            assert ret["handover_method"] in ("DROP_OFF", "PICKUP")
            assert ret["return_shipping_document_type"] in ("SHIPPING_LABEL", "QR_CODE")
        else:
            assert (ret["shipment_type"], ret["return_method"]) == (
                "BUYER_ARRANGE",
                "BUYER_SHIPPED",
            )
            assert ret["handover_method"] == ret["return_shipping_document_type"] == ""
            assert ret["is_quick_refund"] is False
        has_tracking = bool(ret["return_tracking_number"])
        assert has_tracking == bool(ret["return_provider_id"]) == bool(ret["return_provider_name"])
        if ret["return_status"] in ("BUYER_SHIPPED_ITEM", "REPLACEMENT_REQUEST_COMPLETE"):
            assert has_tracking and shipped


def _statuses_passed(ret: dict) -> set[str]:
    """The statuses a return went through, as far as its current one tells."""
    after_ship = {
        "BUYER_SHIPPED_ITEM",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "REPLACEMENT_REQUEST_COMPLETE",
    }
    physical = ret["return_type"] != "REFUND"
    return {"BUYER_SHIPPED_ITEM"} if physical and ret["return_status"] in after_ship else set()


def test_the_seller_is_told_what_to_do_next(shops):
    expected = {
        ("RETURN_OR_REFUND_REQUEST_PENDING", "REFUND"): "SELLER_RESPOND_REFUND",
        ("RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_AND_REFUND"): "SELLER_RESPOND_RETURN",
        ("REPLACEMENT_REQUEST_PENDING", "REPLACEMENT"): "SELLER_RESPOND_REPLACEMENT",
        ("BUYER_SHIPPED_ITEM", "RETURN_AND_REFUND"): "SELLER_RESPOND_RECEIVE_PACKAGE",
        ("BUYER_SHIPPED_ITEM", "REPLACEMENT"): "SELLER_RESPOND_RECEIVE_PACKAGE",
    }
    seen = set()
    for _, ret, _ in _all_returns(shops):
        action = expected.get((ret["return_status"], ret["return_type"]))
        answer = ret["seller_next_action_response"]
        if action is None:
            assert answer == []
            continue
        seen.add(action)
        assert [a["action"] for a in answer] == [action]
        assert answer[0]["deadline"] > ret["update_time"]
    assert "SELLER_RESPOND_RECEIVE_PACKAGE" in seen


def test_a_partial_refund_offer_is_shown_and_filtered(client, shops):
    offers = 0
    for shop in shops:
        offered = [r for r in shop["returns"] if r["seller_proposed_return_type"]]
        for ret in shop["returns"]:
            if ret not in offered:
                assert "partial_refund" not in ret and "buyer_rejected_partial_refund" not in ret
        for ret in offered:
            offers += 1
            partial = ret["partial_refund"]
            assert ret["seller_proposed_return_type"] == "PARTIAL_REFUND"
            assert ret["buyer_rejected_partial_refund"] is True
            assert partial["currency"] == ret["refund_amount"]["currency"]
            subtotal = sum(
                _dec(li["refund_amount"], "refund_subtotal") for li in ret["return_line_items"]
            )
            assert 0 < Decimal(partial["amount"]) < subtotal
            records = client.ok(
                "GET",
                f"/return_refund/202309/returns/{ret['return_id']}/records",
                cipher=shop["cipher"],
            )["records"]
            assert [r["role"] for r in records[1:3]] == ["SELLER", "BUYER"]
            assert partial["amount"] in records[1]["note"]
            times = [r["create_time"] for r in records]
            assert times == sorted(times) and times[-1] == ret["update_time"]
        found, total = client.walk(
            SEARCH,
            "return_orders",
            10,
            {"seller_proposed_return_type": ["PARTIAL_REFUND"]},
            cipher=shop["cipher"],
        )
        assert found == offered and (not total or total[0] == len(offered))
    assert offers > 0


def test_unknown_proposed_return_type_is_refused(client, shops):
    response = client.call(
        "POST",
        SEARCH,
        {"page_size": 10},
        {"seller_proposed_return_type": ["FULL_REFUND"]},
        cipher=shops[0]["cipher"],
    ).json()
    assert response["code"] == 25001001
    assert "seller_proposed_return_type" in response["message"]


def test_buyers_attach_photos_to_damaged_or_wrong_items(client, shops):
    with_media = 0
    for shop in shops:
        for ret in shop["returns"][:40]:
            records = client.ok(
                "GET",
                f"/return_refund/202309/returns/{ret['return_id']}/records",
                cipher=shop["cipher"],
            )["records"]
            first = records[0]
            assert (first["role"], first["reason_text"]) == ("BUYER", ret["return_reason_text"])
            assert all(r["event"] == "ORDER_RETURN" and r["description"] for r in records)
            evidence = ret["return_reason"].endswith(("_damaged", "_wrong_item"))
            assert bool(first["images"]) == evidence
            for video in first["videos"]:
                assert video["duration_millis"] > 0 and video["cover"].startswith("https://")
            with_media += bool(first["images"])
            assert all(not r["images"] and not r["videos"] for r in records[1:])
    assert with_media > 0


def test_cancellation_lines_add_up_to_the_order(shops):
    pending = 0
    for shop in shops:
        assert shop["cancellations"]
        for cancel in shop["cancellations"]:
            order = shop["orders"][cancel["order_id"]]
            refund = cancel["refund_amount"]
            assert refund["refund_total"] == order["payment"]["total_amount"]
            assert refund["refund_shipping_fee"] == order["payment"]["shipping_fee"]
            lines = [li["refund_amount"] for li in cancel["cancel_line_items"]]
            for key in (*AMOUNTS, "refund_total"):
                assert _dec(refund, key) == sum(_dec(line, key) for line in lines), key
            images = {li["sku_id"]: li["sku_image"] for li in order["line_items"]}
            for line in cancel["cancel_line_items"]:
                assert line["product_image"]["url"] == images[line["sku_id"]]
            assert cancel["cancel_reason"].endswith(
                cancel["cancel_reason_text"].lower().replace(" ", "_").replace("'", "_")
            )
            actions = cancel["seller_next_action_response"]
            if cancel["cancel_status"] == "CANCELLATION_REQUEST_PENDING":
                pending += 1
                assert [a["action"] for a in actions] == ["SELLER_RESPOND_CANCEL"]
                assert actions[0]["deadline"] > cancel["create_time"]
            else:
                assert actions == []
    assert pending > 0


def test_a_returned_combined_listing_lists_the_skus_it_is_made_of(shops):
    combined = 0
    for _, ret, order in _all_returns(shops):
        lines = {li["id"]: li for li in order["line_items"]}
        for item in ret["return_line_items"]:
            parts = lines[item["order_line_item_id"]].get("combined_listing_skus") or []
            subs = item["return_sub_line_items"]
            assert [s["sku_id"] for s in subs] == [p["sku_id"] for p in parts]
            assert [s["seller_sku"] for s in subs] == [p["seller_sku"] for p in parts]
            combined += bool(subs)
    assert combined > 0
