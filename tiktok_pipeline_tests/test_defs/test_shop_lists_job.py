"""``tiktok_shop_lists_job`` and its schedule on a real Dagster instance, over HTTP to the sandbox.

A shop added to a seller's existing authorization at TikTok becomes active in the store after
the job, and the new-shop history sensor then asks for its history; a removed shop is
departed; a seller whose tokens are dead fails the run without stopping the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from tiktok_pipeline.config import ConfigurationError, load_schedule_settings
from tiktok_pipeline.defs.ingestion.automation import build_new_shop_sensor
from tiktok_pipeline.defs.maintenance import build_shop_lists_schedule, shop_lists_job
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from tiktok_pipeline.store import ShopStatus, Store
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR, authorize_seller

OP = "refresh_shop_lists"
SYNC_JOB = "tiktok_sync_job"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """Two sellers with one shop each and a little history, on a frozen clock."""
    config = SandboxConfig(
        seed=5,
        sellers=2,
        shops=2,
        orders_per_shop=30,
        products_per_shop=5,
        days=5,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(config) as running:
        yield running


def _resources(sandbox: RunningSandbox, database: str) -> dict[str, dg.ConfigurableResource]:
    store = StoreResource(url=database)
    return {
        "store": store,
        "tiktok": TikTokResource(
            app_key=sandbox.config.app_key,
            app_secret=sandbox.config.app_secret,
            store=store,
            api_base_url=sandbox.base_url,
            auth_base_url=sandbox.base_url,
            max_attempts=2,
            retry_initial_delay=0.01,
        ),
        "warehouse": WarehouseResource(url=database),
    }


def _run(sandbox, database, instance, **options) -> dg.ExecuteInProcessResult:
    return shop_lists_job.execute_in_process(
        instance=instance, resources=_resources(sandbox, database), **options
    )


def _output_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [e for e in result.events_for_node(OP) if e.event_type_value == "STEP_OUTPUT"]
    return {k: getattr(v, "value", v) for k, v in event.step_output_data.metadata.items()}


def _logged(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every message the run wrote to the Dagster event log."""
    return "\n".join(
        entry.user_message for entry in instance.all_logs(result.run_id) if entry.user_message
    )


def _sensor_tick(sensor, instance, resources, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensor(context)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_shop_added_at_tiktok_is_active_after_the_job_and_gets_its_history(
    sandbox: RunningSandbox, store: Store, warehouse, database: str, instance, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    seller = sandbox.sellers[0]
    first = authorize_seller(sandbox, store, seller.open_id)
    sensor = build_new_shop_sensor(history_days=3)
    sensor_resources = {k: v for k, v in _resources(sandbox, database).items() if k != "tiktok"}
    cursor = _sensor_tick(sensor, instance, sensor_resources).cursor
    assert json.loads(cursor) == {"shops": first}
    new = sandbox.control.add_shop(seller.open_id)["shop"]
    # Before the job the store does not know the shop: the sensor has nothing to do.
    assert _sensor_tick(sensor, instance, sensor_resources, cursor).run_requests == []

    result = _run(sandbox, database, instance)

    assert result.success
    shop = store.tokens.get_shop(new["id"])
    assert shop.status is ShopStatus.ACTIVE and shop.cipher == new["cipher"]
    metadata = _output_metadata(result)
    assert metadata["shops_added"] == [new["id"]]
    assert metadata["shops_departed"] == [] and metadata["authorizations_failed"] == []
    assert new["id"] in metadata["authorizations"]
    logs = _logged(instance, result)
    assert new["id"] in logs and "added" in logs
    # The history sensor sees the new shop and asks for its history, and only its.
    tick = _sensor_tick(sensor, instance, sensor_resources, cursor)
    syncs = [r for r in tick.run_requests if (r.job_name or SYNC_JOB) == SYNC_JOB]
    assert syncs and {r.tags["tiktok/shop"] for r in syncs} == {new["id"]}
    assert all(r.run_config["ops"]["sync_orders"]["config"]["shops"] == [new["id"]] for r in syncs)
    assert new["id"] in json.loads(tick.cursor)["shops"]
    # No token anywhere in what the run wrote or logged.
    authorization = store.tokens.get_authorization(shop.authorization_id)
    secrets = [authorization.access_token, authorization.refresh_token, sandbox.config.app_secret]
    text = logs + caplog.text + json.dumps(metadata, default=str)
    assert [s for s in secrets if s in text] == []


def test_a_removed_shop_is_departed_and_a_dead_seller_fails_the_run_alone(
    sandbox: RunningSandbox, store: Store, database: str, instance
) -> None:
    (leaving,) = authorize_seller(sandbox, store, sandbox.sellers[0].open_id)
    (dead_shop,) = authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    kept = sandbox.control.add_shop(sandbox.sellers[0].open_id)["shop"]
    sandbox.control.remove_shop(sandbox.sellers[0].open_id, leaving)
    sandbox.control.deauthorize(sandbox.sellers[1].open_id)

    result = _run(sandbox, database, instance, raise_on_error=False)

    assert not result.success
    failure = result.failure_data_for_node(OP).user_failure_data
    assert sandbox.sellers[1].open_id in failure.description
    assert "needs_reauth" in failure.description
    assert failure.metadata["shops_departed"].value == [leaving]
    assert failure.metadata["shops_added"].value == [kept["id"]]
    assert failure.metadata["authorizations_failed"].value == [sandbox.sellers[1].open_id]
    # A dead token is not retried.
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
    gone = store.tokens.get_shop(leaving)
    assert gone.status is ShopStatus.DEPARTED
    assert "no longer in the shop list" in (gone.status_reason or "")
    assert store.tokens.get_shop(kept["id"]).status is ShopStatus.ACTIVE
    assert store.tokens.get_shop(dead_shop).status is ShopStatus.NEEDS_REAUTH

    # The shop comes back at TikTok: active after the next run, which succeeds (the dead seller
    # is now marked and left out).
    sandbox.control.add_shop(sandbox.sellers[0].open_id, shop_id=leaving)
    again = _run(sandbox, database, instance)
    assert again.success
    assert _output_metadata(again)["shops_returned"] == [leaving]
    assert store.tokens.get_shop(leaving).status is ShopStatus.ACTIVE


def test_one_seller_by_run_config_and_an_unknown_one_fails_without_retry(
    sandbox: RunningSandbox, store: Store, database: str, instance
) -> None:
    authorize_seller(sandbox, store, sandbox.sellers[0].open_id)
    authorize_seller(sandbox, store, sandbox.sellers[1].open_id)
    other = sandbox.control.add_shop(sandbox.sellers[0].open_id)["shop"]
    wanted = sandbox.control.add_shop(sandbox.sellers[1].open_id)["shop"]
    config = {"ops": {OP: {"config": {"open_id": sandbox.sellers[1].open_id}}}}

    result = _run(sandbox, database, instance, run_config=config)

    assert result.success and _output_metadata(result)["shops_added"] == [wanted["id"]]
    assert other["id"] not in {s.id for s in store.tokens.list_shops()}
    unknown = {"ops": {OP: {"config": {"open_id": "7010000000000000000"}}}}
    failed = _run(sandbox, database, instance, run_config=unknown, raise_on_error=False)
    assert not failed.success
    assert "7010000000000000000" in failed.failure_data_for_node(OP).user_failure_data.description
    assert [e for e in failed.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []


def test_the_schedule_runs_hourly_by_default_and_skips_while_a_run_is_in_flight(instance) -> None:
    schedule = build_shop_lists_schedule()
    assert schedule.cron_schedule == "5 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert build_shop_lists_schedule("0 */6 * * *").cron_schedule == "0 */6 * * *"
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 3, 1, 1, 5, tzinfo=UTC)
    )

    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.tags["tiktok/maintenance"] == "shop_lists"

    instance.create_run_for_job(job_def=shop_lists_job, status="STARTED")
    skipped = schedule.evaluate_tick(context)
    assert skipped.run_requests == [] and "still queued or running" in skipped.skip_message


def test_the_cron_is_read_from_the_environment_and_checked() -> None:
    assert load_schedule_settings({}).shop_lists_cron == "5 * * * *"
    tuned = load_schedule_settings({"TIKTOK_SHOP_LISTS_CRON": "0 */6 * * *"})
    assert tuned.shop_lists_cron == "0 */6 * * *"
    with pytest.raises(ConfigurationError, match="TIKTOK_SHOP_LISTS_CRON"):
        load_schedule_settings({"TIKTOK_SHOP_LISTS_CRON": "hourly"})
