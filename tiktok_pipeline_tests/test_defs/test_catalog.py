"""A new shop's whole product catalog, the weekly catalog schedule, and deletions reaching the
warehouse (catalog pulls and webhook refreshes), against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.config import ConfigurationError, load_schedule_settings
from tiktok_pipeline.defs.ingestion.automation import build_new_shop_sensor
from tiktok_pipeline.defs.ingestion.catalog import (
    CATALOG_JOB_NAME,
    build_catalog_schedule,
    catalog_run_config,
)
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.defs.webhooks.refresh import refresh_shop
from tiktok_pipeline.defs.webhooks.routing import ShopRefresh
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.warehouse import PRODUCT_TABLES, schema
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller

DAY = 86400
HISTORY_DAYS = 90
#: The test runs on SQLite and on Postgres.
BOTH_BACKENDS = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture(scope="module")
def sandbox():
    """Two sellers with one shop of 150 products each (some dormant for a year, some deleted)."""
    config = SandboxConfig(
        seed=3,
        sellers=2,
        shops=2,
        orders_per_shop=50,
        products_per_shop=150,
        days=20,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(config) as running:
        yield running


def _products(warehouse, shop_id: str) -> dict[str, dict]:
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.select(schema.products).where(schema.products.c.shop_id == shop_id)
        ).mappings()
        return {r["id"]: dict(r) for r in rows}


def _sku_deleted_at(warehouse, shop_id: str) -> dict[str, set]:
    table = schema.product_skus
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table.c.product_id, table.c.deleted_at).where(table.c.shop_id == shop_id)
        ).all()
    found: dict[str, set] = {}
    for product_id, deleted_at in rows:
        found.setdefault(product_id, set()).add(deleted_at)
    return found


def _run_catalog(defs, instance, shop_ids):
    job = defs.resolve_job_def(CATALOG_JOB_NAME)
    return job.execute_in_process(run_config=catalog_run_config(shop_ids), instance=instance)


@BOTH_BACKENDS
def test_a_new_shop_gets_every_product_not_only_its_history(
    sandbox, store, warehouse, instance, defs
):
    (shop_id,) = authorize_seller(sandbox, store)
    truth = {p["id"]: p for p in sandbox.control.truth("products", shop_id)}
    history_start = ANCHOR - HISTORY_DAYS * DAY
    old = {i for i, p in truth.items() if p["update_time"] < history_start}
    assert old, "the sandbox has products unchanged for longer than the history window"

    result = _run_catalog(defs, instance, [shop_id])
    assert result.success
    stored = _products(warehouse, shop_id)
    assert stored.keys() == truth.keys()
    assert old <= stored.keys()
    assert {i: r["update_time"] for i, r in stored.items()} == {
        i: p["update_time"] for i, p in truth.items()
    }
    assert {r["_source"] for r in stored.values()} == {"poll"}

    # Deleted products keep their rows, dated at their deletion, and so do their SKUs.
    deleted = {i for i, p in truth.items() if p["status"] == "DELETED"}
    assert deleted
    for product_id, row in stored.items():
        if product_id in deleted:
            when = datetime.fromtimestamp(truth[product_id]["update_time"], UTC)
            assert row["deleted_at"] == when
            assert _sku_deleted_at(warehouse, shop_id)[product_id] == {when}
        else:
            assert row["deleted_at"] is None

    # The ledger holds the catalog as one products window from the epoch to the run.
    with warehouse.engine.connect() as connection:
        (entry,) = connection.execute(
            sa.select(schema.sync_ledger).where(schema.sync_ledger.c.shop_id == shop_id)
        ).mappings()
    assert entry["entity"] == "products" and entry["status"] == "success"
    assert entry["window_start"] == datetime(1970, 1, 1, tzinfo=UTC)
    assert entry["window_end"] > datetime.fromtimestamp(ANCHOR, UTC)
    assert entry["items_received"] == entry["api_total_count"] == len(truth)

    (output,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    figures = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert figures["products_received"] == figures["products_inserted"] == len(truth)
    assert figures["products_updated"] == 0 and figures["pages"] == 2

    # Pulled again: nothing new, nothing rewritten.
    again = _run_catalog(defs, instance, [shop_id])
    assert again.success
    assert _products(warehouse, shop_id) == stored


def test_the_sensor_asks_for_history_and_catalog_once_per_shop(
    sandbox, store, warehouse, database, instance, defs
):
    resources = {"store": StoreResource(url=database), "warehouse": WarehouseResource(url=database)}
    sensor = build_new_shop_sensor(history_days=HISTORY_DAYS)

    def tick(cursor=None):
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=resources
        ) as context:
            return sensor(context)

    (shop_id,) = authorize_seller(sandbox, store)
    result = tick()
    jobs = [r.job_name for r in result.run_requests]
    assert set(jobs) == {"tiktok_sync_job", CATALOG_JOB_NAME}
    (catalog,) = [r for r in result.run_requests if r.job_name == CATALOG_JOB_NAME]
    assert catalog.run_config == catalog_run_config([shop_id])
    assert catalog.tags["tiktok/shop"] == shop_id
    assert json.loads(result.cursor) == {"shops": [shop_id]}

    # The request runs as the daemon would launch it; a reset sensor then leaves the catalog.
    job = defs.resolve_job_def(CATALOG_JOB_NAME)
    assert job.execute_in_process(
        run_config=catalog.run_config, tags=catalog.tags, instance=instance
    ).success
    again = tick()
    assert CATALOG_JOB_NAME not in {r.job_name for r in again.run_requests}
    assert "tiktok_sync_job" in {r.job_name for r in again.run_requests}


def test_the_weekly_schedule_pulls_every_shop_unless_a_catalog_run_is_in_flight(
    instance, defs, monkeypatch
):
    assert build_catalog_schedule().cron_schedule == "0 3 * * 0"
    monkeypatch.setenv("TIKTOK_PRODUCT_CATALOG_CRON", "15 2 * * 1")
    assert load_schedule_settings().product_catalog_cron == "15 2 * * 1"
    monkeypatch.setenv("TIKTOK_PRODUCT_CATALOG_CRON", "every sunday")
    with pytest.raises(ConfigurationError, match="TIKTOK_PRODUCT_CATALOG_CRON"):
        load_schedule_settings()
    schedule = build_catalog_schedule("15 2 * * 1")
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 29, 3, tzinfo=UTC)
    )
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.run_config == catalog_run_config(None)
    instance.create_run_for_job(
        defs.resolve_job_def(CATALOG_JOB_NAME), status=dg.DagsterRunStatus.STARTED
    )
    skipped = schedule.evaluate_tick(context)
    assert not skipped.run_requests and "still queued or running" in skipped.skip_message


def _api(sandbox, store, shop_id):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        credentials=store.tokens,
    )
    return client.shop(shop_id)


@BOTH_BACKENDS
def test_a_webhook_refresh_marks_deleted_and_gone_products(sandbox, store, warehouse):
    (shop_id,) = authorize_seller(sandbox, store)
    truth = sandbox.control.truth("products", shop_id)
    deleted = next(p for p in truth if p["status"] == "DELETED")
    alive = next(p for p in truth if p["status"] == "ACTIVATE")
    # What the warehouse last saw: the deleted product still active, and a product TikTok no
    # longer knows at all (Get Product answers 12052260).
    earlier = {**deleted, "status": "ACTIVATE", "update_time": deleted["update_time"] - DAY}
    vanished = {
        **alive,
        "id": "1729999999999999999",
        "skus": [{**alive["skus"][0], "id": "1730999999999999999"}],
    }
    warehouse.load(PRODUCT_TABLES, shop_id, [earlier, vanished, alive])

    api = _api(sandbox, store, shop_id)
    refresh_shop(api, warehouse, ShopRefresh(products={deleted["id"], vanished["id"], alive["id"]}))
    stored = _products(warehouse, shop_id)
    skus = _sku_deleted_at(warehouse, shop_id)
    # A DELETED status from Get Product flows through the mapping, dated at its update time.
    when = datetime.fromtimestamp(deleted["update_time"], UTC)
    assert stored[deleted["id"]]["status"] == "DELETED"
    assert stored[deleted["id"]]["deleted_at"] == when and skus[deleted["id"]] == {when}
    # The gone product keeps its row, marked deleted now, SKUs too.
    gone_at = stored[vanished["id"]]["deleted_at"]
    assert gone_at is not None and abs((datetime.now(UTC) - gone_at).total_seconds()) < 60
    assert stored[vanished["id"]]["status"] == "ACTIVATE"
    assert skus[vanished["id"]] == {gone_at}
    assert stored[alive["id"]]["deleted_at"] is None and skus[alive["id"]] == {None}
