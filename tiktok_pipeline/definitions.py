"""The Definitions that ``dagster dev``, ``dagster-webserver`` and ``dagster-daemon`` load.

Schedules and the history window can be tuned with environment variables read when the code
location loads (never at import): ``TIKTOK_SYNC_CRON`` (default every 15 minutes),
``TIKTOK_LATE_UPDATES_CRON`` (default 00:30 UTC) and ``TIKTOK_HISTORY_DAYS`` (default 90).
"""

from __future__ import annotations

import os

import dagster as dg

from tiktok_pipeline.defs.ingestion.assets import sync_assets
from tiktok_pipeline.defs.ingestion.automation import (
    build_incremental_schedules,
    build_new_shop_sensor,
)
from tiktok_pipeline.defs.ingestion.checks import sync_checks
from tiktok_pipeline.defs.ingestion.jobs import daily_sales, sync_job
from tiktok_pipeline.defs.resources import default_resources


@dg.definitions
def defs() -> dg.Definitions:
    """Everything of the pipeline, with resources configured from the environment at launch."""
    return dg.Definitions(
        assets=[*sync_assets, daily_sales],
        asset_checks=sync_checks,
        jobs=[sync_job],
        schedules=build_incremental_schedules(
            cron=os.environ.get("TIKTOK_SYNC_CRON", "*/15 * * * *"),
            late_updates_cron=os.environ.get("TIKTOK_LATE_UPDATES_CRON", "30 0 * * *"),
        ),
        sensors=[build_new_shop_sensor(int(os.environ.get("TIKTOK_HISTORY_DAYS", "90")))],
        resources=default_resources(),
    )
