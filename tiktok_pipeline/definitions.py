"""The Definitions that ``dagster dev``, ``dagster-webserver`` and ``dagster-daemon`` load.

Schedules and the history window can be tuned with environment variables read when the code
location loads (never at import): ``TIKTOK_SYNC_CRON`` (default every 15 minutes),
``TIKTOK_LATE_UPDATES_CRON`` (00:30 UTC), ``TIKTOK_HISTORY_DAYS`` (90),
``TIKTOK_REFRESH_CRON`` (03:00 UTC daily), ``TIKTOK_FLUSH_CRON`` (04:00 UTC on Sundays) and
``TIKTOK_TOKENS_CHECK_CRON`` (hourly) and ``TIKTOK_WEBHOOK_SENSOR_SECONDS`` (10).
"""

import os
import warnings

import dagster as dg

from tiktok_pipeline.defs.ingestion.assets import sync_assets
from tiktok_pipeline.defs.ingestion.automation import (
    build_incremental_schedules,
    build_new_shop_sensor,
)
from tiktok_pipeline.defs.ingestion.checks import sync_checks
from tiktok_pipeline.defs.ingestion.jobs import daily_sales, sync_job
from tiktok_pipeline.defs.maintenance import (
    build_maintenance_schedules,
    maintenance_assets,
    maintenance_checks,
    maintenance_jobs,
)
from tiktok_pipeline.defs.maintenance.schedules import (
    DEFAULT_CHECK_CRON,
    DEFAULT_FLUSH_CRON,
    DEFAULT_REFRESH_CRON,
)
from tiktok_pipeline.defs.resources import default_resources
from tiktok_pipeline.defs.webhooks.job import webhook_refresh_job
from tiktok_pipeline.defs.webhooks.sensor import build_webhook_sensor

# Dagster 1.13 warns that `owners` is beta each time it binds resources to a sensor, although
# no sensor here sets owners; the warning fills `dagster dev`'s output every few seconds.
warnings.filterwarnings("ignore", message="Parameter `owners` of initializer `SensorDefinition")


@dg.definitions
def defs() -> dg.Definitions:
    """Everything of the pipeline, with resources configured from the environment at launch."""
    env = os.environ
    return dg.Definitions(
        assets=[*sync_assets, daily_sales, *maintenance_assets],
        asset_checks=[*sync_checks, *maintenance_checks],
        jobs=[sync_job, webhook_refresh_job, *maintenance_jobs],
        schedules=[
            *build_incremental_schedules(
                cron=env.get("TIKTOK_SYNC_CRON", "*/15 * * * *"),
                late_updates_cron=env.get("TIKTOK_LATE_UPDATES_CRON", "30 0 * * *"),
            ),
            *build_maintenance_schedules(
                refresh_cron=env.get("TIKTOK_REFRESH_CRON", DEFAULT_REFRESH_CRON),
                flush_cron=env.get("TIKTOK_FLUSH_CRON", DEFAULT_FLUSH_CRON),
                check_cron=env.get("TIKTOK_TOKENS_CHECK_CRON", DEFAULT_CHECK_CRON),
            ),
        ],
        sensors=[
            build_new_shop_sensor(int(env.get("TIKTOK_HISTORY_DAYS", "90"))),
            build_webhook_sensor(int(env.get("TIKTOK_WEBHOOK_SENSOR_SECONDS", "10"))),
        ],
        resources=default_resources(),
    )
