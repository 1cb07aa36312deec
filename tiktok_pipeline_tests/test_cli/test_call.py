"""`tiktok-pipeline call`, `db upgrade` and `shops list` as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(SandboxConfig(seed=2, orders_per_shop=120, products_per_shop=5, days=5)) as s:
        yield s


@pytest.fixture
def env(sandbox, sqlite_db_url, tmp_path):
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
        "TIKTOK_DATABASE_URL": sqlite_db_url,
    }
    return environment


def _cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tiktok_pipeline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _authorize(sandbox, database_url: str) -> list[str]:
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    _, shops = connect_seller(client, Store.from_url(database_url), sandbox.authorize())
    return [shop.id for shop in shops]


def test_db_upgrade_then_shops_list_then_a_call(sandbox, env, sqlite_db_url):
    upgrade = _cli(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "store:" in upgrade.stdout and "warehouse:" in upgrade.stdout
    shop_ids = _authorize(sandbox, sqlite_db_url)

    listing = _cli(env, "shops", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert {shop["id"] for shop in json.loads(listing.stdout)} == set(shop_ids)
    assert "TTP_" not in listing.stdout  # never a token

    call = _cli(
        env,
        "call",
        "order",
        "list",
        "--shop",
        shop_ids[0],
        "--query",
        '{"page_size": 3}',
        "--body",
        '{"order_status": "COMPLETED"}',
    )
    assert call.returncode == 0, call.stderr
    response = json.loads(call.stdout)
    assert response["code"] == 0 and len(response["data"]["orders"]) <= 3
    assert all(o["status"] == "COMPLETED" for o in response["data"]["orders"])

    every = _cli(
        env,
        "call",
        "order",
        "list",
        "--shop",
        shop_ids[0],
        "--all-pages",
        "--query",
        '{"page_size": 50}',
    )
    assert every.returncode == 0, every.stderr
    ids = [json.loads(line)["id"] for line in every.stdout.splitlines()]
    first = _cli(env, "call", "order", "list", "--shop", shop_ids[0], "--query", '{"page_size": 1}')
    total = json.loads(first.stdout)["data"]["total_count"]
    assert len(ids) == len(set(ids)) == total > 50  # several pages, each order once


def test_call_errors_say_what_to_do(sandbox, env, sqlite_db_url):
    shop_ids = _authorize(sandbox, sqlite_db_url)
    bad_json = _cli(env, "call", "order", "list", "--shop", shop_ids[0], "--query", "{page_size")
    assert bad_json.returncode == 2 and "not valid JSON" in bad_json.stderr

    unknown = _cli(env, "call", "order", "nope", "--shop", shop_ids[0])
    assert unknown.returncode == 2 and "order has no method 'nope'" in unknown.stderr

    no_shop = _cli(env, "call", "order", "list", "--shop", "123")
    assert no_shop.returncode != 0 and shop_ids[0] in no_shop.stderr

    tiktok_error = _cli(
        env, "call", "product", "get", "--shop", shop_ids[0], "--params", '{"product_id": "1"}'
    )
    assert tiktok_error.returncode == 1 and "product.get" in tiktok_error.stderr

    missing = _cli(
        {k: v for k, v in env.items() if k != "TIKTOK_APP_SECRET"},
        "call",
        "seller",
        "shops",
        "--shop",
        shop_ids[0],
    )
    assert missing.returncode == 2 and "TIKTOK_APP_SECRET" in missing.stderr
    assert sandbox.config.app_secret not in (
        bad_json.stderr + unknown.stderr + no_shop.stderr + tiktok_error.stderr
    )
