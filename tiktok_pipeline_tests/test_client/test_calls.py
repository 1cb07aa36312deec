"""Every client method, sent over HTTP to the sandbox, is accepted: verb, path, query, cipher,
headers and signature are what TikTok checks. Plus pagination and the token calls."""

from __future__ import annotations

import pytest

from tiktok_pipeline.client import AuthorizationCodeInvalid, TikTokAPIError
from tiktok_pipeline.client.endpoints import ENDPOINTS, ITEMS_KEYS


@pytest.fixture
def ids(api):
    """Real ids from the shop, for methods that need one."""
    order = api.order.list(query={"page_size": 1})["data"]["orders"][0]
    product = api.product.list(query={"page_size": 1})["data"]["products"][0]
    returned = api.returns.list(query={"page_size": 10})["data"]["return_orders"][0]
    statements = api.finance.statements(query={"page_size": 1, "sort_field": "statement_time"})[
        "data"
    ]["statements"]
    return {
        "order_id": order["id"],
        "product": product,
        "return_id": returned["return_id"],
        "statement_id": statements[0]["id"],
    }


def _arguments(name: str, ids: dict) -> dict:
    sku = ids["product"]["skus"][0]
    order_sort = {"page_size": 5, "sort_field": "order_create_time"}
    return {
        "event.update_webhook": {
            "body": {
                "address": "https://example.com/tiktok/webhooks/all",
                "event_type": "PACKAGE_UPDATE",
            }
        },
        "event.delete_webhook": {"body": {"event_type": "PACKAGE_UPDATE"}},
        "order.list": {"query": {"page_size": 5}, "body": {"order_status": "COMPLETED"}},
        "order.detail": {"query": {"ids": [ids["order_id"]]}},
        "order.price_detail": {"params": {"order_id": ids["order_id"]}},
        "order.external_orders": {"params": {"order_id": ids["order_id"]}},
        "order.add_external_orders": {
            "body": {
                "orders": [
                    {
                        "order_id": ids["order_id"],
                        "external_orders": [{"platform": "SHOPIFY", "external_order_id": "X-1"}],
                    }
                ]
            }
        },
        "order.search_external_orders": {
            "query": {"page_size": 5, "platform": "SHOPIFY", "external_order_id": "X-1"},
        },
        "product.get": {"params": {"product_id": ids["product"]["id"]}},
        "product.list": {"query": {"page_size": 5}, "body": {"status": "ALL"}},
        "product.update_inventory": {
            "params": {"product_id": ids["product"]["id"]},
            "body": {"skus": [{"id": sku["id"], "inventory": sku["inventory"]}]},
        },
        "product.inventory_search": {"body": {"product_ids": [ids["product"]["id"]]}},
        "returns.get": {"params": {"return_id": ids["return_id"]}},
        "returns.list": {"query": {"page_size": 10}},
        "returns.cancellations": {"query": {"page_size": 10}},
        "finance.statements": {"query": {"page_size": 5, "sort_field": "statement_time"}},
        "finance.payments": {"query": {"page_size": 5, "sort_field": "create_time"}},
        "finance.withdrawals": {"query": {"page_size": 5, "types": "WITHDRAW"}},
        "finance.unsettled_transactions": {"query": order_sort},
        "finance.transactions_by_order": {"params": {"order_id": ids["order_id"]}},
        "finance.transactions_by_statement": {
            "params": {"statement_id": ids["statement_id"]},
            "query": order_sort,
        },
    }.get(name, {})


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_sandbox_accepts_every_method(api, ids, name):
    service, method = name.split(".")
    response = getattr(getattr(api, service), method)(**_arguments(name, ids))
    assert response["code"] == 0, response
    assert response["message"].lower() == "success"
    assert response["request_id"]
    assert isinstance(response["data"], dict)


@pytest.mark.parametrize("name", sorted(ITEMS_KEYS))
def test_pages_of_every_list_method_find_its_items(api, ids, name):
    """``pages()`` reads each list method's items under the key TikTok uses: a wrong key would
    walk the pages and find nothing."""
    service, method = name.split(".")
    arguments = _arguments(name, ids)
    if name == "order.search_external_orders":
        api.order.add_external_orders(**_arguments("order.add_external_orders", ids))
    if name == "event.webhook_list":
        api.event.update_webhook(**_arguments("event.update_webhook", ids))
    if name == "finance.withdrawals":
        arguments = {"query": {"page_size": 5, "types": "SETTLE"}}  # the sandbox pays out only
    if name == "finance.transactions_by_statement":
        # The newest statements settle orders; the first ones of a new shop may settle none.
        newest = api.finance.statements(
            query={"page_size": 1, "sort_field": "statement_time", "sort_order": "DESC"}
        )["data"]["statements"][0]
        arguments = {**arguments, "params": {"statement_id": newest["id"]}}

    items = list(getattr(api, service).pages(method, **arguments).items())

    assert items, f"{name}: no items under {ITEMS_KEYS[name]!r}"
    assert all(isinstance(item, dict) for item in items)


def test_the_order_statement_is_one_object_not_a_list(api, ids):
    with pytest.raises(TypeError, match="not a paginated list method"):
        api.finance.pages("transactions_by_order")
    data = api.finance.transactions_by_order(params={"order_id": ids["order_id"]})["data"]
    assert data["order_id"] == ids["order_id"]
    assert isinstance(data["sku_transactions"], list)


def test_authorization_and_seller_calls_need_no_cipher(client, tokens, sandbox):
    seller = client.shop(access_token=tokens["access_token"])  # no cipher at all
    shops = seller.authorization.shops()["data"]["shops"]
    assert {s["id"] for s in shops} == {s.id for s in sandbox.shops}
    assert {s["cipher"] for s in shops} == {s.cipher for s in sandbox.shops}
    assert seller.seller.shops()["data"]["shops"]


def test_order_detail_returns_the_listed_orders(api):
    listed = api.order.list(query={"page_size": 3})["data"]["orders"]
    detail = api.order.detail(query={"ids": [o["id"] for o in listed]})["data"]["orders"]
    assert sorted(o["id"] for o in detail) == sorted(o["id"] for o in listed)


def test_a_pinned_version_is_used(sandbox, tokens, shop):
    from tiktok_pipeline.client import TikTokShopClient

    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        versions={"order.detail": "202507", "product.list": "202309", "returns.list": "202602"},
    )
    api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
    order_id = api.order.list(query={"page_size": 1})["data"]["orders"][0]["id"]
    assert api.order.detail(query={"ids": order_id})["data"]["orders"][0]["id"] == order_id
    assert api.product.list(query={"page_size": 1})["code"] == 0
    assert api.returns.list(query={"page_size": 10})["code"] == 0
    before = sandbox.control.stats()["requests"]
    api.order.detail(query={"ids": order_id})
    after = sandbox.control.stats()["requests"]
    assert after.get("GET /order/202507/orders", 0) == before.get("GET /order/202507/orders", 0) + 1


@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_pages_walk_exactly_total_count_distinct_orders(api, page_size, sandbox, shop):
    window = {"update_time_ge": 0}
    if page_size == 1:
        # A narrower window keeps the one-per-page walk short.
        newest = api.order.list(query={"page_size": 1})["data"]["orders"][0]["create_time"]
        window = {"create_time_ge": newest - 86400}
    pages = list(api.order.pages(query={"page_size": page_size}, body=window))
    ids = [order["id"] for page in pages for order in page.items]
    assert len(ids) == len(set(ids)) == pages[0].total_count > 0
    assert all(len(page.items) <= page_size for page in pages)
    assert pages[-1].next_page_token is None


def test_items_iterates_over_every_page(api):
    returns = list(api.returns.pages(query={"page_size": 10}).items())
    assert len({r["return_id"] for r in returns}) == len(returns)
    total = api.returns.list(query={"page_size": 10})["data"]["total_count"]
    assert len(returns) == total


def test_token_exchange_and_refresh(client, sandbox):
    data = client.auth.access_token(sandbox.authorize())["data"]
    assert data["access_token"].startswith("TTP_") and data["open_id"]
    refreshed = client.auth.refresh_access_token(data["refresh_token"])["data"]
    assert refreshed["access_token"] != data["access_token"]
    assert refreshed["access_token_expire_in"] >= data["access_token_expire_in"]


def test_a_used_auth_code_is_refused_with_a_clear_error(client, sandbox):
    code = sandbox.authorize()
    client.auth.access_token(code)
    with pytest.raises(AuthorizationCodeInvalid) as caught:
        client.auth.access_token(code)
    assert "authorize again" in str(caught.value)
    assert code not in str(caught.value)


def test_writes_change_what_reads_return(api, ids):
    sku = ids["product"]["skus"][0]
    warehouse = sku["inventory"][0]["warehouse_id"]
    inventory = [
        {
            "warehouse_id": w["warehouse_id"],
            "quantity": 4321 if w["warehouse_id"] == warehouse else w["quantity"],
        }
        for w in sku["inventory"]
    ]
    api.product.update_inventory(
        params={"product_id": ids["product"]["id"]},
        body={"skus": [{"id": sku["id"], "inventory": inventory}]},
    )
    product = api.product.get(params=ids["product"]["id"])["data"]
    stored = next(s for s in product["skus"] if s["id"] == sku["id"])
    assert {w["warehouse_id"]: w["quantity"] for w in stored["inventory"]}[warehouse] == 4321


def test_business_errors_raise_with_code_and_request_id(api):
    with pytest.raises(TikTokAPIError) as caught:
        api.product.get(params={"product_id": "1"})
    error = caught.value
    assert error.code not in (None, 0)
    assert error.request_id and error.endpoint == "product.get"
    assert error.http_status == 200
