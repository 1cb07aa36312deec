"""Get Product and Product Search carry TikTok's documented fields, consistent with each other,
with the product's state and with its market (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline.sandbox.state import SandboxState, dumps
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

SEARCH = "/product/202502/products/search"
SEARCH_V1 = "/product/202309/products/search"
DAY = 86400
REGIONS = ("US", "ID", "ES", "GB")
#: status -> (product_status, audit.status) as TikTok splits the combined status.
SPLIT = {
    "DRAFT": ("DRAFT", "NONE"),
    "PENDING": ("ACTIVATE", {"AUDITING", "PRE_APPROVED"}),
    "FAILED": ("ACTIVATE", "FAILED"),
    "ACTIVATE": ("ACTIVATE", "APPROVED"),
    "SELLER_DEACTIVATED": ("SELLER_DEACTIVATED", "NONE"),
    "PLATFORM_DEACTIVATED": ("PLATFORM_DEACTIVATED", "NONE"),
    "FREEZE": ("FREEZE", "NONE"),
    "DELETED": ("DELETED", "NONE"),
}


@pytest.fixture(scope="module")
def shops() -> Iterator[RunningSandbox]:
    """Four shops (US, ID, ES, GB) of 120 products each, frozen at the anchor."""
    config = small_config(regions=REGIONS, shops=4, products_per_shop=120, orders_per_shop=50)
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(scope="module")
def seen(shops: RunningSandbox) -> dict[str, tuple[list[dict], dict[str, dict]]]:
    """Per region: the 202502 search items and Get Product of each, by id."""
    client = authorized_client(shops)
    out = {}
    for shop in shops.shops:
        items, _ = client.walk(SEARCH, "products", 100, cipher=shop.cipher)
        details = {p["id"]: _detail(client, shop.cipher, p["id"]) for p in items}
        out[shop.region] = (items, details)
    return out


def _detail(client: SignedClient, cipher: str, product_id: str) -> dict:
    return client.ok("GET", f"/product/202309/products/{product_id}", cipher=cipher)


def _gtin_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def test_status_audit_and_sku_status_agree(seen):
    statuses = set()
    for items, details in seen.values():
        for product in details.values():
            status = product["status"]
            statuses.add(status)
            product_status, audit = SPLIT[status]
            assert product["product_status"] == product_status
            expected = audit if isinstance(audit, set) else {audit}
            assert product["audit"]["status"] in expected
            failed = product["audit_failed_reasons"]
            if status in ("FAILED", "PLATFORM_DEACTIVATED"):
                assert failed and all(r["reasons"] and r["suggestions"] for r in failed)
                assert {r["listing_platform"] for r in failed} <= {"TIKTOK_SHOP", "TOKOPEDIA"}
            else:
                assert failed == []
            for sku in product["skus"]:
                info = sku["status_info"]
                if status in ("SELLER_DEACTIVATED", "DELETED"):
                    assert info == {"status": "DEACTIVATED", "deactivation_source": "SELLER"}
                elif status in ("PLATFORM_DEACTIVATED", "FREEZE"):
                    assert info == {"status": "DEACTIVATED", "deactivation_source": "PLATFORM"}
        for item in items:
            detail = details[item["id"]]
            assert item["status"] == detail["status"]
            assert item["audit"] == detail["audit"]
            assert [s["status_info"] for s in item["skus"]] == [
                s["status_info"] for s in detail["skus"]
            ]
    assert {"ACTIVATE", "SELLER_DEACTIVATED", "DELETED"} <= statuses


def test_market_specific_fields_appear_in_their_markets_only(seen):
    us = list(seen["US"][1].values())
    assert {p["listing_quality_tier"] for p in us} <= {"POOR", "FAIR", "GOOD"}
    assert all(p["package_weight"]["unit"] == "POUND" for p in us)
    assert all("subscribe_info" in p and p["audit"]["pre_approved_reasons"] is not None for p in us)
    assert any(p.get("product_families") for p in us)
    for region in ("ID", "ES", "GB"):
        for product in seen[region][1].values():
            assert "listing_quality_tier" not in product and "subscribe_info" not in product
            assert product["package_weight"]["unit"] == "KILOGRAM"
            assert "pre_approved_reasons" not in product["audit"]
    indonesia = list(seen["ID"][1].values())
    assert all(1 <= p["minimum_order_quantity"] <= 20 for p in indonesia)
    assert any(p["is_cod_allowed"] for p in indonesia)
    tokopedia = [p for p in indonesia if "integrated_platform_statuses" in p]
    assert tokopedia and all(
        p["integrated_platform_statuses"] == [{"platform": "TOKOPEDIA", "status": p["status"]}]
        for p in tokopedia
    )
    assert not any(p["is_cod_allowed"] for r in ("US", "ES", "GB") for p in seen[r][1].values())
    spain = list(seen["ES"][1].values())
    assert all(isinstance(p["manufacturer_ids"], list) for p in spain)
    assert any(p["manufacturer_ids"] and p["responsible_person_ids"] for p in spain)
    assert not any("manufacturer_ids" in p for r in ("US", "ID", "GB") for p in seen[r][1].values())


def test_skus_carry_valid_barcodes_and_consistent_prices(seen):
    for region, (items, details) in seen.items():
        kind = "UPC" if region == "US" else "EAN"
        for product in details.values():
            for sku in product["skus"]:
                code = sku["identifier_code"]
                assert code["type"] == kind and _gtin_valid(code["code"])
                assert float(sku["list_price"]["amount"]) >= float(sku["price"]["sale_price"])
                for external in sku.get("external_list_prices", []):
                    assert external["source"] == "SHOPIFY_COMPARE_AT_PRICE"
                    assert float(external["amount"]) >= float(sku["price"]["sale_price"])
                assert bool(sku["external_sku_id"]) == bool(product["external_product_id"])
                assert all(i["handling_time"] >= 1 for i in sku["inventory"])
        for item in items:
            detail = details[item["id"]]
            assert [s["price"]["sale_price"] for s in item["skus"]] == [
                s["price"]["sale_price"] for s in detail["skus"]
            ]


def test_pre_sale_terms_follow_the_market(seen):
    us = [s["pre_sale"] for p in seen["US"][1].values() for s in p["skus"] if "pre_sale" in s]
    assert {p["type"] for p in us} == {"PRE_ORDER", "MADE_TO_ORDER"}
    for terms in us:
        if terms["type"] == "PRE_ORDER":
            assert terms["fulfillment_type"]["release_date"] > ANCHOR
        else:
            assert 3 <= terms["fulfillment_type"]["handling_duration_days"] <= 14
    others = [
        s["pre_sale"]
        for r in ("ID", "ES", "GB")
        for p in seen[r][1].values()
        for s in p["skus"]
        if "pre_sale" in s
    ]
    assert others and all(
        t["type"] == "PRE_ORDER" and 3 <= t["fulfillment_type"]["handling_duration_days"] <= 30
        for t in others
    )


def test_virtual_bundles_show_their_source_skus_as_they_are(seen):
    bundles = 0
    for _, details in seen.values():
        for product in details.values():
            sources = [c for s in product["skus"] for c in s.get("combined_skus", [])]
            if not sources:
                assert "primary_combined_product_id" not in product
                continue
            bundles += 1
            assert product["primary_combined_product_id"] == sources[0]["product_id"]
            for combined in sources:
                source = details[combined["product_id"]]
                sku = next(s for s in source["skus"] if s["id"] == combined["sku_id"])
                assert combined["seller_sku"] == sku["seller_sku"]
                assert combined["title"] == source["title"]
                assert [(i["warehouse_id"], i["quantity"]) for i in combined["inventory"]] == [
                    (i["warehouse_id"], i["quantity"]) for i in sku["inventory"]
                ]
                assert combined["price"]["sale_price"] == sku["price"]["sale_price"]
                live = source["status"] not in (
                    "SELLER_DEACTIVATED",
                    "PLATFORM_DEACTIVATED",
                    "FREEZE",
                    "DELETED",
                )
                assert (combined["combined_listing_not_live_reasons"] == []) == live
                if not live:
                    assert all(s["status_info"]["status"] == "DEACTIVATED" for s in product["skus"])
    assert bundles >= len(seen) * 6 // 2


def test_search_202309_keeps_its_own_smaller_shape(shops):
    client = authorized_client(shops)
    cipher = shops.shops[0].cipher
    items, _ = client.walk(SEARCH_V1, "products", 100, cipher=cipher)
    keys = {k for p in items for k in p}
    assert keys == {
        "id",
        "title",
        "status",
        "create_time",
        "update_time",
        "sales_regions",
        "skus",
        "recommended_categories",
        "product_sync_fail_reasons",
    }
    sku_keys = {k for p in items for s in p["skus"] for k in s}
    assert sku_keys == {"id", "seller_sku", "price", "inventory", "fees"}


def test_rendering_is_deterministic_and_cached_bytes_match_a_fresh_render():
    """Cached search bytes equal a fresh rendering at every time, also for a virtual bundle whose
    source products change status (the cache key holds their state too)."""
    config = small_config(shops=1, products_per_shop=400, orders_per_shop=20)
    state, twin = SandboxState(config), SandboxState(config)
    world, catalog = state.worlds[0], state.worlds[0].catalog
    bundles = [p for p in catalog.products if catalog.traits(p).bundle]
    assert len(bundles) == 20
    times = [ANCHOR + k * 3 * DAY for k in range(-30, 11)]
    # (bundle, its own state) -> the statuses its SKUs were served with in that state.
    served: dict[tuple, set[tuple[str, ...]]] = {}
    for t in times:
        for p in bundles:
            for shape in ("search_202502", "detail"):
                cached = state.product_bytes(world, p.index, t, shape)
                assert cached == dumps(catalog.render(p, t, shape))
            assert cached == dumps(twin.worlds[0].catalog.render(p, t, "detail"))
            skus = catalog.render(p, t, "search_202502")["skus"]
            own = (p.index, *catalog.render_key(p, t)[:3])
            served.setdefault(own, set()).add(tuple(s["status_info"]["status"] for s in skus))
    # A source product changed (deactivated or deleted) while the bundle itself did not: a
    # cache keyed on the bundle's own state alone would have served stale bytes above.
    assert any(len(statuses) > 1 for statuses in served.values())
