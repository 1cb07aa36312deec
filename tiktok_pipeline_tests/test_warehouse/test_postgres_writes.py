"""Postgres's write paths: straight copies inside a savepoint, and the guarded upsert.

Orders that were absent when a load looked, and the children of written orders, are copied
straight into the tables; changed orders are deleted where still older and copied again.
Should another transaction get in the way, or the transaction have used its savepoints, the
batch takes the guarded upsert instead. These tests make each path run and check the tables
end up as the loading rules say.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    TableCounts,
    Warehouse,
    loader,
    postgres_writer,
    schema,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import (
    OTHER_SHOP,
    SHOP,
    snapshot,
    table_rows,
    wait_until_blocked,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_warehouse(postgres_url: str) -> Warehouse:
    """A migrated warehouse on a fresh Postgres database."""
    return Warehouse.from_url(postgres_url, upgrade=True)


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


def test_new_and_changed_orders_in_one_batch(pg_warehouse: Warehouse):
    pg_warehouse.load(ORDER_TABLES, SHOP, _page(0, 4, 1000, "OLD"))
    with pg_warehouse.begin() as tx:
        result = tx.load(ORDER_TABLES, SHOP, _page(2, 4, 2000, "NEW"))  # 2 changed, 2 new

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


def _savepoints_used(connection: sa.Connection) -> int:
    return connection.info["tiktok_warehouse"].savepoints


def test_a_transaction_that_used_its_savepoints_goes_on_with_the_guarded_path(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(postgres_writer, "MAX_SAVEPOINTS", 2)
    pg_warehouse.load(ORDER_TABLES, SHOP, _page(0, 10, 1000, "OLD"))
    with pg_warehouse.begin() as tx:
        # Five pages: the last three take the guarded path.
        results = [tx.load(ORDER_TABLES, SHOP, _page(n, 3, 2000, "NEW")) for n in range(5, 20, 3)]
        assert _savepoints_used(tx.connection) == 2

    total = sum(results[1:], results[0])
    assert total["tiktok_orders"] == TableCounts(inserted=10, updated=5)
    assert total["tiktok_order_line_items"] == TableCounts(inserted=15, deleted=5)
    assert _statuses(pg_warehouse) == {str(n): "OLD" if n < 5 else "NEW" for n in range(20)}
    assert _owners(pg_warehouse) == {f"{n}-{1000 if n < 5 else 2000}": str(n) for n in range(20)}


def _without_shop(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in ("shop_id", "_synced_at")} for row in rows]


def test_both_paths_write_the_same_rows(pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch):
    """Every column type goes through the guarded path's JSON as it goes through COPY."""
    orders = [f.order(str(n), update_time=1000 + n) for n in range(5)]
    products = [f.product(str(900 + n)) for n in range(3)]
    returns = [f.return_(str(700 + n), order_id=str(n)) for n in range(3)]
    for shop, savepoints in ((SHOP, 32), (OTHER_SHOP, 0)):
        monkeypatch.setattr(postgres_writer, "MAX_SAVEPOINTS", savepoints)
        with pg_warehouse.begin() as tx:
            tx.load(ORDER_TABLES, shop, orders)
            tx.load(PRODUCT_TABLES, shop, products)
            tx.load(RETURN_TABLES, shop, returns)
            assert _savepoints_used(tx.connection) == min(savepoints, 3)

    tables = snapshot(pg_warehouse)
    for name in ORDER_TABLES.table_names + PRODUCT_TABLES.table_names + RETURN_TABLES.table_names:
        rows = tables[name]
        direct = _without_shop([r for r in rows if r["shop_id"] == SHOP])
        guarded = _without_shop([r for r in rows if r["shop_id"] == OTHER_SHOP])
        assert direct, name
        assert guarded == direct, name


def test_a_rolled_back_transaction_leaves_nothing_and_the_session_goes_on(
    pg_warehouse: Warehouse,
):
    with pytest.raises(ZeroDivisionError), pg_warehouse.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, _page(0, 2, 1000, "GONE"))
        raise ZeroDivisionError
    for update_time in (1000, 2000):
        with pg_warehouse.begin() as tx:
            tx.load(ORDER_TABLES, SHOP, _page(0, 3, update_time, str(update_time)))
            tx.load(ORDER_TABLES, SHOP, _page(3, 3, update_time, str(update_time)))
    assert _statuses(pg_warehouse) == {str(n): "2000" for n in range(6)}
    assert len(table_rows(pg_warehouse, schema.order_line_items)) == 6


def test_a_rolled_back_savepoint_of_the_caller_leaves_the_other_loads(
    pg_warehouse: Warehouse,
):
    with pg_warehouse.begin() as tx:
        nested = tx.connection.begin_nested()
        tx.load(ORDER_TABLES, SHOP, _page(0, 2, 1000, "GONE"))
        nested.rollback()
        tx.load(ORDER_TABLES, SHOP, _page(2, 2, 1000, "KEPT"))
        tx.load(ORDER_TABLES, SHOP, _page(4, 2, 1000, "KEPT"))
    assert _statuses(pg_warehouse) == {"2": "KEPT", "3": "KEPT", "4": "KEPT", "5": "KEPT"}
    assert sorted(_owners(pg_warehouse)) == ["2-1000", "3-1000", "4-1000", "5-1000"]


def test_a_load_of_several_batches_counts_every_row(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
):
    """Batches are written while the next is prepared; the counts and rows add up."""
    monkeypatch.setattr(loader, "BATCH_SIZE", 4)
    pg_warehouse.load(ORDER_TABLES, SHOP, _page(0, 6, 1000, "OLD"))
    page = _page(3, 10, 2000, "NEW") + _page(0, 3, 1000, "OLD") + _page(20, 1, 500, "NEW")
    result = pg_warehouse.load(ORDER_TABLES, SHOP, page)
    assert result["tiktok_orders"] == TableCounts(inserted=8, updated=3, unchanged=3)
    assert result["tiktok_order_line_items"] == TableCounts(inserted=11, deleted=3)
    assert sorted(result.changed_ids) == sorted([str(n) for n in range(3, 13)] + ["20"])
    statuses = _statuses(pg_warehouse)
    assert statuses == {
        **{str(n): "OLD" for n in range(3)},
        **{str(n): "NEW" for n in [*range(3, 13), 20]},
    }


@pytest.mark.parametrize(
    ("first_time", "late_time", "winner"), [(1500, 2000, "2000"), (2000, 1500, "2000")]
)
def test_a_changed_order_replaced_meanwhile_keeps_the_newest_version(
    postgres_url: str, first_time: int, late_time: int, winner: str
):
    """Both writers saw version 1000; the first replaces it while the late one waits on that
    row. The late one's upsert then judges the row the first one committed: it wins only if
    it is newer."""
    first = Warehouse.from_url(postgres_url, upgrade=True)
    first.load(ORDER_TABLES, SHOP, _page(0, 1, 1000, "1000"))
    engine = sa.create_engine(postgres_url, connect_args={"application_name": "late"})
    second = Warehouse(engine)
    try:
        with ThreadPoolExecutor(1) as pool, first.begin() as tx:
            tx.load(ORDER_TABLES, SHOP, _page(0, 1, first_time, str(first_time)))
            late = pool.submit(
                second.load, ORDER_TABLES, SHOP, _page(0, 1, late_time, str(late_time))
            )
            wait_until_blocked(first, "late", late)
            # Still blocked: the late writer waits for this transaction to end.
            assert not late.done()
            tx.load(ORDER_TABLES, SHOP, _page(1, 2, first_time, "more"))  # the transaction goes on
        result = late.result()
        # A second load in the late writer's session still works.
        second.load(ORDER_TABLES, SHOP, _page(5, 1, late_time, "other"))
    finally:
        engine.dispose()

    expected = TableCounts(updated=1) if late_time > first_time else TableCounts(stale=1)
    assert result["tiktok_orders"] == expected
    assert _statuses(first)["0"] == winner
    assert [li for li, order in _owners(first).items() if order == "0"] == [f"0-{winner}"]
