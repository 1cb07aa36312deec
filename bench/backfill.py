"""A year of one busy shop, backfilled in one run into Postgres.

The sandbox (its own process) serves one shop with 200,000 orders over 365 days. The sync job
runs in a child process over the whole year as one partition range (what a backfill run or the
new-shop sensor launches), pulling orders and their line items into a fresh Postgres database.

Figures (one JSON line), with the targets of issue 4:
- ``orders_per_second`` with their line items, sandbox latency off (target >= 5,000);
- ``peak_rss_mib`` of the run's process (target < 400);
- with 50 ms latency and a 50 QPS limit per shop, ``wall_over_pages_per_qps`` = wall time of
  the sync / (pages / 50) (target <= 1.2).

Needs the Postgres server (TIKTOK_TEST_POSTGRES_URL, default the local one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from bench._harness import ROOT, cpu_seconds, postgres_database, sandbox_process

ORDERS, DAYS, QPS, LATENCY_MS = 200_000, 365, 50, 50
ADMIN_URL = os.environ.get(
    "TIKTOK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
APP_KEY, APP_SECRET = "bench-key", "bench-secret"


def run_sync(start: str, end: str, qps: float, workers: int) -> None:
    """In the child process: run the sync job over [start, end] and print its figures."""
    import dagster as dg

    from tiktok_pipeline.definitions import defs

    job = defs().resolve_job_def("tiktok_sync_job")
    started = time.perf_counter()
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("tiktok_orders"), dg.AssetKey("tiktok_order_line_items")],
            tags={
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
            },
            run_config={
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
            },
        )
    elapsed = time.perf_counter() - started
    metadata = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("sync_orders")
    }
    orders = metadata["tiktok_orders"]
    print(
        json.dumps(
            {
                "success": result.success,
                "orders": orders["inserted"].value,
                "line_items": metadata["tiktok_order_line_items"]["inserted"].value,
                "pages": orders["api_pages"].value,
                "sync_seconds": orders["duration_seconds"].value,
                "run_seconds": elapsed,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "run_cpu_seconds": _own_cpu_seconds(),
            }
        )
    )


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _postgres_pids() -> list[int]:
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _command(p).startswith("postgres")
    ]


def _command(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


def _child(env: dict[str, str], start: str, end: str, qps: float, workers: int) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.backfill",
        "--child",
        start,
        end,
        str(qps),
        str(workers),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prepare(database_url: str, base_url: str) -> None:
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.lifecycle import connect_seller
    from tiktok_pipeline.store import Store
    from tiktok_pipeline.warehouse import Warehouse

    store = Store.from_url(database_url, upgrade=True)
    Warehouse.from_url(database_url, upgrade=True)
    client = TikTokShopClient(APP_KEY, APP_SECRET, base_url=base_url, auth_base_url=base_url)
    code = requests.post(f"{base_url}/sandbox/authorize", json={}, timeout=10).json()["code"]
    connect_seller(client, store, code)
    store.close()


def main() -> None:
    """Both runs, one JSON line."""
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = (anchor - timedelta(days=DAYS)).date().isoformat()
    last = (anchor - timedelta(days=1)).date().isoformat()
    figures: dict[str, object] = {"orders_in_sandbox": ORDERS, "days": DAYS}
    with sandbox_process(
        "--app-key",
        APP_KEY,
        "--app-secret",
        APP_SECRET,
        "--shops",
        "1",
        "--orders-per-shop",
        str(ORDERS),
        "--days",
        str(DAYS),
        "--products-per-shop",
        "200",
        "--anchor",
        str(int(anchor.timestamp())),
        "--frozen-clock",
    ) as sandbox:
        base_url = sandbox.base_url
        for label, faults, qps in (
            ("no_latency", {}, 1000.0),
            ("latency_50ms_qps_50", {"latency_ms": LATENCY_MS, "rate_limit_qps": QPS}, QPS),
        ):
            with postgres_database(ADMIN_URL) as database_url:
                _prepare(database_url, base_url)
                requests.post(f"{base_url}/sandbox/faults", json=faults, timeout=10)
                env = {
                    **os.environ,
                    "TIKTOK_APP_KEY": APP_KEY,
                    "TIKTOK_APP_SECRET": APP_SECRET,
                    "TIKTOK_API_BASE_URL": base_url,
                    "TIKTOK_AUTH_BASE_URL": base_url,
                    "TIKTOK_DATABASE_URL": database_url,
                }
                before = {
                    "sandbox": cpu_seconds(sandbox.pid, children=True),
                    "postgres": cpu_seconds(*_postgres_pids(), children=True),
                }
                result = _child(env, first, last, qps, workers=8)
                result["sandbox_cpu_seconds"] = (
                    cpu_seconds(sandbox.pid, children=True) - before["sandbox"]
                )
                result["postgres_cpu_seconds"] = (
                    cpu_seconds(*_postgres_pids(), children=True) - before["postgres"]
                )
            assert result["success"], result
            per_order = {
                f"{name}_cpu_us_per_order": round(
                    result[f"{name}_cpu_seconds"] / result["orders"] * 1e6
                )
                for name in ("run", "sandbox", "postgres")
            }
            entry = {
                **result,
                **per_order,
                "orders_per_second": round(result["orders"] / result["sync_seconds"]),
                "line_items_per_second": round(result["line_items"] / result["sync_seconds"]),
            }
            if faults:
                ideal = result["pages"] / QPS
                entry["pages_per_qps_seconds"] = round(ideal, 2)
                entry["wall_over_pages_per_qps"] = round(result["sync_seconds"] / ideal, 3)
            figures[label] = entry
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=4, metavar=("START", "END", "QPS", "WORKERS"))
    arguments = parser.parse_args()
    if arguments.child:
        start, end, qps, workers = arguments.child
        run_sync(start, end, float(qps), int(workers))
    else:
        main()
