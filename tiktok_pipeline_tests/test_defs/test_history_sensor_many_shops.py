"""An agency: one authorization with many shops gets their history in a few runs, not one run
per shop and month (each run costs seconds of Dagster whatever it syncs)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.ingestion.automation import (
    SHOPS_PER_HISTORY_RUN,
    build_new_shop_sensor,
    history_ranges,
)
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller

SHOPS = 60
HISTORY_DAYS = 3


@pytest.fixture(scope="module")
def sandbox():
    """One seller with 60 small shops, a few days of history, a frozen clock."""
    config = SandboxConfig(
        seed=11,
        sellers=1,
        shops=SHOPS,
        orders_per_shop=12,
        products_per_shop=3,
        days=HISTORY_DAYS + 2,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(config) as running:
        yield running


def _tick(instance, database, cursor=None):
    sensor = build_new_shop_sensor(history_days=HISTORY_DAYS)
    resources = {"store": StoreResource(url=database), "warehouse": WarehouseResource(url=database)}
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context)


def test_sixty_shops_of_one_seller_get_their_history_in_batches(
    sandbox, store, warehouse, database, instance, defs
):
    shop_ids = authorize_seller(sandbox, store)
    assert len(shop_ids) == SHOPS
    result = _tick(instance, database)
    # The catalog runs (one per batch) are tested in test_catalog.py.
    history = [r for r in result.run_requests if r.job_name == "tiktok_sync_job"]

    ranges = history_ranges(datetime.now(UTC), HISTORY_DAYS)
    batches = math.ceil(SHOPS / SHOPS_PER_HISTORY_RUN)
    assert len(history) == batches * len(ranges)
    shops_of = [r.run_config["ops"]["sync_orders"]["config"]["shops"] for r in history]
    # Every shop once per month of history, no run over the batch size, and the tag that the
    # instance's per-value limit keys on names the run's shops.
    assert sorted(s for shops in shops_of for s in shops) == sorted(shop_ids * len(ranges))
    assert max(len(shops) for shops in shops_of) == SHOPS_PER_HISTORY_RUN
    for request, shops in zip(history, shops_of, strict=True):
        assert request.tags["tiktok/shop"] == ",".join(shops)
        assert all(
            request.run_config["ops"][f"sync_{entity}"]["config"]["shops"] == shops
            for entity in ("orders", "products", "returns")
        )
    assert len({r.run_key for r in history}) == len(history)
    assert json.loads(result.cursor) == {"shops": sorted(shop_ids)}
    assert _tick(instance, database, result.cursor).run_requests == []

    # The daemon would launch the request as is: one run lands the history of its shops only.
    request = history[0]
    job = defs.resolve_job_def("tiktok_sync_job")
    run = job.execute_in_process(
        instance=instance, run_config=request.run_config, tags=request.tags
    )
    assert run.success
    with warehouse.engine.connect() as connection:
        synced = connection.execute(
            sa.text("SELECT DISTINCT shop_id FROM tiktok_sync_ledger WHERE status = 'success'")
        ).scalars()
        assert set(synced) == set(shops_of[0])
