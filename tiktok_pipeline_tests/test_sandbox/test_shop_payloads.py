"""Shops, shop webhooks and the external-order search as TikTok documents them (issue 15)."""

from __future__ import annotations

from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client

EXTERNAL_SEARCH = "/order/202406/orders/external_order_search"
WEBHOOKS = "/event/202309/webhooks"


def test_authorized_shops_describe_each_shop(sandbox, client):
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert [s["id"] for s in shops] == [s.id for s in sandbox.shops]
    for shop in shops:
        assert set(shop) == {"id", "name", "region", "seller_type", "cipher", "code"}
        assert all(isinstance(value, str) and value for value in shop.values())
        assert shop["id"].isdigit()
        assert shop["seller_type"] in ("CROSS_BORDER", "LOCAL")
        # Seller Center codes carry the region, cross-border ones a CN prefix too.
        prefix = "CN" if shop["seller_type"] == "CROSS_BORDER" else ""
        assert shop["code"].startswith(prefix + shop["region"])


def test_active_shops_are_the_authorized_ones_with_their_region(client):
    authorized = client.ok("GET", "/authorization/202309/shops")["shops"]
    active = client.ok("GET", "/seller/202309/shops")["shops"]
    assert active == [{"id": s["id"], "region": s["region"]} for s in authorized]


def test_webhook_list_keeps_the_creation_time_of_a_replaced_address(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    first = {"event_type": "RETURN_STATUS_CHANGE", "address": "https://example.com/a"}
    client.ok("PUT", WEBHOOKS, None, first, cipher=cipher)
    created = client.ok("GET", WEBHOOKS, cipher=cipher)["webhooks"][0]["create_time"]
    fresh.control.advance(3600)
    client.ok("PUT", WEBHOOKS, None, {**first, "address": "https://example.com/b"}, cipher=cipher)

    data = client.ok("GET", WEBHOOKS, cipher=cipher)

    assert data["total_count"] == len(data["webhooks"]) == 1
    (hook,) = data["webhooks"]
    assert hook == {
        "event_type": "RETURN_STATUS_CHANGE",
        "address": "https://example.com/b",
        "create_time": created,
        "update_time": created + 3600,
    }


def test_external_order_search_reads_its_filters_from_the_query(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    orders = client.ok("POST", "/order/202309/orders/search", {"page_size": 2}, {}, cipher=cipher)
    first, second = (o["id"] for o in orders["orders"])
    client.ok(
        "POST",
        "/order/202406/orders/external_orders",
        {},
        {
            "orders": [
                {
                    "order_id": first,
                    "external_orders": [{"platform": "SHOPIFY", "external_order_id": "#1"}],
                },
                {
                    "order_id": second,
                    "external_orders": [{"platform": "SHOPIFY", "external_order_id": "#2"}],
                },
            ]
        },
        cipher=cipher,
    )

    found = client.ok(
        "POST",
        EXTERNAL_SEARCH,
        {"platform": "SHOPIFY", "external_order_id": "#2"},
        {},
        cipher=cipher,
    )
    other_platform = client.ok(
        "POST",
        EXTERNAL_SEARCH,
        {"platform": "AMAZON", "external_order_id": "#2"},
        {},
        cipher=cipher,
    )

    assert [o["order_id"] for o in found["orders"]] == [second]
    assert found["total_count"] == 1
    assert other_platform["orders"] == []


def test_external_order_search_refuses_filters_in_the_body(fresh):
    client = authorized_client(fresh)
    cipher = fresh.shops[0].cipher
    in_body = client.call(
        "POST",
        EXTERNAL_SEARCH,
        {},
        {"platform": "SHOPIFY", "external_order_id": "#1"},
        cipher=cipher,
    ).json()
    no_id = client.call("POST", EXTERNAL_SEARCH, {"platform": "SHOPIFY"}, {}, cipher=cipher).json()

    assert in_body["code"] == no_id["code"] == 36009004
    assert "`platform` is required (a query parameter, not a body field)" in in_body["message"]
    assert "`external_order_id` is required" in no_id["message"]
