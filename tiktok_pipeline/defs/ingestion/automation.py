"""What starts sync runs: the incremental schedules and the new-shop history sensor."""

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from tiktok_pipeline.config import DEFAULT_BACKFILL_DAYS_PER_RUN, DEFAULT_PARTITIONS_START
from tiktok_pipeline.defs.ingestion.jobs import sync_job, sync_run_config
from tiktok_pipeline.defs.resources import StoreResource, WarehouseResource
from tiktok_pipeline.defs.runs import run_in_flight
from tiktok_pipeline.warehouse import quality

#: New shops whose history one run fetches together. A run costs the same few CPU seconds of
#: Dagster (launch, code location, events, checks) whatever it syncs, far more than a small
#: shop's history: an agency connecting 300 shops gets 12 history runs, not 300.
SHOPS_PER_HISTORY_RUN = 25


def _partition_request(
    context: dg.ScheduleEvaluationContext, day: datetime, reason: str, first: date
) -> dg.RunRequest | dg.SkipReason:
    key = day.date().isoformat()
    if day.date() < first:
        return dg.SkipReason(f"{key} is before the first partition, {first.isoformat()}")
    if run_in_flight(context.instance, sync_job.name, {"dagster/partition": key}):
        return dg.SkipReason(f"a sync of {key} is still queued or running")
    return dg.RunRequest(partition_key=key, tags={"tiktok/trigger": reason})


def build_incremental_schedules(
    cron: str = "*/15 * * * *",
    late_updates_cron: str = "30 0 * * *",
    partitions_start: date = DEFAULT_PARTITIONS_START,
) -> list[dg.ScheduleDefinition]:
    """Today's partition every ``cron``; yesterday's once more after midnight for late updates
    (skipped when it is before ``partitions_start``, the first partition)."""

    @dg.schedule(
        name="tiktok_incremental_schedule",
        job=sync_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Sync today's orders, products and returns (up to now minus a safety lag).",
    )
    def incremental(context: dg.ScheduleEvaluationContext):
        return _partition_request(
            context, context.scheduled_execution_time, "incremental", partitions_start
        )

    @dg.schedule(
        name="tiktok_late_updates_schedule",
        job=sync_job,
        cron_schedule=late_updates_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Sync yesterday once more after midnight, for updates made late in the day.",
    )
    def late_updates(context: dg.ScheduleEvaluationContext):
        yesterday = context.scheduled_execution_time - timedelta(days=1)
        return _partition_request(context, yesterday, "late_updates", partitions_start)

    return [incremental, late_updates]


def history_ranges(
    today: datetime,
    history_days: int,
    days_per_run: int = DEFAULT_BACKFILL_DAYS_PER_RUN,
    partitions_start: date = DEFAULT_PARTITIONS_START,
) -> list[tuple[str, str]]:
    """Partition key ranges of at most ``days_per_run`` days (the assets' backfill policy)
    covering the last ``history_days`` days, none before ``partitions_start``."""
    first = max(today.date() - timedelta(days=history_days), partitions_start)
    ranges = []
    start = first
    while start <= today.date():
        end = min(start + timedelta(days=days_per_run - 1), today.date())
        ranges.append((start.isoformat(), end.isoformat()))
        start = end + timedelta(days=1)
    return ranges


def shop_batches(shop_ids: list[str], size: int = SHOPS_PER_HISTORY_RUN) -> list[list[str]]:
    """``shop_ids`` sorted and cut into groups of at most ``size``."""
    ordered = sorted(shop_ids)
    return [ordered[at : at + size] for at in range(0, len(ordered), size)]


def build_new_shop_sensor(
    history_days: int = 90,
    shops_per_run: int = SHOPS_PER_HISTORY_RUN,
    days_per_run: int = DEFAULT_BACKFILL_DAYS_PER_RUN,
    partitions_start: date = DEFAULT_PARTITIONS_START,
) -> dg.SensorDefinition:
    """A sensor that gives each newly authorized shop its history, without refetching others.

    New shops are synced ``shops_per_run`` at a time, one run per ``days_per_run`` days of
    history (the assets' backfill policy), none before ``partitions_start``; the
    ``tiktok/shop`` tag names the run's shops (comma-separated) and keeps one run of a group at
    a time through the instance's tag limit.
    """

    @dg.sensor(
        name="tiktok_new_shop_history_sensor",
        job=sync_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"When a shop is authorized, sync its last {history_days} days (runs restricted to "
            f"that shop, or to up to {shops_per_run} shops authorized together, up to "
            f"{days_per_run} days each). Shops whose history is already in the sync ledger are "
            "left alone."
        ),
    )
    def new_shop_history(
        context: dg.SensorEvaluationContext, store: StoreResource, warehouse: WarehouseResource
    ):
        handled = set(json.loads(context.cursor)["shops"]) if context.cursor else set()
        new_shops = [shop.id for shop in store.active_shops() if shop.id not in handled]
        if not new_shops:
            return dg.SensorResult(skip_reason="no newly authorized shop")
        today = datetime.now(UTC)
        ranges = history_ranges(today, history_days, days_per_run, partitions_start)
        with warehouse.get().engine.connect() as connection:
            synced = quality.shops_synced_since(
                connection,
                "orders",
                new_shops,
                datetime.fromisoformat(ranges[0][0]).replace(tzinfo=UTC),
            )
        run_requests = [
            dg.RunRequest(
                run_key=f"history:{_batch_key(batch)}:{start}",
                run_config=sync_run_config(batch),
                tags={
                    "dagster/asset_partition_range_start": start,
                    "dagster/asset_partition_range_end": end,
                    "tiktok/trigger": "new_shop_history",
                    "tiktok/shop": ",".join(batch),
                },
            )
            for batch in shop_batches([s for s in new_shops if s not in synced], shops_per_run)
            for start, end in ranges
        ]
        context.log.info(
            "shops needing %d days of history: %s; already synced: %s",
            history_days,
            sorted(set(new_shops) - synced) or "none",
            sorted(synced) or "none",
        )
        return dg.SensorResult(
            run_requests=run_requests,
            cursor=json.dumps({"shops": sorted(handled | set(new_shops))}),
        )

    return new_shop_history


def _batch_key(batch: list[str]) -> str:
    """The shop id, or the first one and how many more: run keys stay short."""
    return batch[0] if len(batch) == 1 else f"{batch[0]}+{len(batch) - 1}"
