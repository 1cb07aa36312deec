"""The CLI's one way to open the store and its one report of an unusable database."""

from __future__ import annotations

import pytest

from tiktok_pipeline import cli
from tiktok_pipeline.cli.db import DatabaseUnavailable, open_store
from tiktok_pipeline.store import Store

UNREACHABLE = "postgresql+psycopg2://postgres:hunter2@127.0.0.1:1/nowhere"  # nothing listens on 1


def test_open_store_closes_the_store(sqlite_db_url: str, monkeypatch) -> None:
    Store.from_url(sqlite_db_url, upgrade=True).close()
    closed: list[Store] = []
    original = Store.close
    monkeypatch.setattr(Store, "close", lambda self: closed.append(self) or original(self))

    with open_store(sqlite_db_url) as store:
        assert store.tokens.list_shops() == []
    assert closed == [store]

    with pytest.raises(RuntimeError), open_store(sqlite_db_url) as failing:
        raise RuntimeError("a bug in the command")
    assert closed == [store, failing]


def test_open_store_turns_an_unreachable_server_into_one_error() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot use") as caught, open_store(UNREACHABLE):
        pass
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("module", "command"),
    [
        ("tokens", ["tokens", "status"]),
        ("tokens", ["tokens", "flush", "--dry-run"]),
        ("tokens", ["tokens", "refresh", "--dry-run"]),
        ("shops", ["shops", "list"]),
    ],
)
def test_main_reports_an_unusable_database_once_for_every_command(
    module: str, command: list[str], monkeypatch, capsys
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (f"tiktok_pipeline.cli.{module}",))

    assert cli.main([*command, "--url", UNREACHABLE]) == 1

    err = capsys.readouterr().err
    assert err.startswith(
        "error: cannot use postgresql+psycopg2://postgres:***@127.0.0.1:1/nowhere"
    )
    assert "hunter2" not in err and "Traceback" not in err


def test_webhook_commands_report_an_unusable_database(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("tiktok_pipeline.cli.webhooks",))
    monkeypatch.setenv("TIKTOK_APP_KEY", "key")
    monkeypatch.setenv("TIKTOK_APP_SECRET", "secret")
    monkeypatch.setenv("TIKTOK_DATABASE_URL", UNREACHABLE)

    assert cli.main(["webhooks", "list", "--shop", "1"]) == 1

    err = capsys.readouterr().err
    assert "cannot use postgresql+psycopg2://postgres:***@127.0.0.1:1/nowhere" in err
    assert "hunter2" not in err and "Traceback" not in err
