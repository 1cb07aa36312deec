"""The Definitions that ``dagster dev``, ``dagster-webserver`` and ``dagster-daemon`` load.

Schedules and the history window can be tuned with environment variables read when the code
location loads (never at import; see :func:`tiktok_pipeline.config.load_schedule_settings`):
``TIKTOK_SYNC_CRON`` (default every 15 minutes),
``TIKTOK_LATE_UPDATES_CRON`` (00:30 UTC), ``TIKTOK_HISTORY_DAYS`` (90),
``TIKTOK_REFRESH_CRON`` (03:00 UTC daily), ``TIKTOK_UNSETTLED_CRON`` (hourly),
``TIKTOK_FLUSH_CRON`` (04:00 UTC on Sundays) and
``TIKTOK_TOKENS_CHECK_CRON`` (hourly), ``TIKTOK_WEBHOOK_SENSOR_SECONDS`` (10),
``TIKTOK_BACKFILL_DAYS_PER_RUN`` (366) and ``TIKTOK_PARTITIONS_START`` (2023-01-01, the first
daily partition). The buyer-data retention job purges after ``TIKTOK_BUYER_DATA_RETENTION_DAYS``
(90); the alert sensors deliver to ``TIKTOK_ALERT_SLACK_WEBHOOK_URL`` and/or
``TIKTOK_ALERT_SMTP_*`` (read at each tick).
"""

import os
import warnings

import dagster as dg

from tiktok_pipeline.config import load_schedule_settings
from tiktok_pipeline.defs.ingestion.assets import build_sync_assets
from tiktok_pipeline.defs.ingestion.automation import (
    build_incremental_schedules,
    build_new_shop_sensor,
)
from tiktok_pipeline.defs.ingestion.catalog import build_catalog_schedule, product_catalog_job
from tiktok_pipeline.defs.ingestion.checks import sync_checks
from tiktok_pipeline.defs.ingestion.jobs import daily_sales, order_settlements, sync_job
from tiktok_pipeline.defs.ingestion.unsettled import (
    build_unsettled_schedule,
    unsettled_job,
    unsettled_transactions,
)
from tiktok_pipeline.defs.maintenance import (
    build_maintenance_schedules,
    build_shop_lists_schedule,
    maintenance_assets,
    maintenance_checks,
    maintenance_jobs,
    maintenance_sensors,
)
from tiktok_pipeline.defs.maintenance.buyer_data import (
    build_buyer_data_retention_schedule,
    buyer_data_retention_job,
)
from tiktok_pipeline.defs.resources import default_resources
from tiktok_pipeline.defs.webhooks.job import webhook_refresh_job
from tiktok_pipeline.defs.webhooks.sensor import build_webhook_sensor

# Dagster 1.13 warns that `owners` is beta each time it binds resources to a sensor, although
# no sensor here sets owners; the warning fills `dagster dev`'s output every few seconds.
warnings.filterwarnings("ignore", message="Parameter `owners` of initializer `SensorDefinition")

#: Materialization events of a partition range written in batches of this size. Dagster reads
#: DAGSTER_EVENT_BATCH_SIZE from the run worker's environment (default 0: one insert per
#: partition and table, about a tenth of a backfill run's time on Postgres). Setting it when the
#: code location loads reaches every run worker, whichever launcher started it.
EVENT_BATCH_SIZE = "1000"


def _batch_materialization_events() -> None:
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


@dg.definitions
def defs() -> dg.Definitions:
    """Everything of the pipeline, with resources configured from the environment at launch."""
    _batch_materialization_events()
    timing = load_schedule_settings()
    return dg.Definitions(
        assets=[
            *build_sync_assets(timing.backfill_days_per_run, timing.partitions_start),
            daily_sales,
            order_settlements,
            unsettled_transactions,
            *maintenance_assets,
        ],
        asset_checks=[*sync_checks, *maintenance_checks],
        jobs=[
            sync_job,
            unsettled_job,
            webhook_refresh_job,
            *maintenance_jobs,
            buyer_data_retention_job,
            product_catalog_job,
        ],
        schedules=[
            *build_incremental_schedules(
                cron=timing.sync_cron,
                late_updates_cron=timing.late_updates_cron,
                partitions_start=timing.partitions_start,
            ),
            *build_maintenance_schedules(
                refresh_cron=timing.refresh_cron,
                flush_cron=timing.flush_cron,
                check_cron=timing.tokens_check_cron,
            ),
            build_buyer_data_retention_schedule(timing.flush_cron),
            build_shop_lists_schedule(timing.shop_lists_cron),
            build_catalog_schedule(timing.product_catalog_cron),
            build_unsettled_schedule(timing.unsettled_cron),
        ],
        sensors=[
            build_new_shop_sensor(
                timing.history_days,
                days_per_run=timing.backfill_days_per_run,
                partitions_start=timing.partitions_start,
            ),
            build_webhook_sensor(timing.webhook_sensor_seconds),
            *maintenance_sensors,
        ],
        resources=default_resources(),
        # Every step calls TikTok or the database from threads: running the steps in the run's
        # own process saves a process and a code-location load (~2 CPU s, ~100 MB) per step.
        executor=dg.in_process_executor,
    )
