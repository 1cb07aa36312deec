"""Orders: paging, filters, sorting, money identities, references, time, determinism."""

from __future__ import annotations

import base64
import time
from decimal import Decimal

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config

SEARCH = "/order/202309/orders/search"
DAY = 86400
ORDER_STATUSES = {
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
}


@pytest.fixture(scope="module")
def all_orders(sandbox, client):
    orders, _ = client.walk(SEARCH, "orders", 100, cipher=sandbox.shops[0].cipher)
    return orders


@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_walking_every_page_gives_total_count_distinct_orders(sandbox, client, page_size):
    body = {} if page_size != 1 else {"create_time_ge": ANCHOR - 3 * DAY}
    orders, totals = client.walk(SEARCH, "orders", page_size, body, cipher=sandbox.shops[0].cipher)
    assert len(set(totals)) == 1
    assert len(orders) == totals[0] > 0
    assert len({o["id"] for o in orders}) == len(orders)


def test_the_whole_history_is_there(sandbox, all_orders):
    # orders_per_shop orders in the `days` before the anchor (the clock is frozen at it).
    assert len(all_orders) == 400
    assert all(ANCHOR - 30 * DAY <= o["create_time"] <= ANCHOR for o in all_orders)


def test_default_sort_is_create_time_descending(all_orders):
    times = [o["create_time"] for o in all_orders]
    assert times == sorted(times, reverse=True)


def test_sort_ascending_and_by_update_time(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    asc, _ = client.walk(SEARCH, "orders", 100, query={"sort_order": "ASC"}, cipher=cipher)
    assert [o["id"] for o in asc] == [o["id"] for o in reversed(all_orders)]
    by_update, _ = client.walk(
        SEARCH,
        "orders",
        100,
        query={"sort_field": "update_time", "sort_order": "ASC"},
        cipher=cipher,
    )
    updates = [o["update_time"] for o in by_update]
    assert updates == sorted(updates)
    assert {o["id"] for o in by_update} == {o["id"] for o in all_orders}


def test_last_page_has_an_empty_next_page_token(sandbox, client):
    data = client.ok(
        "POST",
        SEARCH,
        {"page_size": 100},
        {"create_time_ge": ANCHOR - DAY},
        cipher=sandbox.shops[0].cipher,
    )
    assert data["total_count"] < 100
    assert data["next_page_token"] == ""


def test_status_filter(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    expected: dict[str, set[str]] = {}
    for order in all_orders:
        expected.setdefault(order["status"], set()).add(order["id"])
    assert {"COMPLETED", "CANCELLED"} <= set(expected)
    assert len(expected) >= 4
    for status, ids in expected.items():
        found, _ = client.walk(SEARCH, "orders", 100, {"order_status": status}, cipher=cipher)
        assert {o["id"] for o in found} == ids


def test_time_window_filters(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    lo, hi = ANCHOR - 10 * DAY, ANCHOR - 5 * DAY
    created, _ = client.walk(
        SEARCH, "orders", 50, {"create_time_ge": lo, "create_time_lt": hi}, cipher=cipher
    )
    assert {o["id"] for o in created} == {
        o["id"] for o in all_orders if lo <= o["create_time"] < hi
    }
    updated, _ = client.walk(
        SEARCH, "orders", 50, {"update_time_ge": lo, "update_time_lt": hi}, cipher=cipher
    )
    assert {o["id"] for o in updated} == {
        o["id"] for o in all_orders if lo <= o["update_time"] < hi
    }
    assert updated and created


def test_buyer_and_shipping_type_filters(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    buyer = all_orders[0]["user_id"]
    found, _ = client.walk(SEARCH, "orders", 100, {"buyer_user_id": buyer}, cipher=cipher)
    assert {o["id"] for o in found} == {o["id"] for o in all_orders if o["user_id"] == buyer}
    for shipping in ("TIKTOK", "SELLER"):
        found, _ = client.walk(SEARCH, "orders", 100, {"shipping_type": shipping}, cipher=cipher)
        assert {o["id"] for o in found} == {
            o["id"] for o in all_orders if o["shipping_type"] == shipping
        }


def test_money_identities(sandbox, client):
    for shop in sandbox.shops:
        orders, _ = client.walk(SEARCH, "orders", 100, cipher=shop.cipher)
        for order in orders:
            p = {k: Decimal(v) for k, v in order["payment"].items() if k != "currency"}
            assert p["sub_total"] == (
                p["original_total_product_price"] - p["seller_discount"] - p["platform_discount"]
            )
            assert p["shipping_fee"] == (
                p["original_shipping_fee"]
                - p["shipping_fee_seller_discount"]
                - p["shipping_fee_platform_discount"]
            )
            assert p["total_amount"] == (
                p["sub_total"] + p["shipping_fee"] + p["tax"] + p["retail_delivery_fee"]
            )
            assert p["tax"] == p["product_tax"] + p["shipping_fee_tax"]
            lines = order["line_items"]
            assert sum(Decimal(li["sale_price"]) for li in lines) == p["sub_total"]
            assert (
                sum(Decimal(li["original_price"]) for li in lines)
                == (p["original_total_product_price"])
            )
            currency = {"US": "USD", "GB": "GBP"}[shop.region]
            assert order["payment"]["currency"] == currency
            assert {li["currency"] for li in lines} == {currency}


def test_idr_amounts_have_no_decimals():
    with run_sandbox(small_config(shops=1, regions=("ID",), orders_per_shop=50)) as sb:
        client = authorized_client(sb)
        orders, _ = client.walk(SEARCH, "orders", 50, cipher=sb.shops[0].cipher)
        for order in orders:
            assert order["payment"]["currency"] == "IDR"
            assert all("." not in v for k, v in order["payment"].items() if k != "currency")


def test_one_line_item_per_unit_referring_to_real_skus(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    products, _ = client.walk("/product/202309/products/search", "products", 100, cipher=cipher)
    skus = {s["id"]: (p, s) for p in products for s in p["skus"]}
    units = 0
    for order in all_orders:
        for line in order["line_items"]:
            assert "quantity" not in line
            product, sku = skus[line["sku_id"]]
            assert line["product_id"] == product["id"]
            assert line["product_name"] == product["title"]
            assert line["seller_sku"] == sku["seller_sku"]
            assert line["original_price"] == sku["price"]["sale_price"]
            units += 1
    assert units > len(all_orders)  # some orders have several units
    assert len({li["id"] for o in all_orders for li in o["line_items"]}) == units


def test_times_and_statuses_are_consistent(all_orders):
    assert {o["status"] for o in all_orders} <= ORDER_STATUSES
    for order in all_orders:
        c = order["create_time"]
        assert c <= order["update_time"] <= ANCHOR
        status = order["status"]
        if status != "UNPAID" and status != "CANCELLED":
            assert c <= order["paid_time"] <= order["update_time"]
            assert order["packages"] and all(
                li["package_id"] == order["packages"][0]["id"] for li in order["line_items"]
            )
        if status in ("AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"):
            assert order["paid_time"] <= order["rts_time"]
            assert order["tracking_number"]
        if status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
            assert order["rts_time"] <= order["collection_time"]
        if status in ("DELIVERED", "COMPLETED"):
            assert order["collection_time"] <= order["delivery_time"] <= order["update_time"]
        if status == "CANCELLED":
            assert order["cancel_time"] == order["update_time"]
            assert order["cancellation_initiator"] in ("BUYER", "SELLER", "SYSTEM")
        else:
            assert "cancel_time" not in order
        assert order["is_on_hold_order"] == (status == "ON_HOLD")
        display = "AWAITING_SHIPMENT" if status == "ON_HOLD" else status
        assert {li["display_status"] for li in order["line_items"]} == {display}


def test_order_detail_matches_the_list(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    wanted = all_orders[:50]
    for version in ("202309", "202507"):
        data = client.ok(
            "GET",
            f"/order/{version}/orders",
            {"ids": ",".join(o["id"] for o in wanted)},
            cipher=cipher,
        )
        assert data["orders"] == wanted


def test_order_detail_limits(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    too_many = client.call(
        "GET",
        "/order/202309/orders",
        {"ids": ",".join(o["id"] for o in all_orders[:51])},
        cipher=cipher,
    )
    assert too_many.json()["code"] == 36009004
    other_shop = client.call(
        "GET", "/order/202309/orders", {"ids": all_orders[0]["id"]}, cipher=sandbox.shops[1].cipher
    )
    assert other_shop.json()["code"] == 21008111
    unknown = client.call(
        "GET", "/order/202309/orders", {"ids": "576999999999999999"}, cipher=cipher
    )
    assert unknown.json()["code"] == 21008111


def test_price_detail_agrees_with_the_payment(sandbox, client, all_orders):
    cipher = sandbox.shops[0].cipher
    order = all_orders[3]
    data = client.ok("GET", f"/order/202407/orders/{order['id']}/price_detail", cipher=cipher)
    assert data["total"] == order["payment"]["total_amount"]
    assert data["subtotal"] == order["payment"]["sub_total"]
    assert [li["id"] for li in data["line_items"]] == [li["id"] for li in order["line_items"]]


def test_page_tokens_are_opaque_and_bound_to_the_query(sandbox, client):
    cipher = sandbox.shops[0].cipher
    first = client.ok("POST", SEARCH, {"page_size": 10}, {}, cipher=cipher)
    token = first["next_page_token"]
    second = client.ok("POST", SEARCH, {"page_size": 10, "page_token": token}, {}, cipher=cipher)
    token2 = second["next_page_token"]
    raw1, raw2 = (base64.b64decode(t + "=" * (-len(t) % 4)) for t in (token, token2))
    assert raw1[:8] != raw2[:8]
    assert (10).to_bytes(4, "big") not in raw1 and (20).to_bytes(4, "big") not in raw2
    other_filter = client.call(
        "POST",
        SEARCH,
        {"page_size": 10, "page_token": token},
        {"order_status": "COMPLETED"},
        cipher=cipher,
    ).json()
    assert other_filter["code"] == 36009004
    assert "page_token" in other_filter["message"]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (
        client.call(
            "POST", SEARCH, {"page_size": 10, "page_token": forged}, {}, cipher=cipher
        ).json()["code"]
        == 36009004
    )


def test_same_seed_and_anchor_give_the_same_data(sandbox, client):
    first = client.ok("POST", SEARCH, {"page_size": 20}, {}, cipher=sandbox.shops[0].cipher)
    with run_sandbox(small_config()) as twin:
        twin_client = authorized_client(twin)
        assert [s.id for s in twin.shops] == [s.id for s in sandbox.shops]
        again = twin_client.ok("POST", SEARCH, {"page_size": 20}, {}, cipher=twin.shops[0].cipher)
        assert again["orders"] == first["orders"]
    with run_sandbox(small_config(seed=8)) as other:
        other_client = authorized_client(other)
        different = other_client.ok(
            "POST", SEARCH, {"page_size": 20}, {}, cipher=other.shops[0].cipher
        )
        assert different["orders"] != first["orders"]


def test_orders_move_and_arrive_as_the_clock_advances(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    before, _ = client.walk(SEARCH, "orders", 100, cipher=cipher)
    open_orders = {o["id"]: o for o in before if o["status"] not in ("COMPLETED", "CANCELLED")}
    assert open_orders
    fresh.control.advance(15 * DAY)
    after, _ = client.walk(SEARCH, "orders", 100, cipher=cipher)
    by_id = {o["id"]: o for o in after}
    for order_id, old in open_orders.items():
        new = by_id[order_id]
        assert new["status"] in ("COMPLETED", "CANCELLED")
        assert new["update_time"] > old["update_time"]
    # New orders keep coming at the same rate (400 per 30 days: about 200 in 15 days).
    assert 150 < len(after) - len(before) < 250
    assert max(o["create_time"] for o in after) <= fresh.control.now()


def test_a_flowing_clock_starts_at_the_anchor_and_moves_with_real_time():
    with run_sandbox(small_config(frozen_clock=False)) as sb:
        first = sb.control.now()
        assert ANCHOR <= first <= ANCHOR + 5
        sb.control.advance(3 * DAY)
        assert sb.control.now() >= first + 3 * DAY


def test_without_an_anchor_the_data_ends_today():
    with run_sandbox(
        small_config(anchor=None, frozen_clock=False, orders_per_shop=60, days=3)
    ) as sb:
        client = authorized_client(sb)
        today = int(time.time()) // DAY * DAY
        orders, _ = client.walk(SEARCH, "orders", 100, cipher=sb.shops[0].cipher)
        created = [o["create_time"] for o in orders]
        assert min(created) >= today - 3 * DAY
        assert max(created) <= time.time() + 1
        # Orders keep arriving after midnight at the same rate (60 per 3 days).
        assert len(orders) >= 60
