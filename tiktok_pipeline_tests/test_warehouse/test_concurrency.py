"""Two writers load the same order at once: the newest version wins, whatever the timing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    LoadResult,
    TableCounts,
    Warehouse,
    loader,
    schema,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import SHOP, table_rows, wait_until_blocked

NEWER = f.order("A", update_time=2000, status="IN_TRANSIT", line_items=[f.line_item("n1")])
OLDER = f.order("A", update_time=1000, status="UNPAID", line_items=[f.line_item("o1")])


@pytest.mark.postgres
def test_postgres_concurrent_insert_of_an_older_version_loses(postgres_url: str):
    """The second writer read "no such order", then found the first one's newer row."""
    first = Warehouse.from_url(postgres_url, upgrade=True)
    second = Warehouse(sa.create_engine(postgres_url, connect_args={"application_name": "late"}))
    try:
        with ThreadPoolExecutor(1) as pool, first.begin() as tx:
            tx.load(ORDER_TABLES, SHOP, [NEWER])
            # Not committed yet: the other writer sees no row and tries to insert its own.
            late = pool.submit(second.load, ORDER_TABLES, SHOP, [OLDER])
            wait_until_blocked(first, "late", late)
        result: LoadResult = late.result()
    finally:
        second.engine.dispose()

    assert result["tiktok_orders"] == TableCounts(stale=1)
    assert result.changed_ids == ()
    (row,) = table_rows(first, schema.orders)
    assert (row["status"], row["update_time"]) == ("IN_TRANSIT", 2000)
    assert [li["id"] for li in table_rows(first, schema.order_line_items)] == ["n1"]


@pytest.mark.postgres
def test_postgres_concurrent_identical_insert_counts_as_unchanged(postgres_url: str):
    first = Warehouse.from_url(postgres_url, upgrade=True)
    second = Warehouse(sa.create_engine(postgres_url, connect_args={"application_name": "same"}))
    try:
        with ThreadPoolExecutor(1) as pool, first.begin() as tx:
            tx.load(ORDER_TABLES, SHOP, [NEWER])
            late = pool.submit(second.load, ORDER_TABLES, SHOP, [NEWER])
            wait_until_blocked(first, "same", late)
        result = late.result()
    finally:
        second.engine.dispose()
    assert result["tiktok_orders"] == TableCounts(unchanged=1)
    assert [li["id"] for li in table_rows(first, schema.order_line_items)] == ["n1"]


def test_writers_racing_in_any_order_end_with_the_newest(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    """Many threads load old and new versions of the same orders; the newest always wins."""
    monkeypatch.setattr(loader, "BATCH_SIZE", 6)  # several batches: the pipelined path
    versions = [
        [
            f.order(
                str(n), update_time=1000 + v, status=f"S{v}", line_items=[f.line_item(f"{n}-{v}")]
            )
            for n in range(20)
        ]
        for v in range(4)
    ]
    start = threading.Barrier(len(versions))

    def load(orders: list[dict]) -> LoadResult:
        start.wait()
        return warehouse.load(ORDER_TABLES, SHOP, orders)

    with ThreadPoolExecutor(len(versions)) as pool:
        results = list(pool.map(load, versions))

    rows = table_rows(warehouse, schema.orders)
    assert {(r["id"], r["status"]) for r in rows} == {(str(n), "S3") for n in range(20)}
    owners = {(li["order_id"], li["id"]) for li in table_rows(warehouse, schema.order_line_items)}
    assert owners == {(str(n), f"{n}-3") for n in range(20)}
    total = sum(results, LoadResult())["tiktok_orders"]
    assert total.received == 80 and total.inserted == 20
