"""The token maintenance jobs, schedules and alert check, on real Dagster instances.

The jobs run in process against the sandbox over HTTP, with the store in a SQLite file; the
schedules are evaluated with ``build_schedule_context``; the alert check runs through its job.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.maintenance import (
    build_flush_schedule,
    build_maintenance_schedules,
    build_refresh_schedule,
    build_shops_connected_check,
    flush_expired_tokens_job,
    maintenance_assets,
    maintenance_checks,
    maintenance_jobs,
    refresh_tokens_job,
    tiktok_authorizations,
    tokens_check_job,
)
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, default_resources
from tiktok_pipeline.lifecycle.shop_lists import refresh_shop_lists
from tiktok_pipeline.sandbox import RunningSandbox, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import (
    connect,
    make_client,
    refresh_calls,
    sandbox_config,
    shop_ids,
)

HOUR = timedelta(hours=1)
PUBLIC_URL = "https://shops.example.com"
FIX_LINK = f"{PUBLIC_URL}/tiktok/seller/authorize"


# ##### FIXTURES


@pytest.fixture(autouse=True)
def public_url(monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_PUBLIC_URL", PUBLIC_URL)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(sandbox_config()) as running:
        yield running


@pytest.fixture
def store(sqlite_db_url: str) -> Iterator[Store]:
    # Postgres variants of the refresh and flush logic live in test_lifecycle.
    store = Store.from_url(sqlite_db_url, upgrade=True)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def client(sandbox: RunningSandbox, store: Store) -> Iterator[TikTokShopClient]:
    with make_client(sandbox, store) as client:
        yield client


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _resources(sandbox: RunningSandbox, store: Store) -> dict[str, dg.ConfigurableResource]:
    url = store.engine.url.render_as_string(hide_password=False)
    store_resource = StoreResource(url=url)
    return {
        "store": store_resource,
        "tiktok": TikTokResource(
            app_key=sandbox.config.app_key,
            app_secret=sandbox.config.app_secret,
            store=store_resource,
            api_base_url=sandbox.base_url,
            auth_base_url=sandbox.base_url,
            max_attempts=2,
            retry_initial_delay=0.01,
        ),
    }


def _project_maintenance_schedules(monkeypatch) -> list[dg.ScheduleDefinition]:
    """The maintenance schedules of the project's Definitions, with the default crons."""
    from tiktok_pipeline.definitions import defs

    for name in (
        "TIKTOK_REFRESH_CRON",
        "TIKTOK_FLUSH_CRON",
        "TIKTOK_TOKENS_CHECK_CRON",
        "TIKTOK_SHOP_LISTS_CRON",
    ):
        monkeypatch.delenv(name, raising=False)
    jobs = {job.name for job in maintenance_jobs}
    schedules = defs().get_repository_def().schedule_defs
    return [s for s in schedules if s.job_name in jobs]


def _refresh_config(**config: object) -> dict:
    return {"ops": {"refresh_expiring_tokens": {"config": config}}}


def _output_metadata(result: dg.ExecuteInProcessResult, node: str) -> dict:
    (event,) = [e for e in result.events_for_node(node) if e.event_type_value == "STEP_OUTPUT"]
    return {k: getattr(v, "value", v) for k, v in event.step_output_data.metadata.items()}


def _check_evaluation(
    instance: dg.DagsterInstance, sandbox: RunningSandbox, store: Store, check=None
) -> dg.AssetCheckEvaluation:
    defs = dg.Definitions(
        assets=[tiktok_authorizations],
        asset_checks=[check or maintenance_checks[0]],
        jobs=[tokens_check_job],
        resources=_resources(sandbox, store),
    )
    result = defs.resolve_job_def(tokens_check_job.name).execute_in_process(instance=instance)
    assert result.success  # a red check is a finding, not a crashed run
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


# ##### TESTS: jobs


def test_refresh_job_refreshes_what_is_due_and_reports_it(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    due = connect(sandbox, store, client, 0, access=HOUR)
    connect(sandbox, store, client, 1)
    sandbox.control.reset_stats()

    result = refresh_tokens_job.execute_in_process(
        instance=instance, resources=_resources(sandbox, store), run_config=_refresh_config()
    )

    assert result.success
    assert refresh_calls(sandbox) == 1
    assert store.tokens.get_authorization(due.id).access_token != due.access_token
    metadata = _output_metadata(result, "refresh_expiring_tokens")
    assert (metadata["refreshed"], metadata["skipped_not_due"], metadata["needs_reauth"]) == (
        1,
        1,
        0,
    )
    assert all(shop_id in metadata["shops"] for shop_id in shop_ids(sandbox, 0))
    assert due.access_token not in metadata["shops"]


def test_refresh_job_fails_naming_the_shop_and_the_fix_without_retrying(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    dead = connect(sandbox, store, client, 1, access=HOUR)
    connect(sandbox, store, client, 0, access=HOUR)
    sandbox.control.expire_tokens(open_id=dead.open_id, which="refresh")
    sandbox.control.reset_stats()
    (dead_shop,) = shop_ids(sandbox, 1)

    result = refresh_tokens_job.execute_in_process(
        instance=instance,
        resources=_resources(sandbox, store),
        run_config=_refresh_config(),
        raise_on_error=False,
    )

    assert not result.success
    failure = result.failure_data_for_node("refresh_expiring_tokens").user_failure_data
    assert dead_shop in failure.description and FIX_LINK in failure.description
    assert failure.metadata["shops_needing_reauth"].value == [dead_shop]
    assert failure.metadata["reauthorize_url"].value == FIX_LINK
    assert failure.metadata["refreshed"].value == 1  # the healthy seller was still refreshed
    # A dead refresh token is not retried: one call per seller, one attempt of the step.
    assert refresh_calls(sandbox) == 2
    assert len(result.get_step_failure_events()) == 1
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
    assert store.tokens.get_shop(dead_shop).status.value == "needs_reauth"
    assert dead.refresh_token not in failure.description


def test_refresh_job_rejects_a_bad_threshold(
    sandbox: RunningSandbox, store: Store, instance
) -> None:
    result = refresh_tokens_job.execute_in_process(
        instance=instance,
        resources=_resources(sandbox, store),
        run_config=_refresh_config(within="soon"),
        raise_on_error=False,
    )

    failure = result.failure_data_for_node("refresh_expiring_tokens").user_failure_data
    assert "within" in failure.description and "48h" in failure.description


def test_flush_job_removes_only_dead_authorizations(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    kept = connect(sandbox, store, client, 0)
    dead = connect(sandbox, store, client, 1, refresh=timedelta(0))

    dry = flush_expired_tokens_job.execute_in_process(
        instance=instance,
        resources=_resources(sandbox, store),
        run_config={"ops": {"flush_expired_tokens": {"config": {"dry_run": True}}}},
    )
    assert len(store.tokens.list_authorizations()) == 2
    result = flush_expired_tokens_job.execute_in_process(
        instance=instance, resources=_resources(sandbox, store)
    )

    assert dry.success and result.success
    assert _output_metadata(dry, "flush_expired_tokens")["authorizations_removed"] == 1
    metadata = _output_metadata(result, "flush_expired_tokens")
    assert metadata["authorizations_removed"] == 1
    assert metadata["shops_unlinked"] == shop_ids(sandbox, 1)
    assert [a.id for a in store.tokens.list_authorizations()] == [kept.id]
    assert store.tokens.get_shop(shop_ids(sandbox, 1)[0]).status.value == "needs_reauth"
    assert dead.id not in {a.id for a in store.tokens.list_authorizations()}


# ##### TESTS: schedules


def test_schedules_are_on_by_default_with_the_documented_crons(monkeypatch) -> None:
    by_name = {s.name: s for s in _project_maintenance_schedules(monkeypatch)}

    assert {name: s.cron_schedule for name, s in by_name.items()} == {
        "tiktok_refresh_tokens_schedule": "0 3 * * *",
        "tiktok_flush_schedule": "0 4 * * 0",
        "tiktok_tokens_check_schedule": "0 * * * *",
        "tiktok_shop_lists_schedule": "5 * * * *",
    }
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in by_name.values())
    assert by_name["tiktok_refresh_tokens_schedule"].job_name == "tiktok_refresh_tokens_job"
    assert by_name["tiktok_flush_schedule"].job_name == "tiktok_flush_expired_tokens_job"
    assert by_name["tiktok_tokens_check_schedule"].job_name == "tiktok_tokens_check_job"


def test_schedules_evaluate_to_runs_with_their_settings(instance) -> None:
    refresh, flush_schedule, check = build_maintenance_schedules(
        "30 1 * * *", "0 5 * * 6", "*/20 * * * *", refresh_within="3d", webhook_retention="60d"
    )
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2025, 3, 1, 1, 30, tzinfo=UTC)
    )

    (refresh_run,) = refresh.evaluate_tick(context).run_requests
    (flush_run,) = flush_schedule.evaluate_tick(context).run_requests
    (check_run,) = check.evaluate_tick(context).run_requests

    assert (refresh.cron_schedule, flush_schedule.cron_schedule, check.cron_schedule) == (
        "30 1 * * *",
        "0 5 * * 6",
        "*/20 * * * *",
    )
    assert refresh_run.run_config == _refresh_config(within="3d")
    flush_config = flush_run.run_config["ops"]["flush_expired_tokens"]["config"]
    assert flush_config == {"request_log_retention": "30d", "webhook_retention": "60d"}
    assert check_run is not None


def test_a_tick_is_skipped_while_the_previous_run_is_in_flight(instance) -> None:
    schedule = build_refresh_schedule()
    context = dg.build_schedule_context(instance=instance)
    instance.create_run_for_job(
        job_def=refresh_tokens_job, run_config=_refresh_config(), status="STARTED"
    )

    skipped = schedule.evaluate_tick(context)
    assert skipped.run_requests == [] and "still queued or running" in skipped.skip_message
    (flush_run,) = build_flush_schedule().evaluate_tick(context).run_requests
    assert flush_run.run_config  # other jobs are not held up


def test_schedule_settings_are_checked_when_the_code_loads() -> None:
    with pytest.raises(ValueError, match="48h"):
        build_refresh_schedule(within="tomorrow")


# ##### TESTS: the alert


def test_alert_turns_red_when_a_shop_needs_reauth_and_green_once_reauthorized(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    dead = connect(sandbox, store, client, 0, access=HOUR)
    connect(sandbox, store, client, 1)
    green = _check_evaluation(instance, sandbox, store)
    sandbox.control.expire_tokens(open_id=dead.open_id, which="refresh")
    refresh_tokens_job.execute_in_process(
        instance=instance,
        resources=_resources(sandbox, store),
        run_config=_refresh_config(),
        raise_on_error=False,
    )

    red = _check_evaluation(instance, sandbox, store)
    connect(sandbox, store, client, 0)  # the seller follows the link and authorizes again
    green_again = _check_evaluation(instance, sandbox, store)

    assert green.passed and green_again.passed
    assert not red.passed and red.severity == dg.AssetCheckSeverity.ERROR
    assert red.metadata["shops_needing_attention"].value == shop_ids(sandbox, 0)
    assert red.metadata["reauthorize_url"].value == FIX_LINK
    assert FIX_LINK in red.description
    assert red.asset_key == dg.AssetKey("tiktok_authorizations")


def test_alert_warns_before_tiktok_ends_an_authorization(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    connect(sandbox, store, client, 0)
    (shop_id, _) = shop_ids(sandbox, 0)

    # What the webhook sensor does on UPCOMING_AUTHORIZATION_EXPIRATION.
    store.tokens.record_authorization_expiry(shop_id, utcnow() + timedelta(days=30))
    far = _check_evaluation(instance, sandbox, store)
    store.tokens.record_authorization_expiry(shop_id, utcnow() + timedelta(days=7))
    near = _check_evaluation(instance, sandbox, store)
    lenient = _check_evaluation(
        instance, sandbox, store, build_shops_connected_check(warn_within=timedelta(days=3))
    )

    assert far.passed
    assert not near.passed
    assert near.metadata["shops_needing_attention"].value == shop_ids(sandbox, 0)
    assert "authorization expires" in near.metadata["problems"].value
    assert lenient.passed


def test_alert_warns_before_a_refresh_token_ends(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    connect(sandbox, store, client, 2, refresh=timedelta(days=10))

    evaluation = _check_evaluation(instance, sandbox, store)

    assert not evaluation.passed
    assert "refresh token expires" in evaluation.metadata["problems"].value


def test_alert_stays_green_for_a_shop_the_seller_removed_and_turns_red_for_a_deauthorized_one(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient, instance
) -> None:
    connect(sandbox, store, client, 0)
    leaving, staying = shop_ids(sandbox, 0)
    sandbox.control.remove_shop(sandbox.sellers[0].open_id, leaving)
    assert refresh_shop_lists(client, store).departed == [leaving]

    green = _check_evaluation(instance, sandbox, store)
    # What the webhook sensor does on SELLER_DEAUTHORIZATION for the other shop.
    store.tokens.set_shop_status(staying, "deauthorized", "SELLER_DEAUTHORIZATION webhook")
    red = _check_evaluation(instance, sandbox, store)

    assert green.passed
    assert green.metadata["shops"].value == 1  # the departed shop is not expected to connect
    assert green.metadata["shops_departed"].value == [leaving]
    assert green.metadata["shops_needing_attention"].value == []
    assert f"1 departed shop(s) ({leaving})" in (green.description or "")
    assert not red.passed and red.severity == dg.AssetCheckSeverity.ERROR
    assert red.metadata["shops_needing_attention"].value == [staying]
    assert red.description.startswith("1 of 1 shop(s) need attention")
    assert leaving not in red.metadata["problems"].value


def test_definitions_load_with_the_default_resources() -> None:
    defs = dg.Definitions(
        assets=maintenance_assets,
        asset_checks=maintenance_checks,
        jobs=maintenance_jobs,
        schedules=build_maintenance_schedules(),  # as tiktok_pipeline.definitions builds them
        resources=default_resources(),
    )

    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("tiktok_refresh_tokens_job")
    assert job.graph.node_named("refresh_expiring_tokens").definition.pool == "tiktok_api"
