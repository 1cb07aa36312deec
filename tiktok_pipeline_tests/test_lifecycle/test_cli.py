"""`tiktok-pipeline tokens refresh|flush|status`: non-interactive, with meaningful exit codes."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline import cli
from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.schema import tiktok_authorizations
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import (
    connect,
    refresh_calls,
    shop_ids,
)

HOUR = timedelta(hours=1)
PUBLIC_URL = "https://shops.example.com"
FIX_LINK = f"{PUBLIC_URL}/tiktok/seller/authorize"


@pytest.fixture(autouse=True)
def environment(monkeypatch, sandbox: RunningSandbox, sqlite_db_url: str) -> None:
    # Only this command group: the other groups belong to others and may be mid-change.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("tiktok_pipeline.cli.tokens",))
    monkeypatch.setenv("TIKTOK_APP_KEY", sandbox.config.app_key)
    monkeypatch.setenv("TIKTOK_APP_SECRET", sandbox.config.app_secret)
    monkeypatch.setenv("TIKTOK_API_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("TIKTOK_AUTH_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("TIKTOK_DATABASE_URL", sqlite_db_url)
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", PUBLIC_URL)


def test_refresh_exits_0_when_every_due_token_was_refreshed(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    due = connect(sandbox, store, client, 0, access=HOUR)
    connect(sandbox, store, client, 1)
    sandbox.control.reset_stats()

    assert cli.main(["tokens", "refresh"]) == 0

    out = capsys.readouterr().out
    assert "refreshed" in out and "skipped" in out
    assert refresh_calls(sandbox) == 1
    assert store.tokens.get_authorization(due.id).access_token != due.access_token
    assert due.access_token not in out and due.refresh_token not in out


def test_refresh_exits_1_and_names_the_shops_and_the_fix(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    dead = connect(sandbox, store, client, 0, access=HOUR)
    sandbox.control.expire_tokens(open_id=dead.open_id, which="refresh")

    assert cli.main(["tokens", "refresh"]) == 1

    captured = capsys.readouterr()
    for shop_id in shop_ids(sandbox, 0):
        assert shop_id in captured.err
    assert FIX_LINK in captured.err
    assert "needs_reauth" in captured.out
    assert dead.refresh_token not in captured.out + captured.err


def test_verbose_refresh_logs_no_secret(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, caplog, capsys, request
) -> None:
    authorization = connect(sandbox, store, client, 0, access=HOUR)
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    level = urllib3_log.level
    urllib3_log.setLevel(logging.NOTSET)  # as in a fresh process
    request.addfinalizer(lambda: urllib3_log.setLevel(level))
    caplog.set_level(logging.DEBUG)

    assert cli.main(["-v", "tokens", "refresh"]) == 0

    refreshed = store.tokens.get_authorization(authorization.id)
    text = caplog.text + "".join(capsys.readouterr())
    secrets = [
        sandbox.config.app_secret,
        authorization.access_token,
        authorization.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
    ]
    assert "refreshed authorization" in text
    assert [s for s in secrets if s in text] == []


def test_refresh_json_and_within_and_shop_options(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    connect(sandbox, store, client, 0, access=HOUR)
    connect(sandbox, store, client, 1, access=HOUR)
    target = shop_ids(sandbox, 1)[0]

    assert cli.main(["tokens", "refresh", "--within", "90m", "--shop", target, "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["within_seconds"] == 5400
    assert [(r["shop_ids"], r["outcome"]) for r in report["results"]] == [([target], "refreshed")]
    assert report["reauthorize_url"] == FIX_LINK


def test_refresh_dry_run_needs_no_credentials(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, monkeypatch, capsys
) -> None:
    connect(sandbox, store, client, 0, access=HOUR)
    monkeypatch.delenv("TIKTOK_APP_SECRET")
    sandbox.control.reset_stats()

    assert cli.main(["tokens", "refresh", "--dry-run"]) == 0

    assert "due" in capsys.readouterr().out
    assert refresh_calls(sandbox) == 0


def test_refresh_without_credentials_exits_2_naming_the_variable(
    store: Store, monkeypatch, capsys
) -> None:
    monkeypatch.delenv("TIKTOK_APP_SECRET")

    assert cli.main(["tokens", "refresh"]) == 2
    assert "TIKTOK_APP_SECRET is not set" in capsys.readouterr().err


def test_unknown_shop_exits_2(store: Store, capsys) -> None:
    assert cli.main(["tokens", "refresh", "--shop", "404"]) == 2
    assert "no shop '404'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["soon", "-5h", "0m", "48x"])
def test_a_bad_duration_is_rejected_with_an_example(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["tokens", "refresh", f"--within={value}"])

    assert exit_info.value.code == 2
    assert "48h" in capsys.readouterr().err


def test_flush_keeps_refreshable_tokens_and_never_asks(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    # The original's flush prompted (default No, so scheduled runs did nothing) and deleted
    # every authorization whose *access* token had expired.
    expired_access = connect(sandbox, store, client, 0)
    with store.engine.begin() as conn:  # its access token lapsed an hour ago
        conn.execute(
            sa.update(tiktok_authorizations)
            .where(tiktok_authorizations.c.id == expired_access.id)
            .values(access_token_expires_at=utcnow() - HOUR)
        )
    expired_refresh = connect(sandbox, store, client, 1, refresh=timedelta(0))

    assert cli.main(["tokens", "flush", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert len(store.tokens.list_authorizations()) == 2
    assert cli.main(["tokens", "flush", "--request-log-retention", "7d"]) == 0
    out = capsys.readouterr().out

    assert [a["authorization_id"] for a in dry["authorizations_removed"]] == [expired_refresh.id]
    assert dry["kept_refreshable"] == 1
    assert f"removed authorization {expired_refresh.id}" in out
    assert shop_ids(sandbox, 1)[0] in out
    assert [a.id for a in store.tokens.list_authorizations()] == [expired_access.id]


def test_status_exit_code_follows_the_shops_health(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, capsys
) -> None:
    authorization = connect(sandbox, store, client, 0)

    assert cli.main(["tokens", "status"]) == 0
    healthy = capsys.readouterr()
    store.tokens.set_authorization_status(authorization.id, "needs_reauth", "rt has expired")
    assert cli.main(["tokens", "status", "--json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert cli.main(["tokens", "status"]) == 1
    unhealthy = capsys.readouterr()

    assert all(shop_id in healthy.out for shop_id in shop_ids(sandbox, 0))
    assert not listed["ok"] and listed["reauthorize_url"] == FIX_LINK
    assert {s["shop_id"] for s in listed["shops"] if not s["ok"]} == set(shop_ids(sandbox, 0))
    assert "rt has expired" in unhealthy.err and FIX_LINK in unhealthy.err
    assert authorization.access_token not in healthy.out + unhealthy.out


def test_status_without_shops_says_how_to_add_one(store: Store, capsys) -> None:
    assert cli.main(["tokens", "status"]) == 0
    assert FIX_LINK in capsys.readouterr().out
