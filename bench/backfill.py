"""A year of one busy shop backfilled three ways, side by side: the front door, one in-process
run, and a dlt pipeline, over the same sandbox and Postgres.

The sandbox (its own process) serves one shop with 200,000 orders over 365 days (``--orders``,
``--days``); it is walked once before the measurements so that no path meets it cold. Each
path writes into fresh Postgres databases; they run in this order, ``--rounds`` times:

1. ``dlt``: ``bench/dlt_baseline.py`` in a child process (merge on ``(shop_id, id)``, line
   items as dlt's nested table, ``--workers`` extract workers); timed from ``pipeline.run`` to
   the committed load.
2. ``front_door``: as operators backfill. A temporary ``DAGSTER_HOME`` with a copy of the
   project's ``dagster.yaml`` (storage in its own Postgres database), ``dagster-webserver``
   and ``dagster-daemon run`` on ``workspace.yaml``; the UI's ``launchPartitionBackfill``
   mutation POSTed to ``/graphql`` (``tiktok_orders`` + ``tiktok_order_line_items`` over the
   year, the run config a launchpad user would save: the same QPS and workers as the other
   paths). Timed from the POST until every order is in the warehouse and the backfill is
   complete; also the time until the first run starts (the backfill daemon's tick), the runs
   and the processes started. The schedules and the new-shop sensor are stopped first (the
   sensor would launch the shop's history itself); the webhook sensor keeps running.
3. ``in_process``: the sync job's ``execute_in_process`` over the year as one partition range
   in a child process (what a single backfill run does, without the daemon); timed over
   ``execute_in_process``, with the sync phase alone (``sync_seconds``) beside it.

Then ``in_process_rate_limited``: the in-process run with 50 ms of latency and a 50 QPS limit
per shop in the sandbox and the client, ``wall_over_pages_per_qps`` = sync time / (pages / 50).

Memory and CPU come from sampling, every 0.2 s, every process under the ones a path starts
(daemon, webserver, code servers, runs, steps; or the child process): ``peak_rss_mib`` is the
largest sum of RSS at one sample. CPU seconds are given for that tree, the Postgres backends
serving the path's databases, all of Postgres (anybody else's work included) and the sandbox.

One JSON line per path, then a ``summary`` line with ``front_door_vs_dlt`` (dlt seconds /
front-door seconds from the launch to the last row; ``..._until_backfill_completed`` until
Dagster marks the backfill done, up to 30 s later), ``in_process_vs_dlt``, the same two in
CPU seconds (``*_cpu``: each path's
tree + its Postgres backends + the sandbox; steadier on a shared machine, where the load can
change between paths), and the targets of issue 10: front door >= 2x
faster than dlt, peak RSS of the whole tree <= 600 MiB, in-process >= 12,000 orders/s (CPU
allowing), rate-limited <= 1.1x pages/QPS. Develop with ``--orders 20000 --days 30``.

Needs the Postgres server (TIKTOK_TEST_POSTGRES_URL, default the local one) and dlt
(``pip install -e ".[bench]"``; ``--skip-dlt`` without it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa

from bench import _front_door as front_door
from bench._harness import (
    TOKEN_KEY,
    CpuMeter,
    ProcessTreeSampler,
    SandboxProcess,
    TreeFigures,
    measured_child,
    postgres_database,
    sandbox_process,
)

ORDERS, DAYS, WORKERS, QPS, LATENCY_MS = 200_000, 365, 8, 50, 50
#: The client's QPS when the sandbox does not limit: high enough never to wait.
UNLIMITED_QPS = 1000.0
ADMIN_URL = os.environ.get(
    "TIKTOK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
APP_KEY, APP_SECRET = "bench-key", "bench-secret"
ASSETS = ["tiktok_orders", "tiktok_order_line_items"]
TARGETS = {
    "front_door_vs_dlt": ">= 2.0",
    "front_door_peak_rss_mib": "<= 600",
    "in_process_orders_per_second": ">= 12000 (CPU allowing)",
    "rate_limited_wall_over_pages_per_qps": "<= 1.1",
}


def sync_run_config(qps: float, workers: int) -> dict[str, Any]:
    """The run config of every path through Dagster: the client's QPS and the workers."""
    return {
        "resources": {
            "tiktok": {
                "config": {
                    "app_key": {"env": "TIKTOK_APP_KEY"},
                    "app_secret": {"env": "TIKTOK_APP_SECRET"},
                    "qps": qps,
                }
            }
        },
        "ops": {"sync_orders": {"config": {"max_workers": workers}}},
    }


def run_sync(start: str, end: str, qps: float, workers: int) -> None:
    """In the child process: run the sync job over [start, end] and print its figures."""
    import resource

    import dagster as dg

    from tiktok_pipeline.definitions import defs
    from tiktok_pipeline.defs.ingestion.figures import run_totals

    job = defs().resolve_job_def("tiktok_sync_job")
    started = time.perf_counter()
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(asset) for asset in ASSETS],
            tags={
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
            },
            run_config=sync_run_config(qps, workers),
        )
        # Each partition carries its own day's figures; the run's totals are on the run.
        totals = run_totals(instance, result.run_id, "orders")
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "success": result.success,
                "orders": totals["tiktok_orders.inserted"],
                "line_items": totals["tiktok_order_line_items.inserted"],
                "pages": totals["api_pages"],
                "sync_seconds": totals["duration_seconds"],
                "run_seconds": round(elapsed, 2),
                "process_peak_rss_mib": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
        )
    )


def _env(base_url: str, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TIKTOK_")}
    return {
        **env,
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "TIKTOK_API_BASE_URL": base_url,
        "TIKTOK_AUTH_BASE_URL": base_url,
        "TIKTOK_DATABASE_URL": database_url,
        "TIKTOK_TOKEN_KEY": TOKEN_KEY,
    }


def _prepare(database_url: str, base_url: str, warehouse: bool = True) -> None:
    """The store (and the warehouse) in ``database_url``, with the sandbox's seller connected."""
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle import connect_seller
    from tiktok_pipeline.store import Store
    from tiktok_pipeline.warehouse import Warehouse

    store = Store.from_url(database_url, upgrade=True)
    if warehouse:
        Warehouse.from_url(database_url, upgrade=True)
    client = TikTokShopClient(APP_KEY, APP_SECRET, base_url=base_url, auth_base_url=base_url)
    code = requests.post(f"{base_url}/sandbox/authorize", json={}, timeout=10).json()["code"]
    connect_seller(client, store, code)
    client.close()
    store.close()


def _warm_up(base_url: str, first: date, last: date, workers: int) -> float:
    """Walk every window once, so that the first path measured does not meet a cold sandbox."""
    from bench.dlt_baseline import day_windows
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.store import Store

    started = time.perf_counter()
    with postgres_database(ADMIN_URL) as database_url:
        _prepare(database_url, base_url, warehouse=False)
        store = Store.from_url(database_url)
        client = TikTokShopClient(
            APP_KEY,
            APP_SECRET,
            base_url=base_url,
            auth_base_url=base_url,
            credentials=store.tokens,
            qps=None,
        )
        (shop,) = store.tokens.list_shops()

        def walk(window: tuple[int, int]) -> int:
            body = {"update_time_ge": window[0], "update_time_lt": window[1]}
            pages = client.shop(shop.id).order.pages(query={"page_size": 100}, body=body)
            return sum(len(page.items) for page in pages)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(walk, day_windows(first, last)))
        client.close()
        store.close()
    return round(time.perf_counter() - started, 2)


def _tree_figures(prefix: str, tree: TreeFigures) -> dict[str, Any]:
    return {
        "peak_rss_mib": tree.peak_rss_mib,
        f"{prefix}_cpu_seconds": tree.cpu_seconds,
        "postgres_cpu_seconds": tree.postgres_cpu_seconds,
        "processes_started": tree.processes_started,
        "processes_started_by_role": tree.processes_started_by_role,
    }


def _database_name(url: str) -> str:
    return str(sa.make_url(url).database)


def measure_dlt(sandbox: SandboxProcess, first: date, last: date, workers: int) -> dict:
    """The dlt pipeline over the year in a child process, into its own database."""
    with postgres_database(ADMIN_URL, "tiktok_bench_dlt") as database_url:
        _prepare(database_url, sandbox.base_url, warehouse=False)
        command = [
            sys.executable, "-m", "bench.dlt_baseline", "--base-url", sandbox.base_url,
            "--database-url", database_url, "--from", first.isoformat(),
            "--to", last.isoformat(), "--workers", str(workers), "--qps", str(UNLIMITED_QPS),
        ]  # fmt: skip
        with CpuMeter(sandbox.pid) as meter:
            result, tree, wall = measured_child(
                command,
                _env(sandbox.base_url, database_url),
                front_door.role,
                (_database_name(database_url),),
            )
    return {
        "path": "dlt",
        **result,
        "process_seconds": round(wall, 2),
        "orders_per_second": round(result["orders"] / result["seconds"]),
        **_tree_figures("dlt", tree),
        **meter.figures,
    }


def measure_front_door(
    sandbox: SandboxProcess, first: date, last: date, orders: int, workers: int
) -> dict:
    """The backfill launched through the webserver's GraphQL, run by the daemon."""
    partitions = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    with (
        postgres_database(ADMIN_URL, "tiktok_bench_dagster") as dagster_url,
        postgres_database(ADMIN_URL, "tiktok_bench_warehouse") as database_url,
    ):
        _prepare(database_url, sandbox.base_url)
        env = {**_env(sandbox.base_url, database_url), "DAGSTER_PG_URL": dagster_url}
        with front_door.dagster_services(env) as services:
            sampler = ProcessTreeSampler(
                services.webserver.pid,
                *([services.daemon.pid] if services.daemon else []),
                exclude=[sandbox.pid],
                role=front_door.role,
                postgres_databases=(_database_name(dagster_url), _database_name(database_url)),
            )
            with CpuMeter(sandbox.pid) as meter:
                figures = front_door.measure_backfill(
                    services,
                    sampler,
                    database_url,
                    ASSETS,
                    partitions,
                    sync_run_config(UNLIMITED_QPS, workers),
                    orders,
                )
    tree: TreeFigures = figures.pop("tree")
    return {
        "path": "front_door",
        "complete": figures["backfill_status"] in front_door.SUCCEEDED
        and figures["orders"] >= orders,
        **figures,
        "orders_per_second": round(figures["orders"] / figures["seconds"]),
        **_tree_figures("project", tree),
        "peak_rss_mib_by_role": tree.peak_rss_mib_by_role,
        "peak_rss_mib_without_webserver": tree.peak_rss_mib_without_role.get("webserver"),
        "idle_rss_mib": tree.start_rss_mib,
        "processes_seen": tree.processes_seen,
        "postgres_backends": tree.postgres_backends,
        **meter.figures,
    }


def measure_in_process(
    sandbox: SandboxProcess,
    first: date,
    last: date,
    workers: int,
    faults: dict[str, Any] | None = None,
    qps: float = UNLIMITED_QPS,
) -> dict:
    """The sync job's ``execute_in_process`` over the year in a child process."""
    with postgres_database(ADMIN_URL) as database_url:
        _prepare(database_url, sandbox.base_url)
        requests.post(f"{sandbox.base_url}/sandbox/faults", json=faults or {}, timeout=10)
        command = [
            sys.executable, "-m", "bench.backfill", "--child", first.isoformat(),
            last.isoformat(), str(qps), str(workers),
        ]  # fmt: skip
        try:
            with CpuMeter(sandbox.pid) as meter:
                result, tree, wall = measured_child(
                    command,
                    _env(sandbox.base_url, database_url),
                    front_door.role,
                    (_database_name(database_url),),
                )
        finally:
            requests.post(f"{sandbox.base_url}/sandbox/faults", json={}, timeout=10)
    if not result.pop("success"):
        raise RuntimeError(f"the in-process run failed: {result}")
    entry = {
        "path": "in_process_rate_limited" if faults else "in_process",
        **result,
        "process_seconds": round(wall, 2),
        "orders_per_second": round(result["orders"] / result["run_seconds"]),
        "orders_per_second_sync_phase": round(result["orders"] / result["sync_seconds"]),
        **_tree_figures("project", tree),
        **meter.figures,
    }
    if faults:
        ideal = result["pages"] / qps
        entry["pages_per_qps_seconds"] = round(ideal, 2)
        entry["wall_over_pages_per_qps"] = round(result["sync_seconds"] / ideal, 3)
    return entry


def _rounds(arguments: argparse.Namespace, sandbox: SandboxProcess) -> Iterator[dict]:
    anchor = datetime.fromtimestamp(arguments.anchor, UTC)
    first = (anchor - timedelta(days=arguments.days)).date()
    last = (anchor - timedelta(days=1)).date()
    yield {"path": "warm_up", "seconds": _warm_up(sandbox.base_url, first, last, arguments.workers)}
    for number in range(1, arguments.rounds + 1):
        if not arguments.skip_dlt:
            yield {"round": number, **measure_dlt(sandbox, first, last, arguments.workers)}
        if not arguments.skip_front_door:
            entry = measure_front_door(sandbox, first, last, arguments.orders, arguments.workers)
            yield {"round": number, **entry}
        if not arguments.skip_in_process:
            yield {"round": number, **measure_in_process(sandbox, first, last, arguments.workers)}
    if not arguments.skip_rate_limited:
        faults = {"latency_ms": LATENCY_MS, "rate_limit_qps": QPS}
        yield measure_in_process(sandbox, first, last, arguments.workers, faults, QPS)


def summary(entries: list[dict]) -> dict[str, Any]:
    """Ratios within the run (median over rounds) and the issue's targets beside them."""

    def by_round(path: str, field: str) -> dict[int, float]:
        # A backfill that failed or missed rows has no meaningful time: its line says why.
        return {
            e["round"]: e[field] for e in entries if e["path"] == path and e.get("complete", True)
        }

    def median_ratio(slower: dict[int, float], faster: dict[int, float]) -> float | None:
        pairs = [slower[n] / faster[n] for n in slower if n in faster]
        return round(statistics.median(pairs), 2) if pairs else None

    def cpu_by_round(path: str, own: str) -> dict[int, float]:
        return {
            e["round"]: e[own] + e["postgres_cpu_seconds"] + e["sandbox_cpu_seconds"]
            for e in entries
            if e["path"] == path and e.get("complete", True)
        }

    dlt = by_round("dlt", "seconds")
    dlt_cpu = cpu_by_round("dlt", "dlt_cpu_seconds")
    front = [e for e in entries if e["path"] == "front_door" and e["complete"]]
    in_process = [e for e in entries if e["path"] == "in_process"]
    limited = [e for e in entries if e["path"] == "in_process_rate_limited"]
    figures: dict[str, Any] = {
        "path": "summary",
        # The measure: from the launch to the last row, as dlt's is to its committed load.
        "front_door_vs_dlt": median_ratio(dlt, by_round("front_door", "seconds_to_last_row")),
        # Until Dagster marks the backfill completed: its daemon looks every 30 s.
        "front_door_vs_dlt_until_backfill_completed": median_ratio(
            dlt, by_round("front_door", "seconds")
        ),
        "in_process_vs_dlt": median_ratio(dlt, by_round("in_process", "run_seconds")),
        # The same ratios in CPU seconds (own tree + its Postgres backends + the sandbox): less
        # sensitive to what else the machine runs meanwhile.
        "front_door_vs_dlt_cpu": median_ratio(
            dlt_cpu, cpu_by_round("front_door", "project_cpu_seconds")
        ),
        "in_process_vs_dlt_cpu": median_ratio(
            dlt_cpu, cpu_by_round("in_process", "project_cpu_seconds")
        ),
        "front_door_peak_rss_mib": max((e["peak_rss_mib"] for e in front), default=None),
        # The daemon, its code servers and the runs: the webserver and its code server serve the
        # UI whether or not anything is backfilled.
        "front_door_peak_rss_mib_without_webserver": max(
            (e["peak_rss_mib_without_webserver"] for e in front), default=None
        ),
        "dlt_peak_rss_mib": max(
            (e["peak_rss_mib"] for e in entries if e["path"] == "dlt"), default=None
        ),
        "in_process_orders_per_second": max(
            (e["orders_per_second"] for e in in_process), default=None
        ),
        "rate_limited_wall_over_pages_per_qps": (
            limited[0]["wall_over_pages_per_qps"] if limited else None
        ),
        "targets": TARGETS,
    }
    figures["met"] = {
        "front_door_vs_dlt": _at_least(figures["front_door_vs_dlt"], 2.0),
        "front_door_peak_rss_mib": _at_most(figures["front_door_peak_rss_mib"], 600),
        "front_door_peak_rss_mib_without_webserver": _at_most(
            figures["front_door_peak_rss_mib_without_webserver"], 600
        ),
        "in_process_orders_per_second": _at_least(figures["in_process_orders_per_second"], 12000),
        "rate_limited_wall_over_pages_per_qps": _at_most(
            figures["rate_limited_wall_over_pages_per_qps"], 1.1
        ),
    }
    return figures


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def main(arguments: argparse.Namespace) -> None:
    """Every path, one JSON line each, then the summary."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    arguments.anchor = int(midnight.timestamp())
    entries = []
    with sandbox_process(
        "--app-key", APP_KEY, "--app-secret", APP_SECRET, "--shops", "1",
        "--orders-per-shop", str(arguments.orders), "--days", str(arguments.days),
        "--products-per-shop", "200", "--anchor", str(arguments.anchor), "--frozen-clock",
    ) as sandbox:  # fmt: skip
        for entry in _rounds(arguments, sandbox):
            entries.append(entry)
            print(json.dumps(entry), flush=True)
    print(json.dumps(summary(entries)), flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=ORDERS, help="orders in the shop")
    parser.add_argument("--days", type=int, default=DAYS, help="days they spread over")
    parser.add_argument("--workers", type=int, default=WORKERS, help="windows at once, per path")
    parser.add_argument("--rounds", type=int, default=1, help="dlt, front door, in-process x N")
    parser.add_argument("--skip-dlt", action="store_true", help="no dlt baseline")
    parser.add_argument("--skip-front-door", action="store_true", help="no daemon backfill")
    parser.add_argument("--skip-in-process", action="store_true", help="no in-process run")
    parser.add_argument(
        "--skip-rate-limited", action="store_true", help="no run at 50 ms latency + 50 QPS"
    )
    # The in-process run's own child process.
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    parsed = _arguments()
    if parsed.child:
        start, end, qps, workers = parsed.child
        run_sync(start, end, float(qps), int(workers))
    else:
        main(parsed)
