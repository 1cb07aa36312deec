"""What starts sync runs: the new-shop history sensor and the incremental schedules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.ingestion.automation import (
    build_incremental_schedules,
    build_new_shop_sensor,
    history_ranges,
)
from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.warehouse import Warehouse, schema
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key


@pytest.fixture
def sensor_resources(database):
    return {"store": StoreResource(url=database), "warehouse": WarehouseResource(url=database)}


def _tick(sensor, instance, resources, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context)


def test_history_ranges_cover_the_days_in_months():
    ranges = history_ranges(datetime(2026, 11, 25, 13, tzinfo=UTC), 90, days_per_run=31)
    assert ranges[0][0] == "2026-08-27" and ranges[-1][1] == "2026-11-25"
    days = sum(
        (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days + 1
        for start, end in ranges
    )
    assert days == 91 and len(ranges) == 3
    assert history_ranges(datetime(2026, 11, 25, 13, tzinfo=UTC), 90, days_per_run=366) == [
        ("2026-08-27", "2026-11-25")
    ]


def test_a_new_shop_gets_its_history_and_only_it(
    sandbox, store, warehouse, sensor_resources, instance, defs
):
    sensor = build_new_shop_sensor(history_days=10)
    first = authorize_seller(sandbox, store)
    result = _tick(sensor, instance, sensor_resources)
    assert {r.tags["tiktok/shop"] for r in result.run_requests} == set(first)
    assert all(
        r.run_config == {"ops": {f"sync_{e}": {"config": {"shops": first}} for e in ENTITIES}}
        for r in result.run_requests
        if r.job_name == "tiktok_sync_job"
    )
    cursor = result.cursor
    assert json.loads(cursor) == {"shops": first}

    # Nothing new: no run.
    assert _tick(sensor, instance, sensor_resources, cursor).run_requests == []

    # A second seller connects: runs for its shop only, over the history window.
    second = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    result = _tick(sensor, instance, sensor_resources, cursor)
    assert {r.tags["tiktok/shop"] for r in result.run_requests} == set(second)
    request = result.run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] <= day_key(3)

    # Running the request lands that shop's history and nothing of the other shop.
    job = defs.resolve_job_def("tiktok_sync_job")
    run = job.execute_in_process(
        run_config=request.run_config, tags=request.tags, instance=instance
    )
    assert run.success
    with warehouse.engine.connect() as connection:
        shops = connection.execute(sa.text("SELECT DISTINCT shop_id FROM tiktok_orders")).scalars()
        assert set(shops) == set(second)


def test_shops_with_history_already_are_not_fetched_again(
    sandbox, store, warehouse, sensor_resources, instance, defs
):
    shop_ids = authorize_seller(sandbox, store)
    sensor = build_new_shop_sensor(history_days=3)
    start, end = history_ranges(datetime.now(UTC), 3)[0]
    job = defs.resolve_job_def("tiktok_sync_job")
    assert job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": start,
            "dagster/asset_partition_range_end": end,
        },
    ).success
    # A fresh cursor (the sensor was reset): the shop's history is in the ledger already; only
    # its product catalog (not in the ledger yet) is asked for.
    result = _tick(sensor, instance, sensor_resources)
    assert [r.job_name for r in result.run_requests] == ["tiktok_product_catalog_job"]
    assert json.loads(result.cursor) == {"shops": shop_ids}


def test_the_incremental_schedule_asks_for_today_and_skips_when_busy(instance, defs):
    incremental, late = build_incremental_schedules()
    when = datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    request = incremental(context)
    assert request.partition_key == "2026-11-25"

    late_context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    )
    assert late(late_context).partition_key == "2026-11-25"

    # A sync of that day is still running: the next tick skips instead of piling up runs.
    job = defs.resolve_job_def("tiktok_sync_job")
    instance.create_run_for_job(
        job,
        tags={"dagster/partition": "2026-11-25"},
        status=dg.DagsterRunStatus.STARTED,
    )
    skipped = incremental(context)
    assert isinstance(skipped, dg.SkipReason)
    assert "still queued or running" in skipped.skip_message


def test_definitions_validate_with_the_dagster_cli(environment, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "tiktok_pipeline.definitions",
        ],
        cwd=tmp_path,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Validation successful" in result.stdout + result.stderr


def test_the_definitions_hold_what_the_ui_shows(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= {
        "tiktok_orders",
        "tiktok_order_line_items",
        "tiktok_products",
        "tiktok_product_skus",
        "tiktok_product_sku_inventory",
        "tiktok_returns",
        "tiktok_return_line_items",
        "tiktok_daily_sales",
    }
    orders = graph.get(dg.AssetKey("tiktok_orders"))
    assert orders.description and "update_time" in orders.description
    schema = orders.metadata["dagster/column_schema"]
    assert {"shop_id", "id", "total_amount", "updated_at"} <= {c.name for c in schema.columns}
    repository = defs.get_repository_def()
    assert {s.name for s in repository.schedule_defs} >= {
        "tiktok_incremental_schedule",
        "tiktok_late_updates_schedule",
        "tiktok_refresh_tokens_schedule",
        "tiktok_flush_schedule",
    }
    assert all(
        s.default_status == dg.DefaultScheduleStatus.RUNNING for s in repository.schedule_defs
    )
    assert dg.Definitions.validate_loadable(defs) is None


def test_the_ui_shows_the_column_types_of_the_data_dictionary(defs):
    graph = defs.resolve_asset_graph()
    names = [*schema.TABLES, *schema.VIEWS]
    shown = {
        name: graph.get(dg.AssetKey(name)).metadata["dagster/column_schema"]
        for name in names
        if graph.has(dg.AssetKey(name))
    }
    assert len(shown) == len(names) - 1  # every table and view but the sync ledger
    for name, table_schema in shown.items():
        columns = [(c.name, c.type, c.description) for c in table_schema.columns]
        assert columns == Warehouse.table_schema(name), name
    orders = {c.name: c for c in shown["tiktok_orders"].columns}
    assert (orders["total_amount"].type, orders["updated_at"].type) == (
        "decimal",
        "timestamp (UTC)",
    )
    assert (orders["update_time"].type, orders["raw"].type) == ("bigint", "json")
    assert not orders["id"].constraints.nullable and orders["status"].constraints.nullable
