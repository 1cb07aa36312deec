"""Transactions and the sync ledger, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    LoadResult,
    TableCounts,
    Warehouse,
    schema,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP, snapshot, table_rows

START = datetime(2024, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


class Boom(Exception):
    pass


def test_rollback_leaves_nothing(warehouse: Warehouse):
    warehouse.load(ORDER_TABLES, SHOP, [f.order("kept", update_time=100)])
    before = snapshot(warehouse)

    with pytest.raises(Boom), warehouse.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, [f.order("new"), f.order("kept", update_time=200, status="X")])
        tx.load(PRODUCT_TABLES, SHOP, [f.product("p1")])
        tx.load(RETURN_TABLES, SHOP, [f.return_("r1")])
        tx.record_sync(shop_id=SHOP, entity="orders", window_start=START, window_end=START + HOUR)
        raise Boom

    assert snapshot(warehouse) == before


def test_record_sync_commits_with_the_data(warehouse: Warehouse):
    with warehouse.begin() as tx:
        result = tx.load(ORDER_TABLES, SHOP, [f.order("1"), f.order("2"), f.order("1")])
        ledger_id = tx.record_sync(
            shop_id=SHOP,
            entity="orders",
            window_start=START,
            window_end=START + HOUR,
            api_total_count=3,
            pages=1,
            result=result,
            run_id="run-1",
            partition_key="2024-06-01-00:00",
            started_at=START + 2 * HOUR,
        )

    (entry,) = warehouse.ledger_windows("orders", START, START + HOUR)
    assert entry.id == ledger_id
    assert (entry.status, entry.api_total_count, entry.items_received, entry.pages) == (
        "success",
        3,
        2,
        1,
    )
    assert (entry.inserted, entry.updated, entry.unchanged, entry.stale) == (2, 0, 0, 0)
    assert entry.window_start == START and entry.window_end == START + HOUR
    assert entry.started_at == START + 2 * HOUR and entry.finished_at.tzinfo is not None
    assert entry.run_id == "run-1" and entry.error is None


def test_a_failed_window_keeps_its_ledger_entry_but_not_its_data(warehouse: Warehouse):
    with pytest.raises(Boom), warehouse.begin() as tx:
        tx.load(ORDER_TABLES, SHOP, [f.order("1")])
        raise Boom
    warehouse.record_sync_failure(
        shop_id=SHOP,
        entity="orders",
        window_start=START,
        window_end=START + HOUR,
        error="TikTokAPIError 36009003: internal error, retry",
        pages=2,
        run_id="run-2",
    )
    assert table_rows(warehouse, schema.orders) == []
    (entry,) = warehouse.ledger_windows("orders", START, START + HOUR)
    assert entry.status == "failed" and entry.error.startswith("TikTokAPIError 36009003")
    assert entry.inserted is None and entry.pages == 2


def test_ledger_latest_success_is_per_shop(warehouse: Warehouse):
    def record(shop: str, hours: int, status: str = "success", entity: str = "orders") -> None:
        with warehouse.begin() as tx:
            tx.record_sync(
                shop_id=shop,
                entity=entity,
                window_start=START + (hours - 1) * HOUR,
                window_end=START + hours * HOUR,
                status=status,
                result=LoadResult({"tiktok_orders": TableCounts()}),
                error=None if status == "success" else "boom",
            )

    record(SHOP, 1)
    record(SHOP, 3)
    record(SHOP, 2)
    record(SHOP, 4, status="failed")
    record(OTHER_SHOP, 1)
    record(OTHER_SHOP, 9, entity="returns")

    assert warehouse.ledger_latest_success("orders") == {
        SHOP: START + 3 * HOUR,
        OTHER_SHOP: START + HOUR,
    }
    assert warehouse.ledger_latest_success("products") == {}
    finished = warehouse.ledger_latest_success("returns", column="finished_at")
    assert finished[OTHER_SHOP].tzinfo is not None


def test_ledger_windows_returns_the_latest_attempt_per_window(warehouse: Warehouse):
    window = (START, START + HOUR)
    warehouse.record_sync_failure(
        shop_id=SHOP, entity="orders", window_start=window[0], window_end=window[1], error="x"
    )
    with warehouse.begin() as tx:
        tx.record_sync(
            shop_id=SHOP,
            entity="orders",
            window_start=window[0],
            window_end=window[1],
            api_total_count=5,
            items_received=5,
        )
        tx.record_sync(
            shop_id=SHOP,
            entity="orders",
            window_start=START + HOUR,
            window_end=START + 2 * HOUR,
            api_total_count=0,
            items_received=0,
        )
        tx.record_sync(
            shop_id=SHOP,
            entity="orders",
            window_start=START + 5 * HOUR,
            window_end=START + 6 * HOUR,
        )

    latest = warehouse.ledger_windows("orders", START, START + 2 * HOUR)
    assert [(e.window_start, e.status) for e in latest] == [
        (START, "success"),
        (START + HOUR, "success"),
    ]
    every = warehouse.ledger_windows("orders", START, START + 2 * HOUR, latest_only=False)
    assert [e.status for e in every] == ["failed", "success", "success"]
    assert warehouse.ledger_windows("orders", START, START + HOUR, shop_id=OTHER_SHOP) == []


def test_ledger_rejects_bad_entries(warehouse: Warehouse):
    with warehouse.begin() as tx:
        with pytest.raises(ValueError, match="entity must be one of"):
            tx.record_sync(shop_id=SHOP, entity="order", window_start=START, window_end=START)
        with pytest.raises(ValueError, match="window_start <= window_end"):
            tx.record_sync(
                shop_id=SHOP, entity="orders", window_start=START + HOUR, window_end=START
            )
        with pytest.raises(ValueError, match="aware UTC"):
            tx.record_sync(
                shop_id=SHOP,
                entity="orders",
                window_start=datetime(2024, 6, 1),
                window_end=START,
            )
    assert table_rows(warehouse, schema.sync_ledger) == []
