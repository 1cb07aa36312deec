"""Products the seller deletes, and the dormant ones, as the sandbox serves them over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline_tests.test_sandbox.conftest import ANCHOR, authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.test_webhooks import Receiver

SEARCH = "/product/202502/products/search"
DAY = 86400
PRODUCTS = 400


@pytest.fixture
def catalog() -> Iterator[RunningSandbox]:
    """One shop of 400 products (about 12 deleted at some time), frozen at the anchor."""
    with run_sandbox(small_config(shops=1, products_per_shop=PRODUCTS)) as running:
        yield running


def _by_id(products: list[dict]) -> dict[str, dict]:
    return {p["id"]: p for p in products}


def test_deleted_products_are_served_deleted_everywhere(catalog):
    client = authorized_client(catalog)
    cipher = catalog.shops[0].cipher
    everything, _ = client.walk(SEARCH, "products", 100, cipher=cipher)
    assert len(everything) == PRODUCTS  # deleted products stay in the ALL search
    deleted = [p for p in everything if p["status"] == "DELETED"]
    assert 3 <= len(deleted) <= 20
    filtered, _ = client.walk(SEARCH, "products", 100, {"status": "DELETED"}, cipher=cipher)
    assert _by_id(filtered).keys() == _by_id(deleted).keys()
    assert all(p["update_time"] <= ANCHOR for p in deleted)

    gone = deleted[0]
    detail = client.ok("GET", f"/product/202309/products/{gone['id']}", cipher=cipher)
    assert detail["status"] == "DELETED"
    assert detail["update_time"] == gone["update_time"]
    # TikTok's split of the status: the product is deleted, no audit applies, SKUs are off.
    assert (detail["product_status"], detail["audit"]["status"]) == ("DELETED", "NONE")
    assert detail["audit_failed_reasons"] == []
    assert {s["status_info"]["status"] for s in detail["skus"]} == {"DEACTIVATED"}
    assert {s["status_info"]["status"] for s in gone["skus"]} == {"DEACTIVATED"}
    sku = gone["skus"][0]
    answer = client.call(
        "POST",
        f"/product/202309/products/{gone['id']}/inventory/update",
        body={
            "skus": [
                {
                    "id": sku["id"],
                    "inventory": [
                        {"warehouse_id": i["warehouse_id"], "quantity": 5} for i in sku["inventory"]
                    ],
                }
            ]
        },
        cipher=cipher,
    ).json()
    assert answer["code"] == 12052260

    # A deleted product no longer changes: a month later it is served exactly the same.
    catalog.control.advance(30 * DAY)
    later = client.ok("GET", f"/product/202309/products/{gone['id']}", cipher=cipher)
    assert later == detail


def test_a_deletion_is_pushed_as_a_status_change_at_its_time(catalog):
    client = authorized_client(catalog)
    cipher = catalog.shops[0].cipher
    before = _by_id(client.walk(SEARCH, "products", 100, cipher=cipher)[0])
    receiver = Receiver()
    try:
        client.ok(
            "PUT",
            "/event/202309/webhooks",
            body={"address": receiver.url, "event_type": "PRODUCT_STATUS_CHANGE"},
            cipher=cipher,
        )
        result = catalog.control.advance(31 * DAY)
        receiver.wait_for(result["pushed"])
        pushes = [b["data"] for b in receiver.bodies() if b["data"].get("status") == "DELETED"]
    finally:
        receiver.close()
    after = _by_id(client.walk(SEARCH, "products", 100, cipher=cipher)[0])
    newly_deleted = {
        i for i, p in after.items() if p["status"] == "DELETED" and before[i]["status"] != "DELETED"
    }
    assert newly_deleted, "some products are deleted after the anchor"
    assert {d["product_id"] for d in pushes} == newly_deleted
    for data in pushes:
        assert data["update_time"] == after[data["product_id"]]["update_time"] > ANCHOR
        assert set(data) == {"product_id", "status", "suspended_reason", "update_time"}


def test_dormant_products_last_changed_long_before_the_history(catalog):
    client = authorized_client(catalog)
    everything, _ = client.walk(SEARCH, "products", 100, cipher=catalog.shops[0].cipher)
    # About a tenth of a catalog was created long ago and never touched since.
    old = [p for p in everything if p["update_time"] < ANCHOR - 120 * DAY]
    assert PRODUCTS // 20 <= len(old) <= PRODUCTS // 5
    assert all(p["update_time"] == p["create_time"] or p["status"] == "DELETED" for p in old)
