"""The dlt baseline of ``bench/backfill.py``: the same year of orders, pulled by a dlt pipeline.

What a dlt 1.31 user would write over the same TikTok Shop sandbox: one resource yielding
(shop, day window) units and a parallelized transformer that walks every page of a window with
the project's signed client (so that signing and HTTP cost the same as in the pipeline), the
same number of workers (dlt's ``extract.workers``), ``write_disposition="merge"`` on
``(shop_id, id)``, the line items as dlt's default nested table (``tiktok_orders__line_items``)
and dlt's defaults otherwise, into its own Postgres database.

``bench/backfill.py`` runs it in a child process and measures that process; run alone::

    python -m bench.dlt_baseline --base-url http://127.0.0.1:8787 \\
        --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/db \\
        --from 2025-01-01 --to 2025-12-31 --workers 8

It needs the shop's tokens in that database's token store (``tiktok-pipeline`` tables, as
``bench/backfill.py`` prepares them); it prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

APP_KEY, APP_SECRET = "bench-key", "bench-secret"
DATASET = "tiktok"


def day_windows(first: date, last: date) -> list[tuple[int, int]]:
    """``[start, end)`` epoch seconds of each UTC day from ``first`` to ``last`` included."""
    windows = []
    day = datetime(first.year, first.month, first.day, tzinfo=UTC)
    while day.date() <= last:
        following = day + timedelta(days=1)
        windows.append((int(day.timestamp()), int(following.timestamp())))
        day = following
    return windows


def tiktok_orders_source(client: Any, shop_ids: list[str], windows: list[tuple[int, int]]):
    """A dlt source: every order (with its line items) updated in ``windows``, per shop."""
    import dlt

    @dlt.resource(selected=False)
    def shop_windows() -> Iterator[tuple[str, int, int]]:
        for shop_id in shop_ids:
            for start, end in windows:
                yield shop_id, start, end

    @dlt.transformer(
        name="tiktok_orders",
        write_disposition="merge",
        primary_key=("shop_id", "id"),
        parallelized=True,
    )
    def tiktok_orders(unit: tuple[str, int, int]) -> list[dict[str, Any]]:
        shop_id, start, end = unit
        pages = client.shop(shop_id).order.pages(
            query={"page_size": 100}, body={"update_time_ge": start, "update_time_lt": end}
        )
        return [{**order, "shop_id": shop_id} for page in pages for order in page.items]

    @dlt.source(name="tiktok_shop")
    def source():
        return shop_windows | tiktok_orders

    return source()


def run_baseline(
    base_url: str, database_url: str, first: date, last: date, workers: int, qps: float
) -> dict[str, Any]:
    """Run the pipeline once into ``database_url``; its figures."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["EXTRACT__WORKERS"] = str(workers)
    import dlt

    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.store import Store

    store = Store.from_url(database_url)
    client = TikTokShopClient(
        APP_KEY,
        APP_SECRET,
        base_url=base_url,
        auth_base_url=base_url,
        credentials=store.tokens,
        qps=qps,
        # No request log: a dlt user's own client would not write every call to a table.
    )
    shop_ids = sorted(shop.id for shop in store.tokens.list_shops())
    credentials = sa.make_url(database_url).set(drivername="postgresql")
    if not credentials.password:
        # dlt insists on a password; a server with trust authentication ignores it.
        credentials = credentials.set(password="unused")
    with tempfile.TemporaryDirectory(prefix="bench_dlt_") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="tiktok_bench",
            pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(
                credentials=credentials.render_as_string(hide_password=False)
            ),
            dataset_name=DATASET,
        )
        started = time.perf_counter()
        load_info = pipeline.run(tiktok_orders_source(client, shop_ids, day_windows(first, last)))
        seconds = time.perf_counter() - started
        load_info.raise_on_failed_jobs()
    client.close()
    store.close()
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        orders, line_items = (
            connection.execute(sa.text(f"SELECT count(*) FROM {DATASET}.{table}")).scalar_one()
            for table in ("tiktok_orders", "tiktok_orders__line_items")
        )
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": round(seconds, 2),
        "orders": orders,
        "line_items": line_items,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


def main() -> None:
    """Parse the arguments, run once, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the sandbox's URL")
    parser.add_argument("--database-url", required=True, help="token store and dlt's dataset")
    parser.add_argument("--from", dest="first", required=True, type=date.fromisoformat)
    parser.add_argument("--to", dest="last", required=True, type=date.fromisoformat)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--qps", type=float, default=1000.0, help="calls per second per shop")
    arguments = parser.parse_args()
    figures = run_baseline(
        arguments.base_url,
        arguments.database_url,
        arguments.first,
        arguments.last,
        arguments.workers,
        arguments.qps,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
