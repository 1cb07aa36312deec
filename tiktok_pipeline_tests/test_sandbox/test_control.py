"""The /sandbox/ control endpoints, the public Python API and the CLI command."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import requests

from tiktok_pipeline.cli import sandbox as sandbox_cli
from tiktok_pipeline.sandbox import create_app
from tiktok_pipeline_tests.test_sandbox.conftest import (
    ANCHOR,
    APP_SECRET,
    authorized_client,
    small_config,
)

DAY = 86400


def test_control_page_lists_the_endpoints(sandbox):
    response = requests.get(f"{sandbox.base_url}/sandbox", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for path in (
        "/sandbox/clock/advance",
        "/sandbox/faults",
        "/sandbox/truth/counts",
        "/sandbox/webhooks/deliveries",
        "/sandbox/tokens/expire",
    ):
        assert path in response.text


def test_state_never_shows_the_secret_or_tokens(sandbox, client):
    text = requests.get(f"{sandbox.base_url}/sandbox/state", timeout=5).text
    assert APP_SECRET not in text
    assert client.access_token not in text
    state = json.loads(text)
    assert state["clock"]["now"] == ANCHOR and state["clock"]["frozen"] is True
    assert [s["cipher"] for s in state["shops"]] == [s.cipher for s in sandbox.shops]
    assert state["sellers"][0]["open_id"] == sandbox.sellers[0].open_id
    assert state["tokens"]["access"] >= 1


def test_public_api_shape(sandbox):
    shop = sandbox.shops[0]
    assert shop.open_id == sandbox.sellers[0].open_id
    assert shop.region == "US" and sandbox.shops[1].region == "GB"
    assert set(sandbox.sellers[0].shop_ids) == {s.id for s in sandbox.shops}
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    state = create_app(small_config()).state.sandbox
    try:
        assert state.shops == sandbox.shops
    finally:
        state.close()


def test_truth_matches_what_the_api_serves(sandbox, client):
    shop = sandbox.shops[0]
    window = {"update_time_ge": ANCHOR - 7 * DAY, "update_time_lt": ANCHOR}
    api, _ = client.walk("/order/202309/orders/search", "orders", 100, window, cipher=shop.cipher)
    truth = sandbox.control.truth("orders", shop.id, **window)
    assert sorted(truth, key=lambda o: o["id"]) == sorted(api, key=lambda o: o["id"])
    returns_api, _ = client.walk(
        "/return_refund/202309/returns/search", "return_orders", 50, cipher=shop.cipher
    )
    assert sandbox.control.truth("returns", shop.id) == returns_api
    products_api, _ = client.walk(
        "/product/202502/products/search", "products", 100, cipher=shop.cipher
    )
    assert sorted(sandbox.control.truth("products", shop.id), key=lambda p: p["id"]) == sorted(
        products_api, key=lambda p: p["id"]
    )


def test_truth_counts(sandbox, client):
    shop = sandbox.shops[1]
    window = {"update_time_ge": ANCHOR - 10 * DAY, "update_time_lt": ANCHOR - 3 * DAY}
    counts = sandbox.control.counts(shop.id, **window)
    orders = sandbox.control.truth("orders", shop.id, **window)
    products = sandbox.control.truth("products", shop.id, **window)
    returns = sandbox.control.truth("returns", shop.id, **window)
    assert counts["orders"] == len(orders) > 0
    assert counts["order_line_items"] == sum(len(o["line_items"]) for o in orders)
    assert counts["products"] == len(products)
    assert counts["product_skus"] == sum(len(p["skus"]) for p in products)
    assert counts["returns"] == len(returns)
    assert counts["return_line_items"] == sum(len(r["return_line_items"]) for r in returns)
    everything = sandbox.control.counts()
    assert everything["orders"] == 800 and everything["products"] == 80


def test_new_seller_with_new_shops(fresh):
    added = fresh.control.add_seller(shops=2, region="MY")
    seller = added["seller"]
    assert len(seller["shop_ids"]) == 2
    assert {s["region"] for s in added["shops"]} == {"MY"}
    client = authorized_client(fresh, seller["open_id"])
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert [s["id"] for s in shops] == seller["shop_ids"]
    orders = client.ok(
        "POST", "/order/202309/orders/search", {"page_size": 5}, {}, cipher=shops[0]["cipher"]
    )
    assert orders["total_count"] == 400
    assert orders["orders"][0]["payment"]["currency"] == "MYR"
    assert len(fresh.shops) == 4 and len(fresh.sellers) == 2


def test_a_shop_joins_and_leaves_an_existing_authorization_without_a_new_consent(fresh):
    seller = fresh.sellers[0]
    client = authorized_client(fresh, seller.open_id)
    before = [s["id"] for s in client.ok("GET", "/authorization/202309/shops")["shops"]]

    added = fresh.control.add_shop(seller.open_id, region="MY", orders_per_shop=50)
    new = added["shop"]
    assert new["open_id"] == seller.open_id and new["region"] == "MY"
    assert new["id"] not in before
    assert added["seller"]["shop_ids"] == [*before, new["id"]]
    # The token from before the change sees the new shop and its data.
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert [s["id"] for s in shops] == [*before, new["id"]]
    orders = client.ok(
        "POST", "/order/202309/orders/search", {"page_size": 5}, {}, cipher=new["cipher"]
    )
    assert orders["total_count"] == 50
    assert orders["orders"][0]["payment"]["currency"] == "MYR"
    assert fresh.control.counts(shop_id=new["id"])["orders"] == 50

    removed = fresh.control.remove_shop(seller.open_id, before[0])
    assert removed["removed"]["id"] == before[0]
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert [s["id"] for s in shops] == [*before[1:], new["id"]]
    gone = client.call(
        "POST",
        "/order/202309/orders/search",
        {"page_size": 5},
        {},
        cipher=removed["removed"]["cipher"],
    ).json()
    assert gone["code"] == 101000
    state = fresh.control.state()
    assert [s["id"] for s in state["removed_shops"]] == [before[0]]
    assert before[0] not in {s["id"] for s in state["shops"]}

    # It comes back with the same data.
    back = fresh.control.add_shop(seller.open_id, shop_id=before[0])["shop"]
    assert back == removed["removed"]
    shops = client.ok("GET", "/authorization/202309/shops")["shops"]
    assert sorted(s["id"] for s in shops) == sorted([*before, new["id"]])
    assert (
        client.ok(
            "POST", "/order/202309/orders/search", {"page_size": 5}, {}, cipher=back["cipher"]
        )["total_count"]
        == 400
    )

    # A reset undoes both.
    fresh.control.remove_shop(seller.open_id, new["id"])
    fresh.control.reset()
    state = fresh.control.state()
    assert state["sellers"][0]["shop_ids"] == before and state["removed_shops"] == []
    assert [s["id"] for s in state["shops"]] == [s.id for s in fresh.shops]
    assert len(state["shops"]) == 2


def test_shop_list_changes_refuse_what_does_not_exist(fresh):
    seller = fresh.sellers[0].open_id
    base = f"{fresh.base_url}/sandbox/sellers"
    assert requests.post(f"{base}/7010000000000000000/shops", json={}, timeout=5).status_code == 404
    answer = requests.delete(f"{base}/{seller}/shops/7494000000000000000", timeout=5)
    assert answer.status_code == 404
    answer = requests.post(f"{base}/{seller}/shops", json={"shop_id": "749400"}, timeout=5)
    assert answer.status_code == 400 and "not a removed shop" in answer.json()["error"]
    answer = requests.post(f"{base}/{seller}/shops", json={"orders_per_shop": "many"}, timeout=5)
    assert answer.status_code == 400
    # A new seller added afterwards never reuses a removed shop's id.
    removed = fresh.control.remove_shop(seller, fresh.sellers[0].shop_ids[-1])["removed"]
    added = fresh.control.add_seller(shops=1)
    assert added["shops"][0]["id"] != removed["id"]


def test_reset_goes_back_to_the_start(fresh):
    client = authorized_client(fresh)
    fresh.control.add_seller()
    fresh.control.advance(5 * DAY)
    fresh.control.set_faults(latency_ms=1)
    answer = fresh.control.reset()
    assert answer["now"] == ANCHOR
    state = fresh.control.state()
    assert len(state["shops"]) == 2 and state["faults"]["latency_ms"] == 0
    # Tokens survive a plain reset.
    assert client.call("GET", "/authorization/202309/shops").json()["code"] == 0
    fresh.control.reset(auth=True)
    assert client.call("GET", "/authorization/202309/shops").json()["code"] == 105001


def test_clock_advance_rejects_bad_input(sandbox):
    response = requests.post(
        f"{sandbox.base_url}/sandbox/clock/advance", json={"seconds": -1}, timeout=5
    )
    assert response.status_code == 400 and "seconds" in response.json()["error"]


def test_finance_endpoints(sandbox, client):
    cipher = sandbox.shops[0].cipher
    statements, _ = client.walk(
        "/finance/202309/statements",
        "statements",
        10,
        method="GET",
        query={"sort_field": "statement_time"},
        cipher=cipher,
    )
    assert len(statements) == 30
    busy = [s for s in statements if s["settlement_amount"] not in ("0.00",)]
    assert busy
    statement = busy[-1]
    tx = client.ok(
        "GET",
        f"/finance/202501/statements/{statement['id']}/statement_transactions",
        {"sort_field": "order_create_time", "page_size": 100},
        cipher=cipher,
    )
    assert tx["total_settlement_amount"] == statement["settlement_amount"]
    order_ids = [t["order_id"] for t in tx["transactions"] if t["type"] == "ORDER"]
    assert order_ids
    orders = client.ok(
        "GET", "/order/202309/orders", {"ids": ",".join(order_ids[:50])}, cipher=cipher
    )["orders"]
    assert {o["status"] for o in orders} == {"COMPLETED"}
    by_order = client.ok(
        "GET", f"/finance/202501/orders/{order_ids[0]}/statement_transactions", cipher=cipher
    )
    assert by_order["sku_transactions"][0]["statement_id"] == statement["id"]
    for path in ("/finance/202309/payments", "/finance/202605/payments"):
        payments = client.ok(
            "GET", path, {"sort_field": "create_time", "page_size": 5}, cipher=cipher
        )["payments"]
        assert payments[0]["amount"]["currency"] == "USD"
    missing_sort = client.call(
        "GET", "/finance/202309/statements", {"page_size": 5}, cipher=cipher
    ).json()
    assert missing_sort["code"] != 0 and "sort_field" in missing_sort["message"]
    assert client.ok("GET", "/finance/202309/withdrawals", {"page_size": 5}, cipher=cipher)[
        "withdrawals"
    ]
    unsettled = client.ok(
        "GET",
        "/finance/202507/orders/unsettled",
        {"page_size": 5, "sort_field": "order_create_time"},
        cipher=cipher,
    )
    assert unsettled["total_count"] > 0


def test_external_orders(sandbox, client):
    cipher = sandbox.shops[1].cipher
    order_id = client.ok(
        "POST", "/order/202309/orders/search", {"page_size": 1}, {}, cipher=cipher
    )["orders"][0]["id"]
    ref = {"platform": "SHOPIFY", "external_order_id": "#1001"}
    answer = client.ok(
        "POST",
        "/order/202406/orders/external_orders",
        {},
        {
            "orders": [
                {"order_id": order_id, "external_orders": [ref]},
                {"order_id": "576999999999999999", "external_orders": [ref]},
            ]
        },
        cipher=cipher,
    )
    assert [e["order_id"] for e in answer["errors"]] == ["576999999999999999"]
    stored = client.ok("GET", f"/order/202406/orders/{order_id}/external_orders", cipher=cipher)
    assert stored["external_orders"][0]["external_order_id"] == "#1001"
    found = client.ok(
        "POST",
        "/order/202406/orders/external_order_search",
        {"platform": "SHOPIFY", "external_order_id": "#1001"},
        cipher=cipher,
    )
    assert [o["order_id"] for o in found["orders"]] == [order_id]


def test_cli_registers_the_sandbox_command():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    sandbox_cli.register(sub)
    args = parser.parse_args(
        [
            "sandbox",
            "--shops",
            "3",
            "--sellers",
            "2",
            "--no-rotate-refresh-tokens",
            "--access-token-ttl",
            "60",
        ]
    )
    assert callable(args.handler)
    config = sandbox_cli.config_from_args(args)
    assert (config.shops, config.sellers, config.rotate_refresh_tokens) == (3, 2, False)
    assert config.access_token_ttl == 60
    assert (config.app_key, config.service_id) == ("sandbox-app-key", "sandbox-service-id")
    assert config.port == 8900


def test_cli_serves_and_prints_how_to_authorize(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = (
        "import sys, argparse\n"
        "from tiktok_pipeline.cli import sandbox\n"
        "p = argparse.ArgumentParser(); sp = p.add_subparsers()\n"
        "sandbox.register(sp)\n"
        "a = p.parse_args(sys.argv[1:])\n"
        "sys.exit(a.handler(a))\n"
    )
    out = tmp_path / "out.txt"
    with out.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                launcher,
                "sandbox",
                "--port",
                str(port),
                "--orders-per-shop",
                "100",
                "--redirect-url",
                "http://127.0.0.1:1/cb",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(
                    f"{base}/open/authorize",
                    timeout=2,
                    params={"service_id": "sandbox-service-id", "state": "z"},
                    allow_redirects=False,
                )
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
                time.sleep(0.1)
        assert response.status_code == 302
        location = urlsplit(response.headers["location"])
        assert location.netloc == "127.0.0.1:1" and "code" in parse_qs(location.query)
        printed = out.read_text()
        assert base in printed and "sandbox-app-key" in printed
        assert "/open/authorize?service_id=sandbox-service-id" in printed
    finally:
        proc.terminate()
        proc.wait(timeout=10)
