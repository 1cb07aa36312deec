"""A snapshot of the definitions' user-facing names: renaming one must be a decision.

Asset keys, check names, job, schedule and sensor names are what people type in the UI, in run
config, in alerts and in their own code (``defs.resolve_job_def("tiktok_sync_job")``); the
partitions and the backfill policy decide which runs exist. Everything is written out literally,
so that a rename, a new asset or a changed cron fails here and the change shows in review.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from tiktok_pipeline.definitions import defs as load_definitions

#: The environment that moves crons, intervals and run sizes; cleared so that the defaults are
#: snapshotted.
TUNING_VARIABLES = (
    "TIKTOK_SYNC_CRON",
    "TIKTOK_LATE_UPDATES_CRON",
    "TIKTOK_HISTORY_DAYS",
    "TIKTOK_REFRESH_CRON",
    "TIKTOK_FLUSH_CRON",
    "TIKTOK_TOKENS_CHECK_CRON",
    "TIKTOK_SHOP_LISTS_CRON",
    "TIKTOK_WEBHOOK_SENSOR_SECONDS",
    "TIKTOK_BACKFILL_DAYS_PER_RUN",
    "TIKTOK_PRODUCT_CATALOG_CRON",
    "TIKTOK_UNSETTLED_CRON",
)

FINANCE_TABLES = {
    "tiktok_statements",
    "tiktok_statement_transactions",
    "tiktok_payments",
    "tiktok_withdrawals",
}
SYNCED_TABLES = {
    "tiktok_orders",
    "tiktok_order_line_items",
    "tiktok_products",
    "tiktok_product_skus",
    "tiktok_product_sku_inventory",
    "tiktok_returns",
    "tiktok_return_line_items",
    "tiktok_cancellations",
    "tiktok_cancellation_line_items",
    *FINANCE_TABLES,
}

#: The snapshot of unsettled transactions: materialized by its own job, not partitioned.
UNSETTLED = "tiktok_unsettled_transactions"

#: Asset key -> group. The synced tables are materialized by the sync, the unsettled snapshot
#: by its job; the others are views or tables written elsewhere (the SQL views, the
#: operational store's authorizations).
ASSET_GROUPS = {
    **dict.fromkeys(SYNCED_TABLES - FINANCE_TABLES, "tiktok"),
    **dict.fromkeys(FINANCE_TABLES, "tiktok_finance"),
    UNSETTLED: "tiktok_finance",
    "tiktok_daily_sales": "tiktok",
    "tiktok_order_settlements": "tiktok_finance",
    "tiktok_authorizations": "tiktok_tokens",
}

ASSET_CHECKS = {
    ("tiktok_authorizations", "shops_connected"),
    ("tiktok_orders", "fresh_for_every_shop"),
    ("tiktok_orders", "ids_unique_across_shops"),
    ("tiktok_orders", "landed_matches_total_count"),
    ("tiktok_order_line_items", "no_orphans"),
    ("tiktok_products", "fresh_for_every_shop"),
    ("tiktok_products", "ids_unique_across_shops"),
    ("tiktok_products", "landed_matches_total_count"),
    ("tiktok_product_skus", "no_orphans"),
    ("tiktok_product_sku_inventory", "no_orphans"),
    ("tiktok_returns", "fresh_for_every_shop"),
    ("tiktok_returns", "ids_unique_across_shops"),
    ("tiktok_returns", "landed_matches_total_count"),
    ("tiktok_return_line_items", "no_orphans"),
    *(
        (table, check)
        for table in (
            "tiktok_cancellations",
            "tiktok_statements",
            "tiktok_statement_transactions",
            "tiktok_payments",
            "tiktok_withdrawals",
        )
        for check in (
            "fresh_for_every_shop",
            "ids_unique_across_shops",
            "landed_matches_total_count",
        )
    ),
    ("tiktok_cancellation_line_items", "no_orphans"),
    ("tiktok_statements", "statement_matches_transactions"),
    ("tiktok_payments", "payment_matches_statements"),
}

#: Job name -> (assets it materializes, {op: pool} of the ops that hold a pool slot, run tags).
JOBS = {
    "tiktok_sync_job": (
        SYNCED_TABLES,
        {
            f"sync_{name}": "tiktok_api"
            for name in (
                "orders",
                "products",
                "returns",
                "cancellations",
                "statements",
                "statement_transactions",
                "payments",
                "withdrawals",
            )
        },
        {},
    ),
    "tiktok_unsettled_job": ({UNSETTLED}, {UNSETTLED: "tiktok_api"}, {}),
    "tiktok_webhook_refresh_job": (
        set(),
        {"apply_webhooks": "tiktok_api"},
        {"tiktok/trigger": "webhook"},
    ),
    "tiktok_refresh_tokens_job": (
        set(),
        {"refresh_expiring_tokens": "tiktok_api"},
        {"tiktok/maintenance": "refresh"},
    ),
    "tiktok_flush_expired_tokens_job": (set(), {}, {"tiktok/maintenance": "flush"}),
    "tiktok_tokens_check_job": (set(), {}, {"tiktok/maintenance": "check"}),
    "tiktok_shop_lists_job": (
        set(),
        {"refresh_shop_lists": "tiktok_api"},
        {"tiktok/maintenance": "shop_lists"},
    ),
    "tiktok_buyer_data_retention_job": (set(), {}, {"tiktok/maintenance": "buyer_data"}),
    "tiktok_product_catalog_job": (set(), {"pull_product_catalog": "tiktok_api"}, {}),
}

#: Schedule name -> (cron, timezone, job). Every schedule is on by default.
SCHEDULES = {
    "tiktok_product_catalog_schedule": ("0 3 * * 0", "UTC", "tiktok_product_catalog_job"),
    "tiktok_incremental_schedule": ("*/15 * * * *", "UTC", "tiktok_sync_job"),
    "tiktok_late_updates_schedule": ("30 0 * * *", "UTC", "tiktok_sync_job"),
    "tiktok_refresh_tokens_schedule": ("0 3 * * *", "UTC", "tiktok_refresh_tokens_job"),
    "tiktok_flush_schedule": ("0 4 * * 0", "UTC", "tiktok_flush_expired_tokens_job"),
    "tiktok_tokens_check_schedule": ("0 * * * *", "UTC", "tiktok_tokens_check_job"),
    "tiktok_unsettled_schedule": ("0 * * * *", "UTC", "tiktok_unsettled_job"),
    "tiktok_shop_lists_schedule": ("5 * * * *", "UTC", "tiktok_shop_lists_job"),
    "tiktok_buyer_data_retention_schedule": (
        "0 4 * * 0",
        "UTC",
        "tiktok_buyer_data_retention_job",
    ),
}

#: Sensor name -> (jobs it launches, minimum interval in seconds). Every sensor is on by default.
SENSORS = {
    "tiktok_new_shop_history_sensor": ({"tiktok_sync_job", "tiktok_product_catalog_job"}, 60),
    "tiktok_webhook_sensor": ({"tiktok_webhook_refresh_job", "tiktok_tokens_check_job"}, 10),
    # The alert sensors launch nothing: they send to Slack and/or e-mail.
    "tiktok_run_failure_alert_sensor": (set(), 30),
    "tiktok_shops_connected_alert_sensor": (set(), 60),
}


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    """The Definitions exactly as ``dagster dev`` loads them, with no tuning variable set."""
    with pytest.MonkeyPatch.context() as patch:
        for name in TUNING_VARIABLES:
            patch.delenv(name, raising=False)
        loaded = load_definitions()
    dg.Definitions.validate_loadable(loaded)
    return loaded


def test_asset_keys_and_groups(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    materializable = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable
    }

    assert groups == ASSET_GROUPS
    assert materializable == SYNCED_TABLES | {UNSETTLED}


def test_asset_check_names(definitions: dg.Definitions) -> None:
    checks = definitions.resolve_asset_graph().asset_check_keys

    assert {(key.asset_key.to_user_string(), key.name) for key in checks} == ASSET_CHECKS


def test_synced_tables_are_daily_utc_partitions_from_2023(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for table in sorted(SYNCED_TABLES):
        node = graph.get(dg.AssetKey(table))
        partitions = node.partitions_def
        assert isinstance(partitions, dg.DailyPartitionsDefinition), table
        assert partitions.start == datetime(2023, 1, 1, tzinfo=UTC), table
        assert partitions.timezone == "UTC", table
        assert partitions.end_offset == 1, table  # today's partition exists
        assert partitions.fmt == "%Y-%m-%d", table
        assert partitions.get_first_partition_key() == "2023-01-01", table
        # A year's backfill is one run (TIKTOK_BACKFILL_DAYS_PER_RUN, default 366).
        assert node.backfill_policy == dg.BackfillPolicy.multi_run(max_partitions_per_run=366)
    for unpartitioned in (
        "tiktok_daily_sales",
        "tiktok_order_settlements",
        UNSETTLED,
        "tiktok_authorizations",
    ):
        assert graph.get(dg.AssetKey(unpartitioned)).partitions_def is None


def test_jobs_their_assets_pools_and_tags(definitions: dg.Definitions) -> None:
    repository = definitions.get_repository_def()
    jobs = {job.name: job for job in repository.get_all_jobs() if not job.name.startswith("__")}

    assert set(jobs) == set(JOBS)
    for name, (assets, pools, tags) in JOBS.items():
        job = jobs[name]
        selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
        pools_of_ops = {
            node.name: getattr(node.definition, "pool", None) for node in job.graph.nodes
        }
        held = {op: pool for op, pool in pools_of_ops.items() if pool}
        assert selected == assets, name
        assert held == pools, name
        assert dict(job.tags) == tags, name


def test_schedules_with_their_crons(definitions: dg.Definitions) -> None:
    schedules = definitions.get_repository_def().schedule_defs

    assert {s.name: (s.cron_schedule, s.execution_timezone, s.job_name) for s in schedules} == (
        SCHEDULES
    )
    assert {s.default_status for s in schedules} == {dg.DefaultScheduleStatus.RUNNING}


def test_sensors_and_the_jobs_they_launch(definitions: dg.Definitions) -> None:
    sensors = definitions.get_repository_def().sensor_defs

    assert {
        s.name: ({target.job_name for target in s.targets}, s.minimum_interval_seconds)
        for s in sensors
    } == SENSORS
    assert {s.default_status for s in sensors} == {dg.DefaultSensorStatus.RUNNING}


def test_every_job_schedule_and_sensor_name_says_tiktok(definitions: dg.Definitions) -> None:
    repository = definitions.get_repository_def()
    names = [
        *(job.name for job in repository.get_all_jobs() if not job.name.startswith("__")),
        *(schedule.name for schedule in repository.schedule_defs),
        *(sensor.name for sensor in repository.sensor_defs),
    ]

    assert [name for name in names if not name.startswith("tiktok_")] == []


def test_resource_keys(definitions: dg.Definitions) -> None:
    assert set(definitions.resources or {}) == {"store", "tiktok", "warehouse"}
