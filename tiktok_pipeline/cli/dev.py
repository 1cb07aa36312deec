"""``tiktok-pipeline dev``: the whole pipeline on the embedded default, from a fresh clone.

Starts the local TikTok Shop sandbox, the web service and ``dagster dev`` (webserver + daemon),
all on SQLite under ``./data`` and ``./.dagster_home``; connects the sandbox's seller through
the real consent flow; registers the web service for the sandbox's webhooks; then prints where
to click. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.sandbox.config import (
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    DEFAULT_SERVICE_ID,
)

DEV_INSTANCE_YAML = """\
# The embedded default instance of `tiktok-pipeline dev` (SQLite storage in this folder).
# Production uses the repository's dagster.yaml (Postgres) instead.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: dagster/backfill
        limit: 1
  pools:
    default_limit: 2
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
telemetry:
  enabled: false
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dev`` command."""
    parser = subparsers.add_parser(
        "dev",
        help="run everything locally: sandbox, web service and dagster dev (SQLite)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dagster-port", type=int, default=3000, help="Dagster UI (3000)")
    parser.add_argument("--web-port", type=int, default=8000, help="web service (8000)")
    parser.add_argument("--sandbox-port", type=int, default=8900, help="sandbox (8900)")
    parser.add_argument("--data-dir", default="data", help="SQLite files (./data)")
    parser.add_argument(
        "--dagster-home", default=".dagster_home", help="Dagster's storage (./.dagster_home)"
    )
    parser.add_argument("--shops", type=int, default=2, help="sandbox shops (2)")
    parser.add_argument(
        "--orders-per-shop", type=int, default=5000, help="sandbox orders per shop (5000)"
    )
    parser.add_argument("--days", type=int, default=90, help="days of sandbox history (90)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox data seed (7)")
    parser.set_defaults(handler=run)


class Services:
    """Child processes started in order and stopped in reverse."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start ``command``; its output goes to the terminal."""
        process = subprocess.Popen(command, env=env, start_new_session=True)
        self.processes.append((name, process))
        return process

    def check(self) -> None:
        """Raise when a service exited."""
        for name, process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited with code {process.returncode}")

    def stop(self) -> None:
        """SIGTERM everything (dagster dev stops its webserver and daemon), then wait."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _wait_until(url: str, services: Services, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        services.check()
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f}s")
        time.sleep(0.5)


def _environment(args: argparse.Namespace) -> dict[str, str]:
    sandbox = f"http://127.0.0.1:{args.sandbox_port}"
    home = Path(args.dagster_home).resolve()
    return {
        **os.environ,
        "TIKTOK_APP_KEY": DEFAULT_APP_KEY,
        "TIKTOK_APP_SECRET": DEFAULT_APP_SECRET,
        "TIKTOK_SERVICE_ID": DEFAULT_SERVICE_ID,
        "TIKTOK_API_BASE_URL": sandbox,
        "TIKTOK_AUTH_BASE_URL": sandbox,
        "TIKTOK_CONSENT_BASE_URL": sandbox,
        "TIKTOK_DATA_DIR": str(Path(args.data_dir).resolve()),
        "TIKTOK_DATABASE_URL": sqlite_url(Path(args.data_dir) / "tiktok.db"),
        "TIKTOK_WAREHOUSE_URL": sqlite_url(Path(args.data_dir) / "tiktok.db"),
        "TIKTOK_PUBLIC_URL": f"http://127.0.0.1:{args.web_port}",
        "DAGSTER_HOME": str(home),
    }


def _cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "tiktok_pipeline.cli", *arguments]


@contextlib.contextmanager
def started(args: argparse.Namespace) -> Iterator[tuple[dict[str, str], Services]]:
    """Start every service and connect the sandbox seller; stops them all on exit."""
    env = _environment(args)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DEV_INSTANCE_YAML)
    services = Services()
    try:
        services.start(
            "sandbox",
            _cli(
                "sandbox",
                "--port",
                str(args.sandbox_port),
                "--shops",
                str(args.shops),
                "--orders-per-shop",
                str(args.orders_per_shop),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--redirect-url",
                f"{env['TIKTOK_PUBLIC_URL']}/tiktok/seller/authorized",
                "--log-level",
                "warning",
            ),
            env,
        )
        _wait_until(f"{env['TIKTOK_API_BASE_URL']}/sandbox/clock", services, "the sandbox")
        upgrade = subprocess.run(_cli("db", "upgrade"), env=env, check=False)
        if upgrade.returncode != 0:
            raise RuntimeError("`tiktok-pipeline db upgrade` failed")
        services.start("web service", _cli("serve", "--port", str(args.web_port)), env)
        _wait_until(f"{env['TIKTOK_PUBLIC_URL']}/tiktok/health", services, "the web service")
        _connect_sandbox_seller(env)
        services.start(
            "dagster dev",
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-m",
                "tiktok_pipeline.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(args.dagster_port),
            ],
            env,
        )
        _wait_until(f"http://127.0.0.1:{args.dagster_port}/server_info", services, "the Dagster UI")
        yield env, services
    finally:
        services.stop()


def _connect_sandbox_seller(env: dict[str, str]) -> None:
    """Authorize the sandbox's seller through the web service, as a person clicking would."""
    from tiktok_pipeline.store import ShopStatus, Store

    store = Store.from_url(env["TIKTOK_DATABASE_URL"])
    if not store.tokens.list_shops([ShopStatus.ACTIVE]):
        page = requests.get(f"{env['TIKTOK_PUBLIC_URL']}/tiktok/seller/authorize", timeout=60)
        if page.status_code != 200:
            raise RuntimeError(f"connecting the sandbox seller failed: HTTP {page.status_code}")
    for shop in store.tokens.list_shops([ShopStatus.ACTIVE]):
        registration = subprocess.run(
            _cli("webhooks", "set", "--shop", shop.id, "--all-events"),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if registration.returncode != 0:
            raise RuntimeError(f"registering webhooks failed: {registration.stderr.strip()}")
    store.close()


def _banner(args: argparse.Namespace, env: dict[str, str]) -> str:
    database = Path(args.data_dir).resolve() / "tiktok.db"
    advance = f"{env['TIKTOK_API_BASE_URL']}/sandbox/clock/advance"
    return f"""
tiktok-pipeline is running on the embedded default (SQLite + the local TikTok Shop sandbox).

  Dagster UI        http://127.0.0.1:{args.dagster_port}
                    Assets > tiktok_orders > Materialize > pick a day. The new-shop sensor is
                    already pulling the sandbox shops' last {args.days} days of history.
  Web service       {env["TIKTOK_PUBLIC_URL"]}/tiktok/seller/authorize  (connect a seller)
  Sandbox           {env["TIKTOK_API_BASE_URL"]}/sandbox  (control endpoints)
                    move time an hour (orders change, webhooks are pushed):
                    curl -X POST {advance} -d '{{"seconds": 3600}}'
  Warehouse         sqlite3 {database} "SELECT * FROM tiktok_daily_sales LIMIT 10"

Ctrl-C stops everything.
"""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start everything and wait for Ctrl-C (or SIGTERM), then stop everything."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        with started(args) as (env, services):
            print(_banner(args, env), flush=True)
            while True:
                services.check()
                time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
