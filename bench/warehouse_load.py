"""Micro-benchmark of the warehouse loader: realistic orders into Postgres and SQLite.

Prints one JSON line per backend, page size and phase, e.g.
``{"backend": "postgresql", "page": 100, "window": 550, "phase": "insert", "orders": 50000,
"orders_per_s": 9000, "python_us_per_order": 60, "server_us_per_order": 70, ...}``.

Phases: ``insert`` (empty tables), ``rerun`` (same payloads: all unchanged) and ``update``
(every order newer: parents replaced, line items deleted and re-inserted). Each page size
runs on fresh tables. ``page`` is the number of orders per ``load`` call and
``window`` the number of orders per transaction: the pipeline loads one API page of 100
orders at a time and commits one (shop, day) window, about 550 orders for a shop with
200,000 orders a year; ``--page 5000`` is one bulk call per transaction.

Postgres has two write paths (see tiktok_pipeline/warehouse/postgres_writer.py): ``direct``
(COPY straight into the tables, what a load takes unless another transaction writes the
same rows) and ``guarded`` (one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` per batch, its
rows sent as one JSON array). ``--path`` picks them; both run by default, each on fresh
tables, so that one run compares them.

``python_us_per_order`` is this process's CPU time (all threads) and
``server_us_per_order`` the CPU time of the Postgres backends serving it (read from
/proc, so only for a server on this machine), both per order: on a shared machine they
vary less than the wall time.

    .venv/bin/python bench/warehouse_load.py [--orders 50000] [--page 5000 --page 100]
        [--window 550] [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
        [--no-sqlite] [--path direct --path guarded]

Postgres runs in a new database that is dropped at the end. The inputs are built first
and frozen out of the garbage collector's sight (``gc.freeze``): the pipeline holds one
page at a time, not 100,000 orders, and should not be charged for scanning them.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._harness import postgres_database
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.warehouse import ORDER_TABLES, LoadResult, Warehouse, postgres_writer
from tiktok_pipeline_tests.test_warehouse import factories

SHOP_ID = "7000714532876273420"


def make_orders(count: int, seed: int = 7, update_shift: int = 0) -> list[dict]:
    """``count`` orders with 2-3 line items each (mean ~2.5), ids like TikTok's."""
    rng = random.Random(seed)
    orders = []
    for n in range(count):
        order_id = str(576_461_413_038_000_000 + n)
        items = [
            factories.line_item(
                f"{order_id}{k}",
                sale_price=f"{rng.randint(500, 9999) / 100:.2f}",
                original_price=f"{rng.randint(10000, 12000) / 100:.2f}",
                sku_id=str(1_729_385_730_000_000_000 + rng.randint(0, 500)),
            )
            for k in range(rng.choice((2, 3)))
        ]
        created = factories.T0 + n * 17
        orders.append(
            factories.order(
                order_id,
                create_time=created,
                update_time=created + 600 + update_shift,
                line_items=items,
            )
        )
    return orders


class ServerClock:
    """CPU time used by the client backends of one Postgres database on this machine."""

    def __init__(self, admin: sa.Engine | None, database: str) -> None:
        self.admin = admin
        self.database = database

    def _backends(self) -> list[int]:
        assert self.admin is not None
        query = sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :name "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        with self.admin.connect() as connection:
            return [pid for (pid,) in connection.execute(query, {"name": self.database})]

    def read(self) -> dict[int, int]:
        """Nanoseconds of CPU per backend pid; empty when they cannot be read."""
        if self.admin is None:
            return {}
        times = {}
        for pid in self._backends():
            try:
                times[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except (OSError, ValueError):
                return {}
        return times


def _per_order(nanoseconds: float, orders: int) -> float:
    return round(nanoseconds / 1000 / orders, 1)


def run_phase(
    warehouse: Warehouse, payload: list[dict], page: int, window: int
) -> tuple[LoadResult, float, float]:
    """Loads ``payload`` in transactions of ``window`` orders, ``page`` orders per call."""
    result = LoadResult()
    process_started = time.process_time_ns()
    started = time.perf_counter()
    for first in range(0, len(payload), window):
        with warehouse.begin() as tx:
            for start in range(first, min(first + window, len(payload)), page):
                end = min(start + page, first + window)
                result += tx.load(ORDER_TABLES, SHOP_ID, payload[start:end])
    return result, time.perf_counter() - started, time.process_time_ns() - process_started


def run_backend(
    name: str,
    url: str,
    orders: list[dict],
    newer: list[dict],
    page: int,
    window: int,
    clock: ServerClock | None = None,
    path: str | None = None,
) -> None:
    """Times the three phases on ``url`` and prints a JSON line for each.

    ``path``: ``guarded`` makes every Postgres batch take the guarded upsert.
    """
    warehouse = Warehouse.from_url(url, upgrade=True)
    savepoints = postgres_writer.MAX_SAVEPOINTS
    if path == "guarded":
        postgres_writer.MAX_SAVEPOINTS = 0
    try:
        for phase, payload in (("insert", orders), ("rerun", orders), ("update", newer)):
            # A backend that appears meanwhile counts from its start (its connection setup).
            server_before = clock.read() if clock else {}
            result, seconds, python_ns = run_phase(warehouse, payload, page, window)
            server_after = clock.read() if clock else {}
            line = {
                "backend": name,
                **({"path": path} if path else {}),
                "page": page,
                "window": window,
                "phase": phase,
                "orders": len(payload),
                "seconds": round(seconds, 3),
                "orders_per_s": round(len(payload) / seconds),
                "python_us_per_order": _per_order(python_ns, len(payload)),
            }
            if server_after:
                used = sum(t - server_before.get(pid, 0) for pid, t in server_after.items())
                line["server_us_per_order"] = _per_order(used, len(payload))
            line_items = result.counts("tiktok_order_line_items")
            line |= {
                "orders_counts": result.counts("tiktok_orders").as_dict(),
                "line_items_inserted": line_items.inserted,
                "line_items_deleted": line_items.deleted,
            }
            print(json.dumps(line), flush=True)
    finally:
        postgres_writer.MAX_SAVEPOINTS = savepoints
        warehouse.engine.dispose()


def main() -> int:
    """Parses the arguments and runs the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument(
        "--page",
        type=int,
        action="append",
        help="orders per load call; repeat for several runs (default: 5000 and 100)",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=550,
        help="orders per transaction when a page is smaller (default 550: one day of a shop "
        "with 200,000 orders a year)",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        help="admin URL of the Postgres server ('' to skip Postgres)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--path",
        action="append",
        choices=("direct", "guarded"),
        help="Postgres write path; repeat for several (default: both)",
    )
    args = parser.parse_args()

    orders = make_orders(args.orders)
    newer = make_orders(args.orders, update_shift=60)
    gc.collect()
    gc.freeze()
    for page in args.page or [5000, 100]:
        window = max(page, args.window)
        if not args.no_sqlite:
            with tempfile.TemporaryDirectory() as folder:
                url = sqlite_url(Path(folder) / "bench.db")
                run_backend("sqlite", url, orders, newer, page, window)
        if args.postgres:
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            try:
                for path in args.path or ["direct", "guarded"]:
                    with postgres_database(args.postgres) as url:
                        clock = ServerClock(admin, sa.make_url(url).database or "")
                        run_backend("postgresql", url, orders, newer, page, window, clock, path)
            finally:
                admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
