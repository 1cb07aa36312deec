"""The order members TikTok documents beyond the basics, as a client reads them over HTTP.

Buyer profile, Brazil's CPF and invoice, SLA times, the payment provider's discount, shipping
VAT per line item and combined listings: present where TikTok sends them, consistent with the
rest of the order, the same in Get Order List and Get Order Detail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202309/orders"
DAY = 86400
REGIONS = ("US", "GB", "BR", "TH")
#: VAT included in the shipping fee of the regions above.
SHIPPING_VAT = {"US": Decimal(0), "GB": Decimal("0.2"), "BR": Decimal(0), "TH": Decimal("0.07")}
PAID_STATUSES = {"AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningSandbox, SignedClient, dict[str, list[dict]]]]:
    """A sandbox with a shop per region, its client, and every order of each shop by region."""
    config = small_config(shops=len(REGIONS), regions=REGIONS, orders_per_shop=300, days=20)
    with run_sandbox(config) as sandbox:
        client = authorized_client(sandbox)
        orders = {
            shop.region: client.walk(SEARCH, "orders", 100, cipher=shop.cipher)[0]
            for shop in sandbox.shops
        }
        yield sandbox, client, orders


@pytest.fixture(scope="module")
def orders(served) -> dict[str, list[dict]]:
    return served[2]


def test_a_buyer_has_one_nickname_and_avatar_across_orders(orders):
    for region_orders in orders.values():
        profile: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for order in region_orders:
            assert order["buyer_nickname"]
            assert order["buyer_avatar"].startswith("https://")
            profile[order["user_id"]].add((order["buyer_nickname"], order["buyer_avatar"]))
        assert all(len(seen) == 1 for seen in profile.values())
        nicknames = {next(iter(seen))[0] for seen in profile.values()}
        assert len(nicknames) == len(profile)  # different buyers, different nicknames


def test_only_brazilian_orders_carry_a_cpf_and_an_invoice_state(orders):
    for order in orders["BR"]:
        assert len(order["cpf"]) == 11 and order["cpf"].isdigit()
        assert order["cpf_name"] == order["recipient_address"]["name"]
        expected = {
            "AWAITING_SHIPMENT": "NEED_INVOICE",
            "UNPAID": "NO_NEED",
            "ON_HOLD": "NO_NEED",
            "CANCELLED": "NO_NEED",
        }.get(order["status"], "INVOICE_UPLOADED")
        assert order["need_upload_invoice"] == expected
    assert {o["need_upload_invoice"] for o in orders["BR"]} == {
        "NEED_INVOICE",
        "NO_NEED",
        "INVOICE_UPLOADED",
    }
    for region in ("US", "GB", "TH"):
        for order in orders[region]:
            assert (order["cpf"], order["cpf_name"]) == ("", "")
            assert "need_upload_invoice" not in order


def test_paid_orders_have_a_recommended_shipping_time_and_thai_express_ones_a_fast_dispatch_sla(
    orders,
):
    fast = 0
    for region, region_orders in orders.items():
        for order in region_orders:
            if order["status"] not in PAID_STATUSES:
                continue
            next_day = order["paid_time"] + DAY
            assert order["recommended_shipping_time"] == next_day
            assert order["rts_sla_time"] == order["paid_time"] + 2 * DAY
            assert order["handling_duration"] == {"days": "2", "type": "CALENDAR_DAY"}
            # Fast dispatch is a Thai and Philippine programme.
            express = order["delivery_option_name"] == "Express Shipping" and region == "TH"
            assert order.get("fast_dispatch_sla_time") == (next_day if express else None)
            fast += express
        never_paid = [o for o in region_orders if "paid_time" not in o]
        assert never_paid
        assert not any("fast_dispatch_sla_time" in o for o in never_paid)
        assert not any("recommended_shipping_time" in o for o in never_paid)
    assert fast > 0


def test_payment_platform_discount_is_funded_outside_the_order_total(orders):
    discounted = 0
    for region_orders in orders.values():
        for order in region_orders:
            p = {k: Decimal(v) for k, v in order["payment"].items() if k != "currency"}
            assert p["total_amount"] == (
                p["sub_total"] + p["shipping_fee"] + p["tax"] + p["retail_delivery_fee"]
            )
            assert p["payment_discount_service_fee"] == p["distance_fee"] == 0
            if p["payment_platform_discount"]:
                discounted += 1
                assert order["payment_method_name"] != "Cash on delivery"
                assert 0 < p["payment_platform_discount"] <= p["original_shipping_fee"]
                assert p["payment_platform_discount"] <= p["total_amount"] * Decimal("0.05")
            code = order["payment_method_code"]
            card = order["payment_card_type"]
            assert code == "CCDC" if order["payment_method_name"] == "CCDC" else code != "CCDC"
            assert bool(card) == (code == "CCDC")
    assert discounted > 0


def test_line_items_carry_the_vat_included_in_their_share_of_shipping(orders):
    for region, region_orders in orders.items():
        rate = SHIPPING_VAT[region]
        unit = Decimal("0.01")
        for order in region_orders:
            lines = order["line_items"]
            assert {Decimal(li["shipping_vat_rate"]) for li in lines} == {rate}
            vat = sum(Decimal(li["shipping_vat_amount"]) for li in lines)
            included = Decimal(order["payment"]["shipping_fee"]) * rate / (1 + rate)
            # Each line's share is rounded down to the currency's unit.
            assert included - len(lines) * unit < vat <= included
        if rate:
            assert any(
                Decimal(li["shipping_vat_amount"]) for o in region_orders for li in o["line_items"]
            )


def test_combined_listings_name_real_skus_of_the_shop(served):
    sandbox, client, orders = served
    shop = sandbox.shops[0]
    products, _ = client.walk(
        "/product/202309/products/search", "products", 100, cipher=shop.cipher
    )
    skus = {s["id"]: (p["id"], s["seller_sku"]) for p in products for s in p["skus"]}
    combined = 0
    for order in orders[shop.region]:
        for line in order["line_items"]:
            assert line["handling_duration_days"] == "2"
            parts = line["combined_listing_skus"]
            combined += bool(parts)
            for part in parts:
                assert part["sku_count"] == 1
                assert skus[part["sku_id"]] == (part["product_id"], part["seller_sku"])
                assert part["sku_id"] != line["sku_id"]
    assert combined > 0


def test_order_detail_serves_the_new_members_as_the_list_does(served):
    sandbox, client, orders = served
    for shop in sandbox.shops:
        listed = orders[shop.region][:: max(1, len(orders[shop.region]) // 40)][:50]
        ids = ",".join(o["id"] for o in listed)
        detail = client.ok("GET", DETAIL, {"ids": ids}, cipher=shop.cipher)["orders"]
        assert detail == listed


def test_address_levels_carry_iso_codes(orders):
    for region, region_orders in orders.items():
        for order in region_orders:
            levels = order["recipient_address"]["district_info"]
            country, state, city = (level["iso_code"] for level in levels)
            assert country == region == order["recipient_address"]["region_code"]
            assert state.startswith(f"{region}-") and len(state) > len(region) + 1
            assert city == ""


def test_japanese_recipients_have_their_names_in_katakana(orders):
    with run_sandbox(small_config(shops=1, regions=("JP",), orders_per_shop=60)) as sandbox:
        client = authorized_client(sandbox)
        japanese, _ = client.walk(SEARCH, "orders", 60, cipher=sandbox.shops[0].cipher)
    assert japanese
    for order in japanese:
        address = order["recipient_address"]
        for part in ("first_name_local_script", "last_name_local_script"):
            assert address[part]
            assert all("\u30a0" <= ch <= "\u30ff" for ch in address[part])  # katakana
    seen = {
        (o["recipient_address"]["first_name"], o["recipient_address"]["first_name_local_script"])
        for o in japanese
    }
    assert len({latin for latin, _ in seen}) == len(seen)  # one reading per name
    for region_orders in orders.values():
        assert not any("first_name_local_script" in o["recipient_address"] for o in region_orders)
