"""Token maintenance in Dagster: refresh and flush jobs, their schedules, the alert check.

Wire into the Definitions::

    dg.Definitions(
        assets=[..., *maintenance_assets],
        asset_checks=[..., *maintenance_checks],
        jobs=[..., *maintenance_jobs],
        schedules=[..., *build_maintenance_schedules()],
        sensors=[..., *maintenance_sensors],
    )

``build_maintenance_schedules(refresh_cron=..., flush_cron=..., check_cron=...)`` gives the
schedules with other crons or settings (``tiktok_pipeline.definitions`` reads them from the
environment); ``build_shop_lists_schedule(cron)`` gives the shop-list refresh's
(``tiktok_shop_lists_job``: shops added to or removed from an authorization).
``maintenance_sensors`` deliver the alerts: failed runs and the check turning red, to Slack
and/or e-mail (see :mod:`tiktok_pipeline.defs.alerting`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from tiktok_pipeline.defs.alerting import build_alert_sensors
from tiktok_pipeline.defs.maintenance.alerts import (
    build_shops_connected_check,
    shops_connected,
    tiktok_authorizations,
    tokens_check_job,
)
from tiktok_pipeline.defs.maintenance.jobs import (
    FlushTokensConfig,
    RefreshTokensConfig,
    flush_expired_tokens_job,
    refresh_tokens_job,
)
from tiktok_pipeline.defs.maintenance.schedules import (
    build_flush_schedule,
    build_maintenance_schedules,
    build_refresh_schedule,
    build_tokens_check_schedule,
)
from tiktok_pipeline.defs.maintenance.shop_lists import (
    ShopListsConfig,
    build_shop_lists_schedule,
    shop_lists_job,
)

if TYPE_CHECKING:
    # What dg.define_asset_job returns; Dagster does not export the name.
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

maintenance_jobs: list[dg.JobDefinition | UnresolvedAssetJobDefinition] = [
    refresh_tokens_job,
    flush_expired_tokens_job,
    tokens_check_job,
    shop_lists_job,
]
maintenance_assets = [tiktok_authorizations]
maintenance_checks = [shops_connected]
#: Alerts to Slack and/or e-mail: every failed run, and shops_connected turning red or green.
maintenance_sensors = build_alert_sensors(shops_connected.check_key)

__all__ = [
    "FlushTokensConfig",
    "RefreshTokensConfig",
    "ShopListsConfig",
    "build_flush_schedule",
    "build_maintenance_schedules",
    "build_refresh_schedule",
    "build_shop_lists_schedule",
    "build_shops_connected_check",
    "build_tokens_check_schedule",
    "flush_expired_tokens_job",
    "maintenance_assets",
    "maintenance_checks",
    "maintenance_jobs",
    "maintenance_sensors",
    "refresh_tokens_job",
    "shop_lists_job",
    "shops_connected",
    "tiktok_authorizations",
    "tokens_check_job",
]
