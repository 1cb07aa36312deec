"""Returns and cancellations: references to real orders, amounts, paging, filters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client

SEARCH = "/return_refund/202309/returns/search"
DAY = 86400


@pytest.fixture(scope="module")
def returns(sandbox, client):
    items, totals = client.walk(SEARCH, "return_orders", 50, cipher=sandbox.shops[0].cipher)
    assert items and totals[0] == len(items)
    return items


@pytest.fixture(scope="module")
def orders_by_id(sandbox, client):
    orders, _ = client.walk(
        "/order/202309/orders/search", "orders", 100, cipher=sandbox.shops[0].cipher
    )
    return {o["id"]: o for o in orders}


@pytest.mark.parametrize("page_size", [10, 13, 50])
def test_walking_every_page_gives_total_count_distinct_returns(sandbox, client, page_size):
    items, totals = client.walk(SEARCH, "return_orders", page_size, cipher=sandbox.shops[0].cipher)
    assert len(items) == totals[0] == len({r["return_id"] for r in items}) > 10


def test_returns_refer_to_real_orders_and_line_items(returns, orders_by_id):
    for ret in returns:
        order = orders_by_id[ret["order_id"]]
        assert order["status"] in ("DELIVERED", "COMPLETED")
        assert ret["create_time"] >= order["delivery_time"]
        lines = {li["id"]: li for li in order["line_items"]}
        for item in ret["return_line_items"]:
            line = lines[item["order_line_item_id"]]
            assert item["sku_id"] == line["sku_id"]
            assert item["seller_sku"] == line["seller_sku"]
            assert item["product_name"] == line["product_name"]


def test_refund_amounts_are_consistent(returns, orders_by_id):
    for ret in returns:
        refund = {k: Decimal(v) for k, v in ret["refund_amount"].items() if k != "currency"}
        assert refund["refund_total"] == (
            refund["refund_subtotal"]
            + refund["refund_shipping_fee"]
            + refund["refund_tax"]
            + refund["retail_delivery_fee"]
        )
        items = ret["return_line_items"]
        assert refund["refund_subtotal"] == sum(
            Decimal(i["refund_amount"]["refund_subtotal"]) for i in items
        )
        if ret["return_type"] != "REPLACEMENT":
            order = orders_by_id[ret["order_id"]]
            lines = {li["id"]: li for li in order["line_items"]}
            assert (
                refund["refund_subtotal"]
                == sum(Decimal(lines[i["order_line_item_id"]]["sale_price"]) for i in items)
                > 0
            )


def test_default_sort_is_create_time_ascending(returns):
    times = [r["create_time"] for r in returns]
    assert times == sorted(times)


def test_filters(sandbox, client, returns):
    cipher = sandbox.shops[0].cipher
    first = returns[0]
    by_id = client.ok(
        "POST", SEARCH, {"page_size": 10}, {"return_ids": [first["return_id"]]}, cipher=cipher
    )["return_orders"]
    assert by_id == [first]
    by_order = client.ok(
        "POST", SEARCH, {"page_size": 10}, {"order_ids": [first["order_id"]]}, cipher=cipher
    )["return_orders"]
    assert by_order == [first]
    status = first["return_status"]
    by_status, _ = client.walk(
        SEARCH, "return_orders", 50, {"return_status": [status]}, cipher=cipher
    )
    assert {r["return_id"] for r in by_status} == {
        r["return_id"] for r in returns if r["return_status"] == status
    }
    lo, hi = ANCHOR - 20 * DAY, ANCHOR - 10 * DAY
    window, _ = client.walk(
        SEARCH, "return_orders", 10, {"update_time_ge": lo, "update_time_lt": hi}, cipher=cipher
    )
    assert {r["return_id"] for r in window} == {
        r["return_id"] for r in returns if lo <= r["update_time"] < hi
    }
    typed, _ = client.walk(SEARCH, "return_orders", 50, {"return_types": ["REFUND"]}, cipher=cipher)
    assert {r["return_id"] for r in typed} == {
        r["return_id"] for r in returns if r["return_type"] == "REFUND"
    }


def test_sort_by_update_time_descending(sandbox, client, returns):
    items, _ = client.walk(
        SEARCH,
        "return_orders",
        50,
        query={"sort_field": "update_time", "sort_order": "DESC"},
        cipher=sandbox.shops[0].cipher,
    )
    updates = [r["update_time"] for r in items]
    assert updates == sorted(updates, reverse=True)
    assert len(items) == len(returns)


def test_version_202602_serves_the_same_returns(sandbox, client, returns):
    items, _ = client.walk(
        "/return_refund/202602/returns/search", "return_orders", 50, cipher=sandbox.shops[0].cipher
    )
    assert items == returns


def test_return_records(sandbox, client, returns):
    ret = returns[-1]
    records = client.ok(
        "GET",
        f"/return_refund/202309/returns/{ret['return_id']}/records",
        cipher=sandbox.shops[0].cipher,
    )["records"]
    assert records[0]["create_time"] == ret["create_time"]
    assert records[-1]["create_time"] == ret["update_time"]


def test_returns_progress_when_the_clock_advances(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    before, _ = client.walk(SEARCH, "return_orders", 50, cipher=cipher)
    fresh.control.advance(25 * DAY)
    after, _ = client.walk(SEARCH, "return_orders", 50, cipher=cipher)
    old = {r["return_id"]: r for r in before}
    assert len(after) > len(before)
    for ret in after:
        if ret["return_id"] in old:
            assert ret["update_time"] >= old[ret["return_id"]]["update_time"]
    finals = ("COMPLETE", "REJECT", "CANCEL")
    assert all(r["return_status"].endswith(finals) for r in after if r["return_id"] in old)


def test_cancellations_refer_to_cancelled_orders(sandbox, client, orders_by_id):
    items, totals = client.walk(
        "/return_refund/202309/cancellations/search",
        "cancellations",
        20,
        cipher=sandbox.shops[0].cipher,
    )
    assert items and len(items) == totals[0]
    for cancel in items:
        order = orders_by_id[cancel["order_id"]]
        if cancel["cancel_status"] == "CANCELLATION_REQUEST_PENDING":
            assert order["status"] == "AWAITING_SHIPMENT"
            assert order["is_buyer_request_cancel"] is True
            assert order["request_cancel_time"] == cancel["create_time"]
        else:
            assert order["status"] == "CANCELLED"
            assert cancel["update_time"] == order["cancel_time"]
        assert {li["order_line_item_id"] for li in cancel["cancel_line_items"]} == {
            li["id"] for li in order["line_items"]
        }
        assert cancel["refund_amount"]["refund_total"] == order["payment"]["total_amount"]
