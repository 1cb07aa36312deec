"""Products: paging, filters, the 10,000-result cap, detail, inventory update and search."""

from __future__ import annotations

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config

SEARCH_V1 = "/product/202309/products/search"
SEARCH_V2 = "/product/202502/products/search"
DAY = 86400


@pytest.fixture(scope="module")
def products(sandbox, client):
    items, _ = client.walk(SEARCH_V2, "products", 100, cipher=sandbox.shops[0].cipher)
    return items


@pytest.mark.parametrize("page_size", [3, 40, 100])
def test_walking_every_page_gives_total_count_distinct_products(sandbox, client, page_size):
    items, totals = client.walk(SEARCH_V1, "products", page_size, cipher=sandbox.shops[0].cipher)
    assert len(items) == totals[0] == 40
    assert len({p["id"] for p in items}) == 40


def test_product_shape(products):
    statuses = {p["status"] for p in products}
    assert "ACTIVATE" in statuses
    for product in products:
        assert product["create_time"] <= product["update_time"] <= ANCHOR
        assert 1 <= len(product["skus"])
        for sku in product["skus"]:
            assert sku["price"]["currency"] == "USD"
            assert 1 <= len(sku["inventory"]) <= 3
            assert all(isinstance(i["quantity"], int) for i in sku["inventory"])


def test_status_and_time_filters(sandbox, client, products):
    cipher = sandbox.shops[0].cipher
    active, _ = client.walk(SEARCH_V2, "products", 100, {"status": "ACTIVATE"}, cipher=cipher)
    assert {p["id"] for p in active} == {p["id"] for p in products if p["status"] == "ACTIVATE"}
    # update_time_le is inclusive (products use _ge/_le).
    edge = sorted(p["update_time"] for p in products)[len(products) // 2]
    upto, _ = client.walk(SEARCH_V2, "products", 100, {"update_time_le": edge}, cipher=cipher)
    assert {p["id"] for p in upto} == {p["id"] for p in products if p["update_time"] <= edge}
    since, _ = client.walk(SEARCH_V2, "products", 100, {"update_time_ge": edge}, cipher=cipher)
    assert {p["id"] for p in since} == {p["id"] for p in products if p["update_time"] >= edge}


def test_seller_sku_and_sku_id_filters(sandbox, client, products):
    cipher = sandbox.shops[0].cipher
    target = products[5]
    sku = target["skus"][0]
    by_seller_sku = client.ok(
        "POST", SEARCH_V1, {"page_size": 10}, {"seller_skus": [sku["seller_sku"]]}, cipher=cipher
    )
    assert [p["id"] for p in by_seller_sku["products"]] == [target["id"]]
    by_sku_id = client.ok(
        "POST", SEARCH_V2, {"page_size": 10}, {"sku_ids": [sku["id"]]}, cipher=cipher
    )
    assert [p["id"] for p in by_sku_id["products"]] == [target["id"]]
    too_many = client.call(
        "POST",
        SEARCH_V2,
        {"page_size": 10},
        {"sku_ids": [str(n) for n in range(11)]},
        cipher=cipher,
    )
    assert too_many.json()["code"] == 12019087


def test_product_detail(sandbox, client, products):
    cipher = sandbox.shops[0].cipher
    target = products[0]
    detail = client.ok("GET", f"/product/202309/products/{target['id']}", cipher=cipher)
    assert detail["id"] == target["id"] and detail["title"] == target["title"]
    assert [s["id"] for s in detail["skus"]] == [s["id"] for s in target["skus"]]
    assert detail["description"] and detail["category_chains"]
    other = client.call(
        "GET", f"/product/202309/products/{target['id']}", cipher=sandbox.shops[1].cipher
    ).json()
    assert other["code"] == 12052048
    missing = client.call(
        "GET", "/product/202309/products/1729999999999999999", cipher=cipher
    ).json()
    assert missing["code"] == 12052260


def test_search_results_are_capped_at_10000():
    with run_sandbox(small_config(shops=1, products_per_shop=10_050, orders_per_shop=10)) as sb:
        client = authorized_client(sb)
        cipher = sb.shops[0].cipher
        token = ""
        seen = 0
        for _ in range(100):
            query = {"page_size": 100, **({"page_token": token} if token else {})}
            data = client.ok("POST", SEARCH_V2, query, {}, cipher=cipher)
            seen += len(data["products"])
            token = data["next_page_token"]
        assert data["total_count"] == 10_050
        assert seen == 10_000 and token
        beyond = client.call(
            "POST", SEARCH_V2, {"page_size": 100, "page_token": token}, {}, cipher=cipher
        ).json()
        assert beyond["code"] == 12052180


def _active_product(products, warehouses: int):
    for product in products:
        if product["status"] == "ACTIVATE":
            for sku in product["skus"]:
                if len(sku["inventory"]) == warehouses:
                    return product, sku
    raise AssertionError("no such product")


def test_inventory_update_is_visible_everywhere(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    products, _ = client.walk(SEARCH_V2, "products", 100, cipher=cipher)
    product, sku = _active_product(products, 1)
    warehouse = sku["inventory"][0]["warehouse_id"]
    data = client.ok(
        "POST",
        f"/product/202309/products/{product['id']}/inventory/update",
        {},
        {"skus": [{"id": sku["id"], "inventory": [{"quantity": 4321}]}]},
        cipher=cipher,
    )
    assert data == {}
    detail = client.ok("GET", f"/product/202309/products/{product['id']}", cipher=cipher)
    updated = next(s for s in detail["skus"] if s["id"] == sku["id"])
    assert [(i["warehouse_id"], i["quantity"]) for i in updated["inventory"]] == [(warehouse, 4321)]
    assert detail["update_time"] == fresh.control.now() >= product["update_time"]
    inventory = client.ok(
        "POST", "/product/202309/inventory/search", {}, {"sku_ids": [sku["id"]]}, cipher=cipher
    )["inventory"]
    assert inventory[0]["product_id"] == product["id"]
    assert inventory[0]["skus"][0]["total_available_quantity"] == 4321
    truth = fresh.control.truth("products", fresh.shops[0].id)
    mine = next(p for p in truth if p["id"] == product["id"])
    assert next(s for s in mine["skus"] if s["id"] == sku["id"])["inventory"][0]["quantity"] == (
        4321
    )


def test_inventory_update_errors(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    products, _ = client.walk(SEARCH_V2, "products", 100, cipher=cipher)
    product, sku = _active_product(products, 2)
    path = f"/product/202309/products/{product['id']}/inventory/update"
    # A multi-warehouse SKU must list all of its warehouses.
    one = {
        "skus": [
            {
                "id": sku["id"],
                "inventory": [{"warehouse_id": sku["inventory"][0]["warehouse_id"], "quantity": 1}],
            }
        ]
    }
    assert client.call("POST", path, {}, one, cipher=cipher).json()["code"] == 12019028
    bad_qty = {"skus": [{"id": sku["id"], "inventory": [{"quantity": -1}]}]}
    assert client.call("POST", path, {}, bad_qty, cipher=cipher).json()["code"] == 12019024
    # Partial failure: an unknown SKU is reported in data.errors with code 0.
    mixed = {
        "skus": [
            {
                "id": sku["id"],
                "inventory": [
                    {"warehouse_id": i["warehouse_id"], "quantity": 7} for i in sku["inventory"]
                ],
            },
            {"id": "1730999999999999999", "inventory": [{"quantity": 1}]},
        ]
    }
    answer = client.call("POST", path, {}, mixed, cipher=cipher).json()
    assert answer["code"] == 0
    assert answer["data"]["errors"][0]["detail"]["sku_id"] == "1730999999999999999"
    detail = client.ok("GET", f"/product/202309/products/{product['id']}", cipher=cipher)
    assert {
        i["quantity"] for s in detail["skus"] if s["id"] == sku["id"] for i in s["inventory"]
    } == {7}


def test_products_change_when_the_clock_advances(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    before, _ = client.walk(SEARCH_V2, "products", 100, cipher=cipher)
    fresh.control.advance(10 * DAY)
    after, _ = client.walk(SEARCH_V2, "products", 100, cipher=cipher)
    old = {p["id"]: p for p in before}
    moved = [p for p in after if p["update_time"] > old[p["id"]]["update_time"]]
    assert len(moved) >= len(after) // 4
    assert any(p["skus"] != old[p["id"]]["skus"] for p in moved)
