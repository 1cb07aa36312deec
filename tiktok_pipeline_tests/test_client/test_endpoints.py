"""The endpoint table covers every method of the original package with its verb and path."""

from __future__ import annotations

import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.client.endpoints import Endpoint, build_endpoints

# The original package's method table (reference/original-package.md §1.2), as TikTok serves it.
ORIGINAL_METHODS = {
    "authorization.shops": ("GET", "/authorization/202309/shops", False),
    "seller.shops": ("GET", "/seller/202309/shops", False),
    "event.webhook_list": ("GET", "/event/202309/webhooks", True),
    "event.update_webhook": ("PUT", "/event/202309/webhooks", True),
    "event.delete_webhook": ("DELETE", "/event/202309/webhooks", True),
    "order.list": ("POST", "/order/202309/orders/search", True),
    "order.detail": ("GET", "/order/202309/orders", True),
    "order.price_detail": ("GET", "/order/202407/orders/{order_id}/price_detail", True),
    "order.external_orders": ("GET", "/order/202406/orders/{order_id}/external_orders", True),
    "order.add_external_orders": ("POST", "/order/202406/orders/external_orders", True),
    "order.search_external_orders": ("POST", "/order/202406/orders/external_order_search", True),
    "product.get": ("GET", "/product/202309/products/{product_id}", True),
    "product.list": ("POST", "/product/202502/products/search", True),
    "product.update_inventory": (
        "POST",
        "/product/202309/products/{product_id}/inventory/update",
        True,
    ),
    "returns.get": ("GET", "/return_refund/202309/returns/{return_id}/records", True),
    "returns.list": ("POST", "/return_refund/202309/returns/search", True),
    "finance.statements": ("GET", "/finance/202309/statements", True),
    "finance.payments": ("GET", "/finance/202605/payments", True),
    "finance.withdrawals": ("GET", "/finance/202309/withdrawals", True),
    "finance.unsettled_transactions": ("GET", "/finance/202507/orders/unsettled", True),
    "finance.transactions_by_order": (
        "GET",
        "/finance/202501/orders/{order_id}/statement_transactions",
        True,
    ),
    "finance.transactions_by_statement": (
        "GET",
        "/finance/202501/statements/{statement_id}/statement_transactions",
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(ORIGINAL_METHODS))
def test_every_original_method_has_its_verb_path_and_cipher_rule(name):
    endpoint = build_endpoints()[name]
    assert (endpoint.method, endpoint.path, endpoint.shop_cipher) == ORIGINAL_METHODS[name]


def test_a_user_can_pin_a_version_and_add_an_endpoint():
    table = build_endpoints(
        {
            "order.foo": "POST /order/202309/foo",
            "logistics.warehouses": "/logistics/202309/warehouses",
        },
        {"order.detail": "202507", "returns.list": "202602"},
    )
    assert table["order.detail"].path == "/order/202507/orders"
    assert table["returns.list"].path == "/return_refund/202602/returns/search"
    assert table["order.foo"].method == "POST"
    assert table["logistics.warehouses"].method == "GET"  # a bare path means GET

    client = TikTokShopClient("k", "s", endpoints={"logistics.warehouses": "/logistics/202309/w"})
    api = client.shop(access_token="t", cipher="c")
    assert "warehouses" in dir(api.logistics)
    assert "logistics" in client.services


def test_bad_routes_and_versions_are_refused_clearly():
    with pytest.raises(ValueError, match="VERB /path"):
        Endpoint.parse("order.bad", "FETCH /x")
    with pytest.raises(ValueError, match=r"unknown endpoint 'order\.nope'"):
        build_endpoints(versions={"order.nope": "202507"})
    with pytest.raises(ValueError, match="cannot set version"):
        build_endpoints(versions={"order.detail": "v2"})


def test_path_params_fill_placeholders_and_missing_ones_say_which():
    endpoint = build_endpoints()["order.price_detail"]
    assert endpoint.render_path({"order_id": "576"}) == "/order/202407/orders/576/price_detail"
    assert endpoint.render_path("577") == "/order/202407/orders/577/price_detail"
    with pytest.raises(ValueError, match="'order_id'"):
        endpoint.render_path(None)


def test_unknown_method_names_the_known_ones():
    api = TikTokShopClient("k", "s").shop(access_token="t", cipher="c")
    with pytest.raises(AttributeError, match="detail, external_orders"):
        api.order.nope  # noqa: B018
    with pytest.raises(AttributeError, match="services: authorization"):
        api.nope  # noqa: B018


def test_search_posts_are_retry_safe_but_writes_are_not():
    table = build_endpoints()
    assert table["order.list"].idempotent
    assert table["event.update_webhook"].idempotent
    assert not table["product.update_inventory"].idempotent
    assert not table["order.add_external_orders"].idempotent
