"""Load test of the webhook receiver: signed pushes over loopback from other processes.

Starts ``tiktok-pipeline serve`` as a subprocess (SQLite in a temporary folder unless
``--database-url`` is given), then runs two phases from worker processes, each with keep-alive
connections (``http.client``):

- ``sustained``: an open-loop schedule at ``--rate`` pushes/s for ``--duration`` seconds.
  Latency counts from the moment a push was *due*, so a stalled server cannot hide its stall
  (no coordinated omission).
- ``max``: closed loop, every connection sends back to back, for ``--max-duration`` seconds.

A share of the pushes (``--duplicates``) re-sends an earlier push byte for byte, as TikTok's
retries do. At the end every unique push must be stored exactly once in ``tiktok_webhooks``.
Prints one JSON line of figures, e.g.
``{"bench": "webhooks", "sustained": {"pushes_per_s": 600, "p99_ms": 4.1, ...}, ...}``.

    .venv/bin/python bench/webhooks.py [--rate 600] [--duration 20] [--workers 2]
        [--connections 8] [--duplicates 0.05] [--max-duration 5]
        [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]

With ``--postgres ADMIN_URL`` the service uses a new Postgres database (dropped at the end).

Targets: sustained >= 500 pushes/s with p99 < 50 ms, and every unique push stored once.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._harness import ROOT, cpu_seconds, free_port, postgres_database
from tiktok_pipeline.client.signing import webhook_signature
from tiktok_pipeline.store import Store

APP_KEY = "bench-app-key"
APP_SECRET = "bench-app-secret"
#: (route, type) pairs the pushes cycle through: mostly /all, some per-event routes.
ROUTES = (
    ("all", 1),
    ("all", 12),
    ("order-status-change", 1),
    ("all", 4),
    ("return-status-change", 12),
    ("all", 58),  # a type number the receiver does not know: stored all the same
)
#: The `tiktok-pipeline` console script, run with this interpreter.
SERVE = "import sys; from tiktok_pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
TARGET_RATE = 500
TARGET_P99_MS = 50.0


def _push(worker: int, thread: int, seq: int, phase: str) -> tuple[str, str, bytes]:
    route, type_number = ROUTES[seq % len(ROUTES)]
    notification_id = f"{phase[0]}{worker:02d}{thread:03d}{seq:09d}"
    payload = {
        "type": type_number,
        "tts_notification_id": notification_id,
        "shop_id": "7494049642642441621",
        "timestamp": int(time.time()),
        "data": {
            "order_id": f"5764863169{seq:08d}",
            "order_status": "AWAITING_SHIPMENT",
            "is_on_hold_order": False,
            "update_time": int(time.time()),
        },
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    return notification_id, f"/tiktok/webhooks/{route}", body


def _connection_loop(
    port: int,
    worker: int,
    thread: int,
    phase: str,
    interval: float | None,
    start: float,
    stop: float,
    duplicates: float,
    out: dict,
) -> None:
    rng = random.Random(worker * 1000 + thread)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    unique: list[str] = []
    sent_before: list[tuple[str, str, bytes]] = []
    statuses: dict[int, int] = {}
    errors = 0
    duplicates_sent = 0
    seq = 0
    due = start
    while True:
        if interval is not None:
            due = start + seq * interval
            now = time.perf_counter()
            if due >= stop:
                break
            if due > now:
                time.sleep(due - now)
        else:
            due = time.perf_counter()
            if due >= stop:
                break
        if sent_before and rng.random() < duplicates:
            notification_id, path, body = rng.choice(sent_before)
            duplicate = True
        else:
            notification_id, path, body = _push(worker, thread, seq, phase)
            duplicate = False
        seq += 1
        headers = {
            "Content-Type": "application/json",
            "Authorization": webhook_signature(APP_KEY, APP_SECRET, body),
            "Content-Length": str(len(body)),
        }
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append((time.perf_counter() - due) * 1000.0)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            if duplicate:
                duplicates_sent += 1
            else:
                unique.append(notification_id)
                if len(sent_before) < 500:
                    sent_before.append((notification_id, path, body))
    conn.close()
    out[thread] = (latencies, unique, statuses, errors, duplicates_sent)


def _worker(args: tuple) -> dict:
    port, worker, phase, rate, connections, start_wall, duration, duplicates = args
    # Align on the wall clock so that every process starts together.
    delay = start_wall - time.time()
    if delay > 0:
        time.sleep(delay)
    start = time.perf_counter()
    stop = start + duration
    interval = None if rate is None else connections / rate
    results: dict = {}
    threads = []
    for thread in range(connections):
        offset = 0.0 if interval is None else interval * thread / connections
        t = threading.Thread(
            target=_connection_loop,
            args=(port, worker, thread, phase, interval, start + offset, stop, duplicates, results),
        )
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    merged = {"latencies": [], "unique": [], "statuses": {}, "errors": 0, "duplicates": 0}
    for latencies, unique, statuses, errors, duplicates_sent in results.values():
        merged["latencies"].extend(latencies)
        merged["unique"].extend(unique)
        for status, count in statuses.items():
            merged["statuses"][status] = merged["statuses"].get(status, 0) + count
        merged["errors"] += errors
        merged["duplicates"] += duplicates_sent
    merged["elapsed"] = time.perf_counter() - start
    return merged


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def run_phase(
    pool,
    port: int,
    phase: str,
    options: argparse.Namespace,
    rate: float | None,
    duration: float,
    server_pid: int,
) -> tuple[dict, list[str]]:
    """Drive one phase from the worker processes; returns its figures and the unique ids."""
    cpu_before = cpu_seconds(server_pid)
    load_before = os.getloadavg()[0]
    per_worker_rate = None if rate is None else rate / options.workers
    start_wall = time.time() + 0.5
    jobs = [
        (
            port,
            w,
            phase,
            per_worker_rate,
            options.connections,
            start_wall,
            duration,
            options.duplicates,
        )
        for w in range(options.workers)
    ]
    results = pool.map(_worker, jobs)
    latencies = sorted(x for r in results for x in r["latencies"])
    unique = [x for r in results for x in r["unique"]]
    statuses: dict[str, int] = {}
    for r in results:
        for status, count in r["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    elapsed = max(r["elapsed"] for r in results)
    server_cpu = cpu_seconds(server_pid) - cpu_before
    figures = {
        "target_rate": rate,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "pushes_per_s": round(len(latencies) / elapsed, 1),
        "unique": len(unique),
        "duplicates": sum(r["duplicates"] for r in results),
        "statuses": statuses,
        "connection_errors": sum(r["errors"] for r in results),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        # Independent of other load on the machine, unlike the latencies:
        "server_cpu_ms_per_push": round(server_cpu * 1000 / max(1, len(latencies)), 3),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    return figures, unique


def start_service(port: int, database_url: str, data_dir: str) -> subprocess.Popen:
    """``tiktok-pipeline serve`` on ``port``, once /tiktok/health answers.

    Its log goes to a file in ``data_dir``: an unread pipe would fill up and stall it.
    """
    log_path = Path(data_dir) / "serve.log"
    env = {
        **os.environ,
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "TIKTOK_SERVICE_ID": "bench",
        "TIKTOK_DATABASE_URL": database_url,
        "TIKTOK_DATA_DIR": data_dir,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("wb"),
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited: {log_path.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/tiktok/health")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the service did not answer /tiktok/health within 30 s")


def check_stored(database_url: str, unique: list[str]) -> dict:
    """Every unique push stored exactly once, nothing else stored."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT tts_notification_id, COUNT(*) FROM tiktok_webhooks "
                "GROUP BY tts_notification_id"
            )
        ).all()
    engine.dispose()
    counts = {row[0]: row[1] for row in rows}
    sent = set(unique)
    return {
        "unique_sent": len(sent),
        "rows": sum(counts.values()),
        "missing": len(sent - counts.keys()),
        "stored_twice": sum(1 for n in counts.values() if n > 1),
        "unexpected": len(counts.keys() - sent),
        "answered_twice_as_new": len(unique) - len(sent),
    }


@contextlib.contextmanager
def database(admin_url: str | None, folder: Path) -> Iterator[str]:
    """A migrated operational store: SQLite in ``folder``, or a new Postgres database."""
    if admin_url is None:
        url = f"sqlite:///{folder / 'tiktok.db'}"
        Store.from_url(url, upgrade=True).close()
        yield url
        return
    with postgres_database(admin_url, prefix="bench_webhooks") as url:
        store = Store.from_url(url, upgrade=True)
        store.close()
        store.engine.dispose()
        yield url


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=600.0, help="sustained pushes per second")
    parser.add_argument("--duration", type=float, default=20.0, help="sustained phase seconds")
    parser.add_argument("--max-duration", type=float, default=5.0, help="closed-loop seconds")
    parser.add_argument("--workers", type=int, default=2, help="load processes")
    parser.add_argument("--connections", type=int, default=8, help="connections per process")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of re-sends")
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="run on a new Postgres database made through this URL (default: SQLite)",
    )
    options = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp,
        database(options.postgres, Path(tmp)) as database_url,
    ):
        port = free_port()
        service = start_service(port, database_url, tmp)
        try:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(options.workers) as pool:
                sustained, unique = run_phase(
                    pool, port, "sustained", options, options.rate, options.duration, service.pid
                )
                maximum, unique_max = run_phase(
                    pool, port, "max", options, None, options.max_duration, service.pid
                )
        finally:
            service.terminate()
            try:
                service.wait(15)
            except subprocess.TimeoutExpired:
                service.kill()
        stored = check_stored(database_url, unique + unique_max)
    backend = sa.make_url(database_url).get_backend_name()
    ok_stored = (
        stored["missing"] == 0
        and stored["stored_twice"] == 0
        and not stored["unexpected"]
        and stored["answered_twice_as_new"] == 0
    )
    result = {
        "bench": "webhooks",
        "database": backend,
        "cpus": os.cpu_count(),
        "workers": options.workers,
        "connections": options.workers * options.connections,
        "duplicate_share": options.duplicates,
        "sustained": sustained,
        "max": maximum,
        "stored": stored,
        "meets_target": bool(
            sustained["pushes_per_s"] >= TARGET_RATE
            and sustained["p99_ms"] < TARGET_P99_MS
            and set(sustained["statuses"]) == {"200"}
            and ok_stored
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
