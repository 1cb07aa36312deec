"""An agency: one seller authorization with hundreds of small shops, on Postgres.

For each ``--shops`` count (default 30, 100 and 300), in a child process of its own (so that
memory figures do not carry over), with a sandbox of that many shops under one seller
(``tiktok-pipeline sandbox --sellers 1 --shops N``, small shops: ``--orders-per-shop`` over
``--days``), a fresh Postgres database for the store and the warehouse and another for Dagster
(the production ``dagster.yaml``):

1. connect: the seller's authorization code exchanged and its N shops stored (``connect_seller``,
   what the consent redirect does);
2. incremental pass: ``tiktok_incremental_schedule`` evaluated as the daemon does at a tick, and
   its run (today's partition, every active shop) executed in process with its checks: seconds,
   peak memory above the process's baseline, CPU of this process, the sandbox and Postgres;
3. the new-shop history sensor evaluated with ``dg.build_sensor_context`` on the instance
   (``--history-days`` of history, default 1: one month range, so one run per batch of new
   shops), its run requests (or the first ``--history-runs``) executed in process as the
   daemon would launch them, and a second evaluation with the new cursor (it must ask for
   nothing).

Prints one JSON line per shop count, then a summary with the per-shop figures side by side:
seconds and MiB per shop that stay flat mean linear growth. ``--profile`` writes a cProfile of
each incremental pass (``agency-N.prof``) and prints its top functions.

    .venv/bin/python -m bench.agency [--shops 30,100,300] [--profile]

Needs the Postgres server (TIKTOK_TEST_POSTGRES_URL, default the local one).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bench._harness import (
    ROOT,
    TOKEN_KEY,
    cpu_seconds,
    postgres_cpu_seconds,
    postgres_database,
    sandbox_process,
)

ADMIN_URL = os.environ.get(
    "TIKTOK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
APP_KEY = "bench-app-key"
APP_SECRET = "bench-app-secret"
SCHEDULE = "tiktok_incremental_schedule"
SENSOR = "tiktok_new_shop_history_sensor"


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Peak RSS of this process over a ``with`` block, sampled in a thread every 50 ms.

    VmHWM cannot be reset without privileges here, so the block's peak is sampled.
    """

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self) -> PeakRss:
        self.baseline = _rss_mib()
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


class Meter:
    """Wall time and CPU of this process, the sandbox and all of Postgres over a block."""

    def __init__(self, sandbox_pid: int) -> None:
        self.sandbox_pid = sandbox_pid
        self.figures: dict[str, float] = {}

    def __enter__(self) -> Meter:
        self._wall = time.perf_counter()
        self._own = cpu_seconds(os.getpid())
        self._sandbox = cpu_seconds(self.sandbox_pid, children=True)
        self._postgres = postgres_cpu_seconds()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.figures = {
            "seconds": round(time.perf_counter() - self._wall, 3),
            "cpu_seconds": round(cpu_seconds(os.getpid()) - self._own, 2),
            "sandbox_cpu_seconds": round(
                cpu_seconds(self.sandbox_pid, children=True) - self._sandbox, 2
            ),
            "postgres_all_cpu_seconds": round(postgres_cpu_seconds() - self._postgres, 2),
        }


def _environment(base_url: str, database_url: str, dagster_url: str, history_days: int) -> None:
    for key in [key for key in os.environ if key.startswith("TIKTOK_")]:
        del os.environ[key]
    os.environ.update(
        {
            "TIKTOK_APP_KEY": APP_KEY,
            "TIKTOK_APP_SECRET": APP_SECRET,
            "TIKTOK_API_BASE_URL": base_url,
            "TIKTOK_AUTH_BASE_URL": base_url,
            "TIKTOK_TOKEN_KEY": TOKEN_KEY,
            "TIKTOK_DATABASE_URL": database_url,
            "TIKTOK_WAREHOUSE_URL": database_url,
            "TIKTOK_HISTORY_DAYS": str(history_days),
            "DAGSTER_PG_URL": dagster_url,
        }
    )


def _connect(base_url: str, database_url: str) -> int:
    """The sandbox's seller connected as the consent redirect does; the number of shops stored."""
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle import connect_seller
    from tiktok_pipeline.store import Store
    from tiktok_pipeline.warehouse import Warehouse

    store = Store.from_url(database_url, upgrade=True)
    Warehouse.from_url(database_url, upgrade=True)
    client = TikTokShopClient(APP_KEY, APP_SECRET, base_url=base_url, auth_base_url=base_url)
    code = requests.post(f"{base_url}/sandbox/authorize", json={}, timeout=60).json()["code"]
    _, shops = connect_seller(client, store, code)
    client.close()
    store.close()
    return len(shops)


def _ledger_figures(database_url: str, run_ids: list[str]) -> dict[str, Any]:
    from tiktok_pipeline.warehouse.schema import sync_ledger as ledger

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        shops, windows, failed, received = connection.execute(
            sa.select(
                sa.func.count(sa.distinct(ledger.c.shop_id)),
                sa.func.count(),
                sa.func.count().filter(ledger.c.status != "success"),
                sa.func.coalesce(sa.func.sum(ledger.c.items_received), 0),
            ).where(ledger.c.run_id.in_(run_ids))
        ).one()
    engine.dispose()
    return {"shops": shops, "ledger_rows": windows, "failed": failed, "received": received}


def _top_functions(profile: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def measure_one(shops: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one shop count (run in a child process)."""
    import dagster as dg

    sandbox_args = [
        "--sellers",
        "1",
        "--shops",
        str(shops),
        "--orders-per-shop",
        str(args.orders_per_shop),
        "--products-per-shop",
        str(args.products_per_shop),
        "--days",
        str(args.days),
        "--app-key",
        APP_KEY,
        "--app-secret",
        APP_SECRET,
    ]
    figures: dict[str, Any] = {"shops": shops}
    with (
        sandbox_process(*sandbox_args, sandbox_only=True) as sandbox,
        postgres_database(ADMIN_URL, "tiktok_bench_agency") as database_url,
        postgres_database(ADMIN_URL, "tiktok_bench_agency_dagster") as dagster_url,
        tempfile.TemporaryDirectory(prefix="tiktok-agency-") as home,
    ):
        _environment(sandbox.base_url, database_url, dagster_url, args.history_days)
        shutil.copy(ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        with Meter(sandbox.pid) as meter:
            figures["shops_connected"] = _connect(sandbox.base_url, database_url)
        figures["connect"] = meter.figures

        from tiktok_pipeline.definitions import defs

        definitions = defs()
        job = definitions.resolve_job_def("tiktok_sync_job")
        repository = definitions.get_repository_def()
        with dg.DagsterInstance.from_config(home) as instance:
            now = datetime.now(UTC)
            schedule = repository.get_schedule_def(SCHEDULE)
            with dg.build_schedule_context(
                instance=instance, scheduled_execution_time=now
            ) as context:
                request = schedule(context)
            assert isinstance(request, dg.RunRequest), request
            profile = cProfile.Profile() if args.profile else None
            with Meter(sandbox.pid) as meter, PeakRss() as memory:
                if profile is not None:
                    profile.enable()
                result = job.execute_in_process(
                    instance=instance,
                    partition_key=request.partition_key,
                    tags=dict(request.tags),
                    run_config=request.run_config or None,
                    raise_on_error=False,
                )
                if profile is not None:
                    profile.disable()
            incremental = {
                "success": result.success,
                **meter.figures,
                "baseline_rss_mib": round(memory.baseline, 1),
                "peak_rss_above_baseline_mib": round(memory.peak - memory.baseline, 1),
                "dagster_events": len(instance.all_logs(result.run_id)),
                **_ledger_figures(database_url, [result.run_id]),
            }
            figures["incremental"] = incremental
            if profile is not None:
                path = Path(tempfile.gettempdir()) / f"agency-{shops}.prof"
                profile.dump_stats(path)
                figures["profile"] = str(path)
                print(_top_functions(profile), file=sys.stderr)

            sensor = repository.get_sensor_def(SENSOR)
            with Meter(sandbox.pid) as meter:
                with dg.build_sensor_context(
                    instance=instance, resources=definitions.resources
                ) as context:
                    evaluation = sensor(context)
            assert isinstance(evaluation, dg.SensorResult), evaluation
            requests_made = list(evaluation.run_requests or [])
            history: dict[str, Any] = {
                "evaluation": meter.figures,
                "run_requests": len(requests_made),
                "shops_requested": len(
                    {shop for r in requests_made for shop in r.tags["tiktok/shop"].split(",")}
                ),
            }
            sample = requests_made[: args.history_runs or None]
            run_ids = []
            with Meter(sandbox.pid) as meter:
                for run_request in sample:
                    # What the daemon launches: the request's tags (its partition range) and
                    # run config on the sync job.
                    run = job.execute_in_process(
                        instance=instance,
                        tags=dict(run_request.tags),
                        run_config=run_request.run_config,
                        raise_on_error=False,
                    )
                    run_ids.append(run.run_id)
            history["runs_executed"] = len(sample)
            history["runs_succeeded"] = sum(
                instance.get_run_by_id(run_id).is_success  # type: ignore[union-attr]
                for run_id in run_ids
            )
            history["runs"] = meter.figures
            history["seconds_per_run"] = (
                round(meter.figures["seconds"] / len(sample), 2) if sample else None
            )
            history["ledger"] = _ledger_figures(database_url, run_ids) if run_ids else {}
            with Meter(sandbox.pid) as meter:
                with dg.build_sensor_context(
                    instance=instance, resources=definitions.resources, cursor=evaluation.cursor
                ) as context:
                    again = sensor(context)
            assert isinstance(again, dg.SensorResult), again
            history["second_evaluation"] = {
                **meter.figures,
                "run_requests": len(again.run_requests or []),
                "skip_reason": again.skip_reason.skip_message if again.skip_reason else None,
            }
            figures["history_sensor"] = history
    return figures


def _per_shop(figures: dict[str, Any]) -> dict[str, Any]:
    shops = figures["shops"]
    incremental = figures["incremental"]
    sensor = figures["history_sensor"]
    return {
        "shops": shops,
        "incremental_success": incremental["success"],
        "shops_synced": incremental["shops"],
        "incremental_seconds": incremental["seconds"],
        "incremental_ms_per_shop": round(1000 * incremental["seconds"] / shops, 1),
        "incremental_cpu_ms_per_shop": round(1000 * incremental["cpu_seconds"] / shops, 1),
        "postgres_cpu_ms_per_shop": round(
            1000 * incremental["postgres_all_cpu_seconds"] / shops, 1
        ),
        "peak_rss_above_baseline_mib": incremental["peak_rss_above_baseline_mib"],
        "mib_per_shop": round(incremental["peak_rss_above_baseline_mib"] / shops, 3),
        "dagster_events": incremental["dagster_events"],
        "connect_ms_per_shop": round(1000 * figures["connect"]["seconds"] / shops, 1),
        "sensor_ms_per_shop": round(1000 * sensor["evaluation"]["seconds"] / shops, 2),
        "sensor_run_requests": sensor["run_requests"],
        "history_runs_executed": sensor["runs_executed"],
        "history_runs_succeeded": sensor["runs_succeeded"],
        "history_seconds_per_run": sensor["seconds_per_run"],
        "history_ms_per_shop": (
            round(1000 * sensor["runs"]["seconds"] / sensor["ledger"]["shops"], 1)
            if sensor["ledger"].get("shops")
            else None
        ),
        "second_sensor_evaluation_requests": sensor["second_evaluation"]["run_requests"],
    }


def main() -> int:
    """Measure every shop count in its own child process; print their lines and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", default="30,100,300", help="shop counts (30,100,300)")
    parser.add_argument("--orders-per-shop", type=int, default=300, help="orders per shop (300)")
    parser.add_argument("--products-per-shop", type=int, default=20, help="products (20)")
    parser.add_argument("--days", type=int, default=30, help="days of sandbox history (30)")
    parser.add_argument("--history-days", type=int, default=1, help="sensor's history (1)")
    parser.add_argument(
        "--history-runs",
        type=int,
        default=0,
        help="history runs to execute per shop count (default 0: every run requested)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each incremental pass")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args)))
        return 0
    lines = []
    for shops in (int(count) for count in args.shops.split(",")):
        command = [sys.executable, "-m", "bench.agency", *sys.argv[1:], "--one", str(shops)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-4000:], file=sys.stderr)
            return 1
        if args.profile:
            print(done.stderr[-12000:], file=sys.stderr)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(figures), flush=True)
        lines.append(_per_shop(figures))
    smallest, largest = lines[0], lines[-1]
    growth = {
        key: round(largest[key] / smallest[key], 2) if smallest[key] else None
        for key in ("incremental_ms_per_shop", "incremental_cpu_ms_per_shop", "mib_per_shop")
    }
    print(json.dumps({"summary": lines, "per_shop_growth_largest_vs_smallest": growth}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
