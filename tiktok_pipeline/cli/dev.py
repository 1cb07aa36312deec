"""``tiktok-pipeline dev``: the whole pipeline on the embedded default, from a fresh clone.

Starts the local TikTok Shop sandbox, the web service and ``dagster dev`` (webserver + daemon),
all on SQLite under ``./data`` and ``./.dagster_home``; connects the sandbox's seller through
the real consent flow; registers the web service for the sandbox's webhooks; then prints where
to click (Enter prints it again). Runs log at INFO; the Dagster UI keeps every event.
Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import requests

from tiktok_pipeline.cli.dev_banner import Addresses, EnterKey, banner
from tiktok_pipeline.cli.dev_runs import RunEnds
from tiktok_pipeline.cli.dev_services import Services, wait_until
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.sandbox.config import (
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    DEFAULT_SERVICE_ID,
)

#: The code location's name, as in workspace.yaml and pyproject.toml's [tool.dagster].
LOCATION_NAME = "tiktok_pipeline"
DEFINITIONS_MODULE = "tiktok_pipeline.definitions"

# python_log_level INFO: a run's console shows INFO and above, not its ~40 DEBUG events per
# partition; every event still reaches the event log the UI reads.
DEV_INSTANCE_YAML = """\
# The embedded default instance of `tiktok-pipeline dev` (SQLite storage in this folder).
# Production uses the repository's dagster.yaml (Postgres) instead.
# Dagster's default launcher plus the health check that lets run monitoring fail a run whose
# process died (Ctrl-C mid-run, a crash) instead of leaving it STARTED and its slots held.
run_launcher:
  module: tiktok_pipeline.defs.run_launcher
  class: LocalRunLauncher
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
  poll_interval_seconds: 15
  free_slots_after_run_end_seconds: 60
python_logs:
  python_log_level: INFO
telemetry:
  enabled: false
"""

DEV_WORKSPACE_YAML = f"""\
# The code location of `tiktok-pipeline dev` (the repository's workspace.yaml names it alike).
load_from:
  - python_module:
      module_name: {DEFINITIONS_MODULE}
      location_name: {LOCATION_NAME}
      working_directory: {{working_directory}}
"""

#: `dagster dev` warns on every start that `dg dev` supersedes it; `dg` is not installed here.
DAGSTER_DEV_WARNING_FILTER = "ignore:Function `dev_command` is superseded:FutureWarning"

#: How often the terminal is told about runs that ended.
RUN_CHECK_SECONDS = 5

READINESS_QUERY = """
{
  workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
  } } }
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } }
}
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
        "TIKTOK_DAGSTER_UI_URL": f"http://127.0.0.1:{args.dagster_port}",
        # The new-shop sensor pulls exactly the history the sandbox has.
        "TIKTOK_HISTORY_DAYS": str(args.days),
        "DAGSTER_HOME": str(home),
    }


def _cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "tiktok_pipeline.cli", *arguments]


def sandbox_first_day(sandbox_url: str) -> str:
    """The first day (YYYY-MM-DD, UTC) of the running sandbox's order history."""
    state = requests.get(f"{sandbox_url}/sandbox/state", timeout=30)
    state.raise_for_status()
    first = int(state.json()["clock"]["orders_start"])
    return datetime.fromtimestamp(first, UTC).date().isoformat()


def dagster_dev_command(home: Path, port: int) -> list[str]:
    """``dagster dev`` on the workspace file in ``home``, its own services logging warnings only.

    Its webserver and daemon narrate every sensor tick at INFO (two lines every 10 seconds for
    the webhook sensor alone); the UI's sensor pages keep every tick with its skip reason.
    """
    return [
        sys.executable,
        "-W",
        DAGSTER_DEV_WARNING_FILTER,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(home / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def started(args: argparse.Namespace) -> Iterator[tuple[dict[str, str], Services]]:
    """Start every service and connect the sandbox seller; stops them all on exit."""
    env = _environment(args)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(DEV_INSTANCE_YAML)
    (home / "workspace.yaml").write_text(
        DEV_WORKSPACE_YAML.format(working_directory=json.dumps(str(Path.cwd().resolve())))
    )
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
            # Its own how-to-connect text; the banner says what matters here.
            quiet_stdout=True,
        )
        wait_until(f"{env['TIKTOK_API_BASE_URL']}/sandbox/clock", services, "the sandbox")
        env["TIKTOK_PARTITIONS_START"] = sandbox_first_day(env["TIKTOK_API_BASE_URL"])
        upgrade = subprocess.run(
            _cli("db", "upgrade"), env=env, capture_output=True, text=True, check=False
        )
        if upgrade.returncode != 0:
            sys.stderr.write(upgrade.stdout + upgrade.stderr)
            raise RuntimeError("`tiktok-pipeline db upgrade` failed")
        services.start("web service", _cli("serve", "--port", str(args.web_port)), env)
        wait_until(f"{env['TIKTOK_PUBLIC_URL']}/tiktok/health", services, "the web service")
        _connect_sandbox_seller(env)
        # Started in DAGSTER_HOME: from a folder holding another dagster.yaml (the repository's,
        # for production) `dagster dev` would warn that it is not the one in use.
        services.start("dagster dev", dagster_dev_command(home, args.dagster_port), env, cwd=home)
        _wait_for_dagster(env["TIKTOK_DAGSTER_UI_URL"], services)
        yield env, services
    finally:
        services.stop()


def _wait_for_dagster(ui_url: str, services: Services, timeout: float = 240) -> None:
    """Wait until the code location is loaded and every daemon heartbeats.

    A code location that fails to load is reported, not fatal: `dagster dev` keeps running and
    the UI's Reload picks up the fix.
    """
    wait_until(f"{ui_url}/server_info", services, "the Dagster UI", timeout)
    deadline = time.monotonic() + timeout
    while True:
        services.check()
        problem = _dagster_not_ready(ui_url)
        if problem is None:
            return
        if problem.startswith("error:"):
            print(f"warning: the code location {LOCATION_NAME} {problem[6:]}", file=sys.stderr)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Dagster did not start within {timeout:.0f}s: {problem}")
        time.sleep(0.5)


def _dagster_not_ready(ui_url: str) -> str | None:
    """None when Dagster is ready, else what it waits for ("error: ..." if it cannot load)."""
    try:
        answer = requests.post(f"{ui_url}/graphql", json={"query": READINESS_QUERY}, timeout=10)
        data = answer.json()["data"]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return "the webserver does not answer GraphQL yet"
    entries = (data.get("workspaceOrError") or {}).get("locationEntries") or []
    entry = next((e for e in entries if e["name"] == LOCATION_NAME), None)
    if entry is None or entry["loadStatus"] != "LOADED":
        return f"the code location {LOCATION_NAME} is loading"
    loaded = entry.get("locationOrLoadError") or {}
    if loaded.get("__typename") == "PythonError":
        return f"error: did not load: {loaded.get('message', '').strip()}"
    daemons = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    waiting = [d["daemonType"] for d in daemons if d["required"] and not d["healthy"]]
    if waiting:
        return f"the daemons {', '.join(waiting)} have not started"
    return None


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


def addresses(args: argparse.Namespace, env: dict[str, str]) -> Addresses:
    """What the banner shows."""
    return Addresses(
        dagster_ui=env["TIKTOK_DAGSTER_UI_URL"],
        web_service=env["TIKTOK_PUBLIC_URL"],
        sandbox=env["TIKTOK_API_BASE_URL"],
        database=Path(args.data_dir).resolve() / "tiktok.db",
        history_days=args.days,
        partitions_start=env["TIKTOK_PARTITIONS_START"],
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start everything, print where to click, and wait for Ctrl-C (or SIGTERM); stop all."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    # Started in the background by a script, SIGINT arrives ignored, and `dagster dev` would
    # inherit that and ignore SIGTERM too (it handles both alike): stopping took 30 s and a kill.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Reading the terminal from the background then fails (EIO) instead of stopping us.
    signal.signal(signal.SIGTTIN, signal.SIG_IGN)
    enter = EnterKey(sys.stdin)
    since = time.time()
    try:
        with started(args) as (env, services):
            text = banner(addresses(args, env), enter_reprints=enter.interactive)
            print(text, flush=True)
            ended = RunEnds(env["TIKTOK_DAGSTER_UI_URL"], since)
            for second in itertools.count(1):
                services.check()
                if enter.wait(1.0):
                    print(text, flush=True)
                if second % RUN_CHECK_SECONDS == 0:
                    for line in ended.lines():
                        print(line, flush=True)
    except KeyboardInterrupt:
        print("Stopped the sandbox, the web service and Dagster.", file=sys.stderr)
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
