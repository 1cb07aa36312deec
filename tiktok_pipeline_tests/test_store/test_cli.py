"""`tiktok-pipeline db upgrade` and `tiktok-pipeline shops list`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline import cli
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.store import head_revision
from tiktok_pipeline_tests.test_store.fakes import shop, token_data


@pytest.fixture(autouse=True)
def only_store_commands(monkeypatch) -> None:
    # The other command groups are someone else's; these tests need only db and shops.
    modules = ("tiktok_pipeline.cli.db", "tiktok_pipeline.cli.shops")
    monkeypatch.setattr(cli, "COMMAND_MODULES", modules)


def test_db_upgrade_creates_then_reports_up_to_date(database_url: str, capsys) -> None:
    assert cli.main(["db", "upgrade", "--url", database_url]) == 0
    first = capsys.readouterr().out
    assert cli.main(["db", "upgrade", "--url", database_url]) == 0
    second = capsys.readouterr().out

    head = head_revision()
    assert "store: upgraded" in first and f"from an empty database to revision {head}" in first
    assert f"already at revision {head}" in second
    assert Store.from_url(database_url, upgrade=False).tokens.list_shops() == []


def test_db_upgrade_uses_the_environment_url(tmp_path, monkeypatch, capsys) -> None:
    chosen = tmp_path / "chosen" / "from-env.db"
    chosen.parent.mkdir()
    url = sqlite_url(chosen)
    # The default (a SQLite file under ./data) would be created here if the variable were ignored.
    monkeypatch.chdir(tmp_path)
    for name in ("TIKTOK_DATA_DIR", "TIKTOK_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TIKTOK_DATABASE_URL", url)

    assert cli.main(["db", "upgrade"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"store: upgraded {url} from an empty database to revision {head_revision()}",
        f"warehouse: {url} upgraded to the latest revision",
    ]
    engine = sa.create_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"tiktok_shops", "tiktok_authorizations", "tiktok_orders"} <= tables
    assert not (tmp_path / "data").exists()


def test_shops_list_on_an_unmigrated_server_says_db_upgrade(postgres_url: str, capsys) -> None:
    assert cli.main(["shops", "list", "--url", postgres_url]) == 2
    assert "tiktok-pipeline db upgrade" in capsys.readouterr().err


def test_shops_list_without_shops_says_how_to_add_one(sqlite_db_url: str, capsys) -> None:
    assert cli.main(["shops", "list", "--url", sqlite_db_url]) == 0
    assert "authorize" in capsys.readouterr().out


def test_shops_list_shows_shops_but_no_tokens(database_url: str, capsys) -> None:
    store = Store.from_url(database_url, upgrade=True)
    store.tokens.save_authorization(
        token_data("TTP_access_secret", "TTP_refresh_secret", refresh_in=timedelta(days=60)),
        [shop("7494049642642441621", "Alpha"), shop("7494049642642441622", "Beta", cipher="")],
    )
    store.tokens.set_shop_status("7494049642642441622", "needs_reauth", "token revoked")

    assert cli.main(["shops", "list", "--url", database_url]) == 0
    table = capsys.readouterr().out
    assert cli.main(["shops", "list", "--url", database_url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)

    assert "TTP_" not in table and "TTP_" not in json.dumps(listed)
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "REGION", "STATUS"]
    alpha = next(line for line in lines if line.startswith("7494049642642441621"))
    assert "Alpha" in alpha and "active" in alpha and "yes" in alpha
    assert "7010736057180325637" in alpha
    assert "7494049642642441622: needs_reauth: token revoked" in table
    assert [row["id"] for row in listed] == ["7494049642642441621", "7494049642642441622"]
    assert listed[0]["has_cipher"] is True and listed[1]["has_cipher"] is False
    assert listed[1]["status"] == "needs_reauth"
    assert listed[0]["open_id"] == "7010736057180325637"
    assert listed[0]["access_token_expires_at"].endswith("+00:00")

    only = ["shops", "list", "--url", database_url, "--status", "needs_reauth", "--json"]
    assert cli.main(only) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["7494049642642441622"]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["shops", "list"]])
def test_unreachable_database_is_a_clear_error(command: list[str], capsys) -> None:
    url = "postgresql+psycopg2://postgres:hunter2@127.0.0.1:1/nowhere"  # nothing listens on 1

    assert cli.main([*command, "--url", url]) == 1

    err = capsys.readouterr().err
    assert "cannot use postgresql+psycopg2://postgres:***@127.0.0.1:1/nowhere" in err
    assert "hunter2" not in err
    assert "Traceback" not in err


def test_malformed_url_is_a_clear_error(capsys) -> None:
    assert cli.main(["db", "upgrade", "--url", "not a url"]) == 1
    assert "postgresql+psycopg2://" in capsys.readouterr().err
