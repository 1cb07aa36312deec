"""From TikTok's push to the updated warehouse row, under `dagster dev` (issue 5).

Starts the whole embedded default with `tiktok-pipeline dev` (sandbox, web service, dagster dev
with its daemon) in a temporary folder, waits for the new shops' history to land, then moves the
sandbox's clock a few times: each move changes orders and pushes ORDER_STATUS_CHANGE webhooks to
the web service. The webhook sensor launches refresh runs. For each push, the latency is the time
from its arrival at the receiver (`tiktok_webhooks.received_at`) to the moment its refresh run
marked it processed, which is after the run committed the order's row. The script also checks
that every pushed order's row carries at least the pushed update_time.

Prints one JSON line: pushes, p50/p95/max seconds (target: p95 under 60 s), rows checked.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

from bench._harness import free_port

ROUNDS, ADVANCE_SECONDS, PAUSE_SECONDS = 6, 1200, 20


def _query(database: Path, sql: str, *params) -> list[tuple]:
    if not database.exists():
        return []
    with sqlite3.connect(database, timeout=30) as connection:
        try:
            return connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return []


def _wait_for_history(database: Path, timeout: float = 600) -> None:
    """Until the history runs have landed something and the ledger stops growing."""
    deadline, last, quiet_since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = (_query(database, "SELECT count(*) FROM tiktok_sync_ledger") or [(0,)])[0][0]
        if count != last:
            last, quiet_since = count, time.monotonic()
        elif count > 0 and time.monotonic() - quiet_since > 30:
            return
        time.sleep(2)
    raise RuntimeError("the history runs did not settle")


def main() -> None:
    """Run the scenario and print the figures."""
    ports = {name: free_port() for name in ("dagster", "web", "sandbox")}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DAGSTER_"))}
        log = (root / "dev.log").open("w")
        dev = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tiktok_pipeline.cli",
                "dev",
                "--dagster-port",
                str(ports["dagster"]),
                "--web-port",
                str(ports["web"]),
                "--sandbox-port",
                str(ports["sandbox"]),
                "--orders-per-shop",
                "3000",
                "--days",
                "30",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        database = root / "data" / "tiktok.db"
        sandbox = f"http://127.0.0.1:{ports['sandbox']}"
        try:
            _wait_for_history(database)
            started = time.time()
            for _ in range(ROUNDS):
                requests.post(
                    f"{sandbox}/sandbox/clock/advance",
                    json={"seconds": ADVANCE_SECONDS},
                    timeout=60,
                ).raise_for_status()
                time.sleep(PAUSE_SECONDS)
            deadline = time.monotonic() + 300
            pending = -1
            while time.monotonic() < deadline and pending != 0:
                pending = _query(
                    database,
                    "SELECT count(*) FROM tiktok_webhooks WHERE type = 1 "
                    "AND status IN ('pending', 'processing')",
                )[0][0]
                time.sleep(2)
            rows = _query(
                database,
                "SELECT w.received_at, w.processed_at, json_extract(w.data, '$.order_id'), "
                "json_extract(w.data, '$.update_time'), o.update_time, w.status "
                "FROM tiktok_webhooks w LEFT JOIN tiktok_orders o "
                "ON o.shop_id = w.shop_id AND o.id = json_extract(w.data, '$.order_id') "
                "WHERE w.type = 1",
            )
        finally:
            dev.send_signal(signal.SIGTERM)
            dev.wait(timeout=120)
            log.close()

    def moment(text: str) -> float:
        return datetime.fromisoformat(text).timestamp()

    latencies = sorted(moment(done) - moment(got) for got, done, *_ in rows if done)
    stale = [r for r in rows if r[4] is None or r[3] is None or r[4] < r[3]]
    print(
        json.dumps(
            {
                "pushes": len(rows),
                "processed": len(latencies),
                "not_processed": sum(1 for r in rows if r[5] != "processed"),
                "p50_seconds": round(statistics.median(latencies), 2) if latencies else None,
                "p95_seconds": (
                    round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None
                ),
                "max_seconds": round(latencies[-1], 2) if latencies else None,
                "rows_older_than_their_push": len(stale),
                "scenario_seconds": round(time.time() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
