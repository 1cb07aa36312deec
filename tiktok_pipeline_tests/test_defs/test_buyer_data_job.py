"""``tiktok_buyer_data_retention_job`` and its schedule, on a real Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.maintenance.buyer_data import (
    build_buyer_data_retention_schedule,
    buyer_data_retention_job,
)
from tiktok_pipeline.defs.resources import WarehouseResource
from tiktok_pipeline.warehouse import ORDER_TABLES, Warehouse, schema
from tiktok_pipeline_tests.test_warehouse import factories

SHOP = "7000714532876273420"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def warehouse(sqlite_db_url: str) -> Warehouse:
    wh = Warehouse.from_url(sqlite_db_url, upgrade=True)
    wh.load(
        ORDER_TABLES,
        SHOP,
        [
            factories.order("576000000000000001", status="COMPLETED"),
            factories.order("576000000000000002", status="CANCELLED"),
            factories.order("576000000000000003", status="IN_TRANSIT"),
        ],
    )
    return wh


def _emails(wh: Warehouse) -> dict[str, bool]:
    with wh.engine.connect() as connection:
        rows = connection.execute(sa.select(schema.orders.c.id, schema.orders.c.raw))
        return {order_id: "buyer_email" in raw for order_id, raw in rows}


def _run(instance, warehouse: Warehouse, **config: object) -> dg.ExecuteInProcessResult:
    url = warehouse.engine.url.render_as_string(hide_password=False)
    return buyer_data_retention_job.execute_in_process(
        instance=instance,
        resources={"warehouse": WarehouseResource(url=url)},
        run_config={"ops": {"purge_expired_buyer_data": {"config": config}}} if config else None,
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def test_the_job_purges_completed_orders_past_retention(
    instance, warehouse: Warehouse, monkeypatch
) -> None:
    monkeypatch.delenv("TIKTOK_BUYER_DATA_RETENTION_DAYS", raising=False)  # 90 days
    dry = _run(instance, warehouse, dry_run=True)
    assert _metadata(dry)["orders_purged"] == 2
    assert _emails(warehouse) == dict.fromkeys(_emails(warehouse), True)

    result = _run(instance, warehouse)

    assert result.success
    assert _metadata(result)["orders_purged"] == 2
    assert _metadata(result)["retention_days"] == 90
    assert _emails(warehouse) == {
        "576000000000000001": False,
        "576000000000000002": False,
        "576000000000000003": True,  # not completed: still being fulfilled
    }


def test_the_job_does_nothing_when_retention_is_off(
    instance, warehouse: Warehouse, monkeypatch
) -> None:
    monkeypatch.setenv("TIKTOK_BUYER_DATA_RETENTION_DAYS", "off")

    result = _run(instance, warehouse)

    assert result.success and _metadata(result)["orders_purged"] == 0
    assert set(_emails(warehouse).values()) == {True}


def test_the_schedule_runs_the_job_unless_one_is_in_flight(instance) -> None:
    schedule = build_buyer_data_retention_schedule("0 5 * * *")
    context = dg.build_schedule_context(instance=instance)

    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.tags["tiktok/maintenance"] == "buyer_data"
    assert schedule.cron_schedule == "0 5 * * *"

    instance.create_run_for_job(job_def=buyer_data_retention_job, status="STARTED")
    skipped = schedule.evaluate_tick(context)
    assert skipped.run_requests == [] and "still queued or running" in skipped.skip_message
