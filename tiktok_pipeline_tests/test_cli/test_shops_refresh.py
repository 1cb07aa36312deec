"""``tiktok-pipeline shops refresh``: each seller's shop list read again, changes printed, exit
code 1 when a seller's list could not be read; never a secret. Over HTTP to the sandbox, with the
store on SQLite and Postgres.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tiktok_pipeline import cli
from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.sandbox import RunningSandbox, run_sandbox
from tiktok_pipeline.store import ShopStatus, Store
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import (
    connect,
    make_client,
    sandbox_config,
    shop_ids,
)

PUBLIC_URL = "https://shops.example.com"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(sandbox_config()) as running:
        yield running


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    made = Store.from_url(database_url, upgrade=True)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def client(sandbox: RunningSandbox, store: Store) -> Iterator[TikTokShopClient]:
    with make_client(sandbox, store) as made:
        yield made


@pytest.fixture(autouse=True)
def environment(monkeypatch, sandbox: RunningSandbox, database_url: str) -> None:
    # Only this command group: the other groups belong to others and may be mid-change.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("tiktok_pipeline.cli.shops",))
    monkeypatch.setenv("TIKTOK_APP_KEY", sandbox.config.app_key)
    monkeypatch.setenv("TIKTOK_APP_SECRET", sandbox.config.app_secret)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("TIKTOK_AUTH_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("TIKTOK_DATABASE_URL", database_url)
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", PUBLIC_URL)


def test_refresh_prints_what_changed_per_seller_and_exits_0(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    first = connect(sandbox, store, client, 0)
    second = connect(sandbox, store, client, 1)
    leaving = shop_ids(sandbox, 0)[0]
    new = sandbox.control.add_shop(first.open_id)["shop"]
    sandbox.control.remove_shop(first.open_id, leaving)

    assert cli.main(["shops", "refresh"]) == 0

    lines = capsys.readouterr().out.splitlines()
    (first_line,) = [line for line in lines if first.open_id in line]
    assert f"added {new['id']}" in first_line and f"departed {leaving}" in first_line
    (second_line,) = [line for line in lines if second.open_id in line]
    assert "no change" in second_line
    assert store.tokens.get_shop(new["id"]).status is ShopStatus.ACTIVE
    assert store.tokens.get_shop(leaving).status is ShopStatus.DEPARTED
    assert "1 added" in lines[-1] and "1 departed" in lines[-1]


def test_refresh_exits_1_naming_the_failed_seller_and_the_fix_without_secrets(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = connect(sandbox, store, client, 0)
    alive = connect(sandbox, store, client, 1)
    new = sandbox.control.add_shop(alive.open_id)["shop"]
    sandbox.control.deauthorize(dead.open_id)

    assert cli.main(["-v", "shops", "refresh"]) == 1

    captured = capsys.readouterr()
    assert dead.open_id in captured.err and "needs_reauth" in captured.out
    assert f"{PUBLIC_URL}/tiktok/seller/authorize" in captured.err
    (alive_line,) = [line for line in captured.out.splitlines() if alive.open_id in line]
    assert f"added {new['id']}" in alive_line
    secrets = [
        dead.access_token,
        dead.refresh_token,
        alive.access_token,
        alive.refresh_token,
        sandbox.config.app_secret,
    ]
    text = captured.out + captured.err + caplog.text
    assert [s for s in secrets if s in text] == []


def test_refresh_of_one_seller_as_json_and_an_unknown_one(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    connect(sandbox, store, client, 0)
    second = connect(sandbox, store, client, 1)
    new = sandbox.control.add_shop(second.open_id)["shop"]

    assert cli.main(["shops", "refresh", "--open-id", second.open_id, "--json"]) == 0

    answer = json.loads(capsys.readouterr().out)
    assert answer["ok"] is True and answer["added"] == [new["id"]]
    assert [r["open_id"] for r in answer["results"]] == [second.open_id]
    assert cli.main(["shops", "refresh", "--open-id", "7010000000000000000"]) == 2
    assert "7010000000000000000" in capsys.readouterr().err


def test_list_shows_a_removed_shop_as_departed_with_nothing_to_fix(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    seller = connect(sandbox, store, client, 0)
    leaving, staying = shop_ids(sandbox, 0)
    sandbox.control.remove_shop(seller.open_id, leaving)
    assert cli.main(["shops", "refresh"]) == 0
    capsys.readouterr()

    assert cli.main(["shops", "list"]) == 0
    table = capsys.readouterr().out
    assert cli.main(["shops", "list", "--status", "departed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)

    header, *lines = table.splitlines()
    names = ("STATUS", "CIPHER", "ACCESS EXPIRES", "REFRESH EXPIRES", "OPEN_ID")
    starts = [header.index(name) for name in names]
    spans = list(zip(starts, [*starts[1:], None], strict=True))
    rows = {
        line.split()[0]: {
            name: line[a:b].strip() for name, (a, b) in zip(names, spans, strict=True)
        }
        for line in lines
        if line[:1].isdigit() and ":" not in line.split()[0]
    }
    assert rows[leaving]["STATUS"] == "departed" and rows[staying]["STATUS"] == "active"
    # Its seller's token expiry is not shown as if it covered the departed shop.
    assert rows[leaving]["ACCESS EXPIRES"] == "-" and rows[leaving]["REFRESH EXPIRES"] == "-"
    assert rows[staying]["ACCESS EXPIRES"].endswith("Z")
    assert rows[leaving]["OPEN_ID"] == seller.open_id
    assert f"{leaving}: departed: no longer in the shop list of its authorization" in table
    assert f"1 departed shop(s) ({leaving})" in table and "Nothing to fix" in table
    assert [row["id"] for row in listed] == [leaving] and listed[0]["status"] == "departed"
