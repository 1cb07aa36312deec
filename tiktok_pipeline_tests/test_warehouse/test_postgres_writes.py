"""Postgres's write paths: straight copies inside a savepoint and the guarded upsert.

Orders that were absent when a load looked, and the children of written orders, are copied
straight into the tables; changed orders are deleted where still older and copied again.
Should another transaction get in the way, the batch falls back to the guarded upsert. These
tests make each path run and check the tables end up as the loading rules say.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import TableCounts, Warehouse, schema, writers
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import SHOP, table_rows, wait_until_blocked

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_warehouse(postgres_url: str) -> Warehouse:
    """A migrated warehouse on a fresh Postgres database."""
    return Warehouse.from_url(postgres_url, upgrade=True)


def _staged(connection: sa.Connection) -> bool:
    """True when this session has used the guarded path's temporary table."""
    name = connection.exec_driver_sql(
        "SELECT to_regclass('pg_temp.tiktok_stage_tiktok_orders')"
    ).scalar()
    return name is not None


def _statuses(wh: Warehouse) -> dict[str, str]:
    return {r["id"]: r["status"] for r in table_rows(wh, schema.orders)}


def _owners(wh: Warehouse) -> dict[str, str]:
    return {r["id"]: r["order_id"] for r in table_rows(wh, schema.order_line_items)}


def _page(first: int, count: int, update_time: int, status: str) -> list[dict]:
    return [
        f.order(
            str(n),
            update_time=update_time,
            status=status,
            line_items=[f.line_item(f"{n}-{update_time}")],
        )
        for n in range(first, first + count)
    ]


def test_new_and_changed_orders_are_copied_without_the_guarded_path(pg_warehouse: Warehouse):
    pg_warehouse.load_orders(SHOP, _page(0, 4, 1000, "OLD"))
    with pg_warehouse.begin() as tx:
        result = tx.load_orders(SHOP, _page(2, 4, 2000, "NEW"))  # 2 changed, 2 new
        assert not _staged(tx.connection)

    assert result["tiktok_orders"] == TableCounts(inserted=2, updated=2)
    assert result["tiktok_order_line_items"] == TableCounts(inserted=4, deleted=2)
    assert _statuses(pg_warehouse) == {
        "0": "OLD",
        "1": "OLD",
        "2": "NEW",
        "3": "NEW",
        "4": "NEW",
        "5": "NEW",
    }
    assert _owners(pg_warehouse) == {
        "0-1000": "0",
        "1-1000": "1",
        "2-2000": "2",
        "3-2000": "3",
        "4-2000": "4",
        "5-2000": "5",
    }


def test_a_transaction_that_used_its_savepoints_goes_on_with_the_guarded_path(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(writers, "MAX_SAVEPOINTS", 2)
    pg_warehouse.load_orders(SHOP, _page(0, 10, 1000, "OLD"))
    results = []
    with pg_warehouse.begin() as tx:
        for first in range(5, 20, 3):  # five pages: the last three take the guarded path
            results.append(tx.load_orders(SHOP, _page(first, 3, 2000, "NEW")))
            if len(results) == 2:
                assert not _staged(tx.connection)
        assert _staged(tx.connection)

    total = sum(results[1:], results[0])
    assert total["tiktok_orders"] == TableCounts(inserted=10, updated=5)
    assert total["tiktok_order_line_items"] == TableCounts(inserted=15, deleted=5)
    assert _statuses(pg_warehouse) == {str(n): "OLD" if n < 5 else "NEW" for n in range(20)}
    assert _owners(pg_warehouse) == {f"{n}-{1000 if n < 5 else 2000}": str(n) for n in range(20)}


def test_the_temporary_table_survives_a_rolled_back_transaction(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    """The transaction that created it rolls back (and takes the table with it)."""
    monkeypatch.setattr(writers, "MAX_SAVEPOINTS", 0)
    with pytest.raises(ZeroDivisionError), pg_warehouse.begin() as tx:
        tx.load_orders(SHOP, _page(0, 2, 1000, "GONE"))
        raise ZeroDivisionError
    for update_time in (1000, 2000):
        with pg_warehouse.begin() as tx:
            tx.load_orders(SHOP, _page(0, 3, update_time, str(update_time)))
            tx.load_orders(SHOP, _page(3, 3, update_time, str(update_time)))
    assert _statuses(pg_warehouse) == {str(n): "2000" for n in range(6)}
    assert len(table_rows(pg_warehouse, schema.order_line_items)) == 6


def test_the_temporary_table_survives_a_rolled_back_savepoint_of_the_caller(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(writers, "MAX_SAVEPOINTS", 0)
    with pg_warehouse.begin() as tx:
        nested = tx.connection.begin_nested()
        tx.load_orders(SHOP, _page(0, 2, 1000, "GONE"))  # creates the table in the savepoint
        nested.rollback()
        tx.load_orders(SHOP, _page(2, 2, 1000, "KEPT"))
        tx.load_orders(SHOP, _page(4, 2, 1000, "KEPT"))
    assert _statuses(pg_warehouse) == {"2": "KEPT", "3": "KEPT", "4": "KEPT", "5": "KEPT"}


@pytest.mark.parametrize(
    ("first_time", "late_time", "winner"), [(1500, 2000, "2000"), (2000, 1500, "2000")]
)
def test_a_changed_order_replaced_meanwhile_keeps_the_newest_version(
    postgres_url: str, first_time: int, late_time: int, winner: str
):
    """Both writers saw version 1000; the first replaces it (delete and copy) while the late
    one waits on that row. The late one then takes the guarded path and judges the row
    the first one committed: it wins only if it is newer."""
    first = Warehouse.from_url(postgres_url, upgrade=True)
    first.load_orders(SHOP, _page(0, 1, 1000, "1000"))
    engine = sa.create_engine(postgres_url, connect_args={"application_name": "late"})
    second = Warehouse(engine)
    try:
        with ThreadPoolExecutor(1) as pool, first.begin() as tx:
            tx.load_orders(SHOP, _page(0, 1, first_time, str(first_time)))
            late = pool.submit(second.load_orders, SHOP, _page(0, 1, late_time, str(late_time)))
            wait_until_blocked(first, "late", late)
            # Still blocked: the late writer waits for this transaction to end.
            assert not late.done()
            tx.load_orders(SHOP, _page(1, 2, first_time, "more"))  # the transaction goes on
        result = late.result()
        # A second load in the late writer's session still works (it fell back once).
        second.load_orders(SHOP, _page(5, 1, late_time, "other"))
    finally:
        engine.dispose()

    expected = TableCounts(updated=1) if late_time > first_time else TableCounts(stale=1)
    assert result["tiktok_orders"] == expected
    assert _statuses(first)["0"] == winner
    assert [li for li, order in _owners(first).items() if order == "0"] == [f"0-{winner}"]
