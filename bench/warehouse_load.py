"""Micro-benchmark of the warehouse loader: realistic orders into Postgres and SQLite.

Prints one JSON line per backend and phase, e.g.
``{"backend": "postgresql", "phase": "insert", "orders": 50000, "orders_per_s": 14000, ...}``.
Phases: ``insert`` (empty tables), ``rerun`` (same payloads: all unchanged) and ``update``
(every order newer: parents replaced, line items deleted and re-inserted).

    .venv/bin/python bench/warehouse_load.py [--orders 50000] [--page 1000]
        [--postgres postgresql+psycopg2://postgres@127.0.0.1:5432/postgres] [--no-sqlite]

Postgres runs in a new database that is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.warehouse import Warehouse
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


def run_backend(name: str, url: str, orders: list[dict], newer: list[dict], page: int) -> None:
    """Times the three phases on ``url`` and prints a JSON line for each."""
    warehouse = Warehouse.from_url(url, upgrade=True)
    try:
        for phase, payload in (("insert", orders), ("rerun", orders), ("update", newer)):
            started = time.perf_counter()
            result = None
            for start in range(0, len(payload), page):
                # One transaction per page, as a partition run commits its window.
                with warehouse.begin() as tx:
                    loaded = tx.load_orders(SHOP_ID, payload[start : start + page])
                result = loaded if result is None else result + loaded
            seconds = time.perf_counter() - started
            line_items = result.counts("tiktok_order_line_items")
            print(
                json.dumps(
                    {
                        "backend": name,
                        "phase": phase,
                        "orders": len(payload),
                        "page": page,
                        "seconds": round(seconds, 3),
                        "orders_per_s": round(len(payload) / seconds),
                        "orders_counts": result.counts("tiktok_orders").as_dict(),
                        "line_items_inserted": line_items.inserted,
                        "line_items_deleted": line_items.deleted,
                    }
                ),
                flush=True,
            )
    finally:
        warehouse.engine.dispose()


def main() -> int:
    """Parses the arguments and runs the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=5_000, help="orders per transaction")
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
        help="admin URL of the Postgres server ('' to skip Postgres)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    orders = make_orders(args.orders)
    newer = make_orders(args.orders, update_shift=60)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            run_backend("sqlite", sqlite_url(Path(folder) / "bench.db"), orders, newer, args.page)
    if args.postgres:
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"tiktok_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.make_url(args.postgres).set(database=name)
            run_backend(
                "postgresql", url.render_as_string(hide_password=False), orders, newer, args.page
            )
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
