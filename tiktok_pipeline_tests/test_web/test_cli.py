"""``tiktok-pipeline webhooks`` against the sandbox, and ``tiktok-pipeline serve``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tiktok_pipeline.cli import main
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import WebService
from tiktok_pipeline.web.registration import SUBSCRIBABLE_EVENTS
from tiktok_pipeline_tests.test_web.helpers import consent, get, sandbox_settings, start


@dataclass
class Connected:
    """A web service whose store holds the sandbox seller's shops, and the CLI's environment."""

    service: WebService
    store: Store
    shop_id: str
    open_id: str


@pytest.fixture
def connected(
    sandbox: RunningSandbox, sqlite_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connected]:
    """The seller connected through the web service; the CLI configured for the same store."""
    settings = sandbox_settings(sandbox, sqlite_db_url)
    for service in start(sandbox, settings):
        assert get(consent(service)).status_code == 200
        env = {
            "TIKTOK_APP_KEY": settings.app_key,
            "TIKTOK_APP_SECRET": settings.app_secret,
            "TIKTOK_API_BASE_URL": sandbox.base_url,
            "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
            "TIKTOK_DATABASE_URL": sqlite_db_url,
            "TIKTOK_PUBLIC_URL": service.base_url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("TIKTOK_SHOP_ID", raising=False)
        shop_id = sorted(shop.id for shop in service.store.tokens.list_shops())[0]
        yield Connected(service, service.store, shop_id, sandbox.sellers[0].open_id)
        sandbox.state.webhooks.clear()


def listing(shop_id: str, capsys: pytest.CaptureFixture) -> dict[str, dict]:
    """``webhooks list --json`` by event type."""
    capsys.readouterr()
    assert main(["webhooks", "list", "--shop", shop_id, "--json"]) == 0
    return {row["event_type"]: row for row in json.loads(capsys.readouterr().out)}


def test_set_all_events_registers_every_event_and_tiktoks_pushes_arrive(
    sandbox: RunningSandbox, connected: Connected, capsys: pytest.CaptureFixture
) -> None:
    shop_id, base = connected.shop_id, connected.service.base_url

    assert main(["webhooks", "set", "--shop", shop_id, "--all-events"]) == 0

    out, err = capsys.readouterr()
    assert f"ORDER_STATUS_CHANGE -> {base}/tiktok/webhooks/order-status-change" in out
    assert len(out.splitlines()) == len(SUBSCRIBABLE_EVENTS) == 17
    assert "TikTok would refuse" in err and "not https" in err  # sandbox-only address
    rows = listing(shop_id, capsys)
    assert set(rows) == {e.name for e in SUBSCRIBABLE_EVENTS}
    assert all(row["in_sync"] for row in rows.values())
    assert rows["RETURN_STATUS_CHANGE"]["tiktok_address"] == (
        f"{base}/tiktok/webhooks/return-status-change"
    )
    assert len(connected.store.event_webhooks.list(shop_id)) == 17

    # TikTok (the sandbox) now pushes, signed, to the per-event routes, and they are stored.
    sandbox.control.authorization_expiring(connected.open_id, days=7)
    sandbox.control.advance(2 * 86400)
    deliveries = sandbox.control.deliveries(wait=30, shop_id=shop_id)["deliveries"]
    assert deliveries
    assert {d["http_status"] for d in deliveries} == {200}
    stored = [row for row in connected.store.webhooks.pending() if row.shop_id == shop_id]
    assert {row.tts_notification_id for row in stored} == {d["notification_id"] for d in deliveries}
    routes = {row.event_type: row.route for row in stored}
    assert routes["UPCOMING_AUTHORIZATION_EXPIRATION"] == "upcoming-authorization-expiration"
    assert routes["ORDER_STATUS_CHANGE"] == "order-status-change"


def test_set_single_address_and_delete(connected: Connected, capsys: pytest.CaptureFixture) -> None:
    shop_id, base = connected.shop_id, connected.service.base_url

    assert (
        main(
            [
                "webhooks",
                "set",
                "--shop",
                shop_id,
                "--event",
                "1",
                "--event",
                "return-status-change",
                "--event",
                "PACKAGE_UPDATE",
                "--single-address",
            ]
        )
        == 0
    )
    rows = listing(shop_id, capsys)
    assert {name: row["tiktok_address"] for name, row in rows.items()} == {
        "ORDER_STATUS_CHANGE": f"{base}/tiktok/webhooks/all",
        "RETURN_STATUS_CHANGE": f"{base}/tiktok/webhooks/all",
        "PACKAGE_UPDATE": f"{base}/tiktok/webhooks/all",
    }

    assert (
        main(
            [
                "webhooks",
                "set",
                "--shop",
                shop_id,
                "--event",
                "PACKAGE_UPDATE",
                "--address",
                "https://hooks.example.com/tiktok",
            ]
        )
        == 0
    )
    assert listing(shop_id, capsys)["PACKAGE_UPDATE"]["recorded_address"] == (
        "https://hooks.example.com/tiktok"
    )

    assert main(["webhooks", "delete", "--shop", shop_id, "--event", "order-status-change"]) == 0
    assert set(listing(shop_id, capsys)) == {"RETURN_STATUS_CHANGE", "PACKAGE_UPDATE"}
    assert {h.event_type for h in connected.store.event_webhooks.list(shop_id)} == {
        "RETURN_STATUS_CHANGE",
        "PACKAGE_UPDATE",
    }

    assert main(["webhooks", "delete", "--shop", shop_id, "--all-events"]) == 0
    assert listing(shop_id, capsys) == {}
    assert connected.store.event_webhooks.list(shop_id) == []
    assert main(["webhooks", "list", "--shop", shop_id]) == 0
    assert "has no webhook addresses" in capsys.readouterr().out


def test_a_hand_made_change_at_tiktok_shows_as_out_of_sync(
    sandbox: RunningSandbox, connected: Connected, capsys: pytest.CaptureFixture
) -> None:
    shop_id = connected.shop_id
    assert main(["webhooks", "set", "--shop", shop_id, "--event", "ORDER_STATUS_CHANGE"]) == 0
    # Someone changes the address in Partner Center.
    sandbox.state.webhooks.put(shop_id, "ORDER_STATUS_CHANGE", "https://elsewhere.example", 0)
    capsys.readouterr()

    assert main(["webhooks", "list", "--shop", shop_id]) == 0

    line = next(x for x in capsys.readouterr().out.splitlines() if "ORDER_STATUS" in x)
    assert "https://elsewhere.example" in line
    assert f"recorded {connected.service.base_url}" in line


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["set", "--event", "order-status"], 2, "unknown webhook event 'order-status'"),
        (["set", "--event", "17"], 2, "Partner Center"),
        (["delete", "--event", "nope"], 2, "ORDER_STATUS_CHANGE"),
        (["list", "--shop", "999"], 1, "999"),
    ],
)
def test_bad_input_gets_a_clear_error(
    connected: Connected,
    capsys: pytest.CaptureFixture,
    argv: list[str],
    code: int,
    message: str,
) -> None:
    if "--shop" not in argv:
        argv = [*argv, "--shop", connected.shop_id]

    assert main(["webhooks", *argv]) == code

    assert message in capsys.readouterr().err


def test_without_a_shop_the_cli_says_how_to_name_one(
    connected: Connected, capsys: pytest.CaptureFixture
) -> None:
    assert main(["webhooks", "list"]) == 2
    assert "--shop" in capsys.readouterr().err


def test_serve_without_the_app_secret_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, sqlite_db_url: str
) -> None:
    monkeypatch.setenv("TIKTOK_APP_KEY", "key")
    monkeypatch.delenv("TIKTOK_APP_SECRET", raising=False)
    monkeypatch.setenv("TIKTOK_DATABASE_URL", sqlite_db_url)

    assert main(["serve", "--port", "1"]) == 2
    assert "TIKTOK_APP_SECRET is not set" in capsys.readouterr().err


def test_serve_runs_the_service_until_terminated(tmp_path, sqlite_db_url: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "TIKTOK_APP_KEY": "key",
        "TIKTOK_APP_SECRET": "secret",
        "TIKTOK_DATABASE_URL": sqlite_db_url,
        "TIKTOK_DATA_DIR": str(tmp_path),
    }
    command = "import sys; from tiktok_pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        for _ in range(300):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/tiktok/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()[1]
                time.sleep(0.05)
        assert health is not None and health.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)

    # uvicorn shuts down cleanly, then re-raises SIGTERM so that the exit status tells why.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in err
    assert "redirect URL for Partner Center: http://127.0.0.1:8000/tiktok/seller/authorized" in err
