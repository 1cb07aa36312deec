"""When the maintenance jobs run: refresh daily, flush weekly, the alert check hourly.

Every schedule is on by default (``DefaultScheduleStatus.RUNNING``): shops must stay connected
without anyone watching. Crons and settings are builder arguments; a tick is skipped while a
run of the same job is still queued or running (the original's ``withoutOverlapping``).
"""

from __future__ import annotations

import dagster as dg

from tiktok_pipeline.config import (
    DEFAULT_FLUSH_CRON,
    DEFAULT_REFRESH_CRON,
    DEFAULT_TOKENS_CHECK_CRON,
)
from tiktok_pipeline.defs.maintenance.alerts import tokens_check_job
from tiktok_pipeline.defs.maintenance.jobs import (
    MAINTENANCE_TAG,
    flush_expired_tokens_job,
    refresh_tokens_job,
)
from tiktok_pipeline.defs.runs import run_in_flight
from tiktok_pipeline.lifecycle import parse_duration


def _check_duration(name: str, text: str) -> None:
    # Fail when the code location loads, not at 3 a.m. in the first run.
    if parse_duration(text).total_seconds() <= 0:
        raise ValueError(f"{name} must be a positive duration such as 48h, not {text!r}")


def build_refresh_schedule(
    cron: str = DEFAULT_REFRESH_CRON,
    *,
    within: str = "48h",
    timezone: str = "UTC",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """``tiktok_refresh_tokens_schedule``: refresh tokens expiring within ``within`` (daily)."""
    _check_duration("within", within)

    @dg.schedule(
        name="tiktok_refresh_tokens_schedule",
        cron_schedule=cron,
        job=refresh_tokens_job,
        execution_timezone=timezone,
        default_status=default_status,
        description=f"Refresh TikTok access tokens expiring within {within}.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if run_in_flight(context.instance, refresh_tokens_job.name):
            return dg.SkipReason("a token refresh run is still queued or running")
        return dg.RunRequest(
            run_config={"ops": {"refresh_expiring_tokens": {"config": {"within": within}}}},
            tags={MAINTENANCE_TAG: "refresh"},
        )

    return schedule


def build_flush_schedule(
    cron: str = DEFAULT_FLUSH_CRON,
    *,
    request_log_retention: str = "30d",
    webhook_retention: str = "90d",
    timezone: str = "UTC",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """``tiktok_flush_schedule``: remove dead authorizations and old rows (weekly)."""
    _check_duration("request_log_retention", request_log_retention)
    _check_duration("webhook_retention", webhook_retention)

    @dg.schedule(
        name="tiktok_flush_schedule",
        cron_schedule=cron,
        job=flush_expired_tokens_job,
        execution_timezone=timezone,
        default_status=default_status,
        description=(
            "Remove authorizations whose refresh token expired, request log rows older than "
            f"{request_log_retention} and processed webhook rows older than {webhook_retention}."
        ),
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if run_in_flight(context.instance, flush_expired_tokens_job.name):
            return dg.SkipReason("a flush run is still queued or running")
        config = {
            "request_log_retention": request_log_retention,
            "webhook_retention": webhook_retention,
        }
        return dg.RunRequest(
            run_config={"ops": {"flush_expired_tokens": {"config": config}}},
            tags={MAINTENANCE_TAG: "flush"},
        )

    return schedule


def build_tokens_check_schedule(
    cron: str = DEFAULT_TOKENS_CHECK_CRON,
    *,
    timezone: str = "UTC",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """``tiktok_tokens_check_schedule``: evaluate the ``shops_connected`` alert (hourly)."""
    return dg.ScheduleDefinition(
        name="tiktok_tokens_check_schedule",
        cron_schedule=cron,
        job=tokens_check_job,
        execution_timezone=timezone,
        default_status=default_status,
        description="Evaluate the shops_connected alert.",
    )


def build_maintenance_schedules(
    refresh_cron: str = DEFAULT_REFRESH_CRON,
    flush_cron: str = DEFAULT_FLUSH_CRON,
    check_cron: str = DEFAULT_TOKENS_CHECK_CRON,
    *,
    refresh_within: str = "48h",
    request_log_retention: str = "30d",
    webhook_retention: str = "90d",
    timezone: str = "UTC",
) -> list[dg.ScheduleDefinition]:
    """The three maintenance schedules, all running by default."""
    return [
        build_refresh_schedule(refresh_cron, within=refresh_within, timezone=timezone),
        build_flush_schedule(
            flush_cron,
            request_log_retention=request_log_retention,
            webhook_retention=webhook_retention,
            timezone=timezone,
        ),
        build_tokens_check_schedule(check_cron, timezone=timezone),
    ]
