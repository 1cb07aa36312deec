"""Buyer data retention in Dagster: a job that purges what is past retention, on a schedule.

The work lives in :mod:`tiktok_pipeline.warehouse.retention`, shared with
``tiktok-pipeline buyers purge``. The retention period is ``TIKTOK_BUYER_DATA_RETENTION_DAYS``
(read when the run starts, so a change needs no code location reload).
"""

# No ``from __future__ import annotations``: Dagster reads the Config annotations at run time.
import dagster as dg

from tiktok_pipeline.config import DEFAULT_FLUSH_CRON, load_buyer_data_retention
from tiktok_pipeline.defs.maintenance.jobs import MAINTENANCE_TAG
from tiktok_pipeline.defs.resources import WarehouseResource
from tiktok_pipeline.defs.runs import run_in_flight
from tiktok_pipeline.warehouse.retention import purge_expired


class BuyerDataRetentionConfig(dg.Config):
    """Run config of ``tiktok_buyer_data_retention_job``."""

    dry_run: bool = False
    """Count the orders past retention; change nothing."""
    batch_size: int = 1000
    """Orders purged per transaction."""


@dg.op(out=dg.Out(dg.Nothing), tags={MAINTENANCE_TAG: "buyer_data"})
def purge_expired_buyer_data(
    context: dg.OpExecutionContext, config: BuyerDataRetentionConfig, warehouse: WarehouseResource
) -> None:
    """Remove the buyer's name, address, phone, e-mail and message from orders completed or
    cancelled more than ``TIKTOK_BUYER_DATA_RETENTION_DAYS`` ago.

    Amounts, statuses, times, ids (the buyer's pseudonymous ``user_id`` too) and coarse
    geography stay, so every report gives the same figures. Later syncs of a purged order
    store it purged. With the setting ``off`` the op does nothing.
    """
    if config.batch_size < 1:
        raise dg.Failure("run config batch_size must be at least 1", allow_retries=False)
    days = load_buyer_data_retention()
    if days is None:
        context.log.info("TIKTOK_BUYER_DATA_RETENTION_DAYS is off: buyer data is kept")
        context.add_output_metadata({"retention_days": "off", "orders_purged": 0})
        return
    report = purge_expired(
        warehouse.get().engine, days, dry_run=config.dry_run, batch_size=config.batch_size
    )
    context.log.info("%s", report.summary())
    assert report.cutoff is not None
    context.add_output_metadata(
        {
            "retention_days": days,
            "orders_purged": report.orders,
            "cutoff": dg.MetadataValue.text(f"{report.cutoff:%Y-%m-%d %H:%M} UTC"),
            "dry_run": dg.MetadataValue.bool(report.dry_run),
        }
    )


@dg.job(
    name="tiktok_buyer_data_retention_job",
    description=(
        "Remove buyers' personal data from orders completed or cancelled more than "
        "TIKTOK_BUYER_DATA_RETENTION_DAYS ago (default 90; off keeps it)."
    ),
    tags={MAINTENANCE_TAG: "buyer_data"},
)
def buyer_data_retention_job() -> None:
    """Purge buyer data past retention."""
    purge_expired_buyer_data()


def build_buyer_data_retention_schedule(
    cron: str = DEFAULT_FLUSH_CRON,
    *,
    timezone: str = "UTC",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """``tiktok_buyer_data_retention_schedule``: the retention job, with the flush (weekly)."""

    @dg.schedule(
        name="tiktok_buyer_data_retention_schedule",
        cron_schedule=cron,
        job=buyer_data_retention_job,
        execution_timezone=timezone,
        default_status=default_status,
        description="Remove buyer data past TIKTOK_BUYER_DATA_RETENTION_DAYS.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if run_in_flight(context.instance, buyer_data_retention_job.name):
            return dg.SkipReason("a buyer data retention run is still queued or running")
        return dg.RunRequest(tags={MAINTENANCE_TAG: "buyer_data"})

    return schedule
