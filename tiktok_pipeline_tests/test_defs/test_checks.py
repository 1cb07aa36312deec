"""The asset checks turn red when the data is wrong, and say where."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.ingestion.jobs import sync_run_config
from tiktok_pipeline.store import ShopStatus, Store
from tiktok_pipeline.warehouse import ORDER_TABLES
from tiktok_pipeline.warehouse.schema import sync_ledger
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller, day_key

pytestmark = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def _evaluate(defs, instance, asset: str, name: str) -> dg.AssetCheckEvaluation:
    """Run one check on its own, as the UI's "Execute" button does."""
    key = dg.AssetCheckKey(dg.AssetKey(asset), name)
    job = dg.define_asset_job("one_check", selection=dg.AssetSelection.checks(key))
    merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    result = merged.resolve_job_def("one_check").execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


@pytest.fixture
def synced(sandbox, store, warehouse, defs, instance):
    """Both sellers authorized; the first one's shop synced for the last days."""
    first = authorize_seller(sandbox, store)
    second = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    job = defs.resolve_job_def("tiktok_sync_job")
    # Days 3 ago up to today: data, and a window that ends minutes ago (fresh).
    result = job.execute_in_process(
        instance=instance,
        run_config=sync_run_config(first),
        tags={
            "dagster/asset_partition_range_start": day_key(3),
            "dagster/asset_partition_range_end": day_key(0),
        },
    )
    assert result.success
    return first[0], second[0]


def test_freshness_names_the_one_stale_shop(synced, defs, instance):
    stale = synced[1]
    result = _evaluate(defs, instance, "tiktok_orders", "fresh_for_every_shop")
    assert not result.passed
    assert set(result.metadata["stale_shops"].value) == {stale}
    assert result.metadata["stale_shops"].value[stale] == "never"


def test_freshness_passes_when_every_shop_is_recent(synced, database, defs, instance):
    stale = synced[1]
    # Today's window of the fresh shop ends a few minutes ago, within the two-hour limit,
    # as long as the test runs on the anchor's day.
    if datetime.now(UTC) - datetime.fromtimestamp(ANCHOR, UTC) > timedelta(hours=23):
        pytest.skip("the anchor day ended while the test ran")
    Store.from_url(database).tokens.set_shop_status(stale, ShopStatus.DEAUTHORIZED, "test")
    assert _evaluate(defs, instance, "tiktok_orders", "fresh_for_every_shop").passed


def test_an_orphan_line_item_fails_its_check(synced, warehouse, defs, instance):
    check = ("tiktok_order_line_items", "no_orphans")
    assert _evaluate(defs, instance, *check).passed
    with warehouse.engine.begin() as connection:
        row = connection.execute(
            sa.text("SELECT * FROM tiktok_order_line_items LIMIT 1")
        ).mappings()
        orphan = dict(next(iter(row)))
        orphan.update(id="999", order_id="no-such-order")
        columns = ", ".join(orphan)
        values = ", ".join(f":{c}" for c in orphan)
        connection.execute(
            sa.text(f"INSERT INTO tiktok_order_line_items ({columns}) VALUES ({values})"),
            {k: (v if not isinstance(v, dict | list) else sa.null()) for k, v in orphan.items()}
            | {"raw": "{}"},
        )
    result = _evaluate(defs, instance, *check)
    assert not result.passed
    assert result.metadata["orphan_rows"].value == 1
    assert result.metadata["sample"].value == [f"{synced[0]}/no-such-order"]


def test_an_order_under_two_shops_fails_the_uniqueness_check(synced, warehouse, defs, instance):
    check = ("tiktok_orders", "ids_unique_across_shops")
    assert _evaluate(defs, instance, *check).passed
    with warehouse.engine.begin() as connection:
        order = connection.execute(sa.text("SELECT id, raw FROM tiktok_orders LIMIT 1")).first()
    payload = order.raw if isinstance(order.raw, dict) else json.loads(order.raw)
    warehouse.load(ORDER_TABLES, synced[1], [payload], source="poll")
    result = _evaluate(defs, instance, *check)
    assert not result.passed
    assert result.metadata["ids_in_several_shops"].value == [order.id]


def test_a_window_that_landed_fewer_items_than_total_count_fails(synced, warehouse, defs, instance):
    check = ("tiktok_orders", "landed_matches_total_count")
    assert _evaluate(defs, instance, *check).passed
    now = datetime.now(UTC)
    with warehouse.engine.begin() as connection:
        connection.execute(
            sa.insert(sync_ledger).values(
                shop_id=synced[0],
                entity="orders",
                window_start=now - timedelta(days=1),
                window_end=now,
                status="success",
                api_total_count=120,
                items_received=119,
                pages=2,
                inserted=119,
                updated=0,
                unchanged=0,
                stale=0,
                started_at=now,
                finished_at=now,
            )
        )
    result = _evaluate(defs, instance, *check)
    assert not result.passed
    assert result.metadata["mismatched_windows"].value == 1
    assert "landed 119, TikTok total_count 120" in result.metadata["mismatches"].value[0]
