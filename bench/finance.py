"""A year of finance for one shop: statements, their transactions, payments and withdrawals
backfilled as an operator does, with the figures of the whole process tree.

The sandbox (its own process) serves one shop with ``--orders-per-day`` orders a day over
``--days`` days (default 300 a day over 365 days); its statements, transactions, payments and
withdrawals derive from them. Two paths, each into fresh Postgres databases:

1. ``front_door`` (default): a temporary ``DAGSTER_HOME`` with the project's ``dagster.yaml``,
   ``dagster-webserver`` and ``dagster-daemon run`` on ``workspace.yaml``, and the UI's
   ``launchPartitionBackfill`` mutation for the four finance tables over every day (see
   ``bench/_front_door.py``). Timed from the POST until Dagster marks the backfill complete.
2. ``in_process`` (``--in-process``): the sync job's ``execute_in_process`` over the same
   range, as one backfill run, in a child process: the runs' own cost without the daemon.

Each path prints one JSON line: rows landed per table, API pages, seconds, rows per second,
the peak RSS of the process tree (sum over the processes at one sample) and CPU seconds.
Needs the Postgres server (TIKTOK_TEST_POSTGRES_URL, default the local one). Develop with
``--days 20 --orders-per-day 100``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench import _front_door as front_door
from bench._harness import (
    CpuMeter,
    ProcessTreeSampler,
    SandboxProcess,
    measured_child,
    postgres_database,
    sandbox_process,
)
from bench.backfill import ADMIN_URL, APP_KEY, APP_SECRET, UNLIMITED_QPS, _env, _prepare

FINANCE = {
    "statements": "tiktok_statements",
    "statement_transactions": "tiktok_statement_transactions",
    "payments": "tiktok_payments",
    "withdrawals": "tiktok_withdrawals",
}
ASSETS = list(FINANCE.values())
WORKERS = 8


def run_config(workers: int) -> dict[str, Any]:
    """The launchpad's run config: an unlimited client QPS and ``workers`` windows at once."""
    return {
        "resources": {
            "tiktok": {
                "config": {
                    "app_key": {"env": "TIKTOK_APP_KEY"},
                    "app_secret": {"env": "TIKTOK_APP_SECRET"},
                    "qps": UNLIMITED_QPS,
                }
            }
        },
        "ops": {f"sync_{name}": {"config": {"max_workers": workers}} for name in FINANCE},
    }


def row_counts(database_url: str) -> dict[str, int]:
    """Rows of each finance table in the warehouse."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        counts = {
            name: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for name, table in FINANCE.items()
        }
    engine.dispose()
    return counts


def _figures(counts: dict[str, int], seconds: float) -> dict[str, Any]:
    rows = sum(counts.values())
    return {
        **counts,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
    }


def run_child(start: str, end: str, workers: int) -> None:
    """In the child process: the sync job over ``[start, end]`` for the finance tables."""
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
            run_config=run_config(workers),
            raise_on_error=False,
        )
        pages = sum(
            run_totals(instance, result.run_id, name).get("api_pages", 0) for name in FINANCE
        )
    print(
        json.dumps(
            {
                "success": result.success,
                "pages": pages,
                "run_seconds": round(time.perf_counter() - started, 2),
                "process_peak_rss_mib": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
        )
    )


def measure_in_process(sandbox: SandboxProcess, first: date, last: date, workers: int) -> dict:
    """The in-process run over the range in a child process, its tree sampled."""
    with postgres_database(ADMIN_URL, "tiktok_bench_finance") as database_url:
        _prepare(database_url, sandbox.base_url)
        command = [
            sys.executable, "-m", "bench.finance", "--child", first.isoformat(),
            last.isoformat(), str(workers),
        ]  # fmt: skip
        with CpuMeter(sandbox.pid) as meter:
            result, tree, wall = measured_child(
                command, _env(sandbox.base_url, database_url), front_door.role
            )
        counts = row_counts(database_url)
    if not result.pop("success"):
        raise RuntimeError(f"the in-process run failed: {result}")
    return {
        "path": "in_process",
        **_figures(counts, result["run_seconds"]),
        **result,
        "process_seconds": round(wall, 2),
        "peak_rss_mib": tree.peak_rss_mib,
        "project_cpu_seconds": tree.cpu_seconds,
        **meter.figures,
    }


def measure_front_door(sandbox: SandboxProcess, first: date, last: date, workers: int) -> dict:
    """The backfill launched through the webserver's GraphQL, run by the daemon."""
    partitions = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    with (
        postgres_database(ADMIN_URL, "tiktok_bench_dagster") as dagster_url,
        postgres_database(ADMIN_URL, "tiktok_bench_finance") as database_url,
    ):
        _prepare(database_url, sandbox.base_url)
        env = {**_env(sandbox.base_url, database_url), "DAGSTER_PG_URL": dagster_url}
        with front_door.dagster_services(env) as services:
            sampler = ProcessTreeSampler(
                services.webserver.pid,
                *([services.daemon.pid] if services.daemon else []),
                exclude=[sandbox.pid],
                role=front_door.role,
            )
            with CpuMeter(sandbox.pid) as meter:
                # No orders are synced here: the backfill's end is its completion.
                figures = front_door.measure_backfill(
                    services, sampler, database_url, ASSETS, partitions, run_config(workers), 0
                )
        counts = row_counts(database_url)
    tree = figures.pop("tree")
    for unrelated in ("orders", "line_items", "seconds_to_last_row"):
        figures.pop(unrelated, None)
    return {
        "path": "front_door",
        "complete": figures["backfill_status"] in front_door.SUCCEEDED,
        **_figures(counts, figures.pop("seconds")),
        **figures,
        "peak_rss_mib": tree.peak_rss_mib,
        "peak_rss_mib_by_role": tree.peak_rss_mib_by_role,
        "project_cpu_seconds": tree.cpu_seconds,
        "processes_started": tree.processes_started,
        **meter.figures,
    }


def main(arguments: argparse.Namespace) -> None:
    """One JSON line for the path measured."""
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = (anchor - timedelta(days=arguments.days)).date()
    last = (anchor - timedelta(days=1)).date()
    with sandbox_process(
        "--app-key", APP_KEY, "--app-secret", APP_SECRET, "--shops", "1",
        "--orders-per-shop", str(arguments.orders_per_day * arguments.days),
        "--days", str(arguments.days), "--products-per-shop", "100",
        "--anchor", str(int(anchor.timestamp())), "--frozen-clock",
    ) as sandbox:  # fmt: skip
        measure = measure_in_process if arguments.in_process else measure_front_door
        entry = measure(sandbox, first, last, arguments.workers)
        entry.update(days=arguments.days, orders_per_day=arguments.orders_per_day)
        print(json.dumps(entry), flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365, help="days of history")
    parser.add_argument("--orders-per-day", type=int, default=300, help="orders a day")
    parser.add_argument("--workers", type=int, default=WORKERS, help="windows at once per asset")
    parser.add_argument(
        "--in-process", action="store_true", help="one in-process run instead of the daemon"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    parsed = _arguments()
    if parsed.child:
        start, end, workers = parsed.child
        run_child(start, end, int(workers))
    else:
        main(parsed)
