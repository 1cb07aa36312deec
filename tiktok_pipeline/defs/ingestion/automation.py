"""What starts sync runs: the incremental schedules and the new-shop history sensor (which also
asks for each new shop's whole product catalog, see :mod:`.catalog`)."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from tiktok_pipeline.config import DEFAULT_BACKFILL_DAYS_PER_RUN, DEFAULT_PARTITIONS_START
from tiktok_pipeline.defs.ingestion.catalog import (
    CATALOG_START,
    catalog_run_config,
    product_catalog_job,
)
from tiktok_pipeline.defs.ingestion.jobs import sync_job, sync_run_config
from tiktok_pipeline.defs.ingestion.returned_shops import HistoryCursor, follow_shops
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
        description="Sync today's orders, products, returns, cancellations and finance (up to now "
        "minus a safety lag; finance also re-reads the last 7 days).",
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
    a time through the instance's tag limit. Each batch also gets one run of
    ``tiktok_product_catalog_job``: products unchanged for longer than the history window are
    in the catalog only. A shop whose orders history is in the sync ledger gets no history run,
    one whose catalog is (a ``products`` window from 1970) no catalog run. A handled shop that
    stopped being active (departed, deauthorized, needs_reauth) and is active again gets the
    days it missed (see :mod:`.returned_shops`).
    """

    @dg.sensor(
        name="tiktok_new_shop_history_sensor",
        jobs=[sync_job, product_catalog_job],
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"When a shop is authorized, sync its last {history_days} days (runs restricted to "
            f"that shop, or to up to {shops_per_run} shops authorized together, up to "
            f"{days_per_run} days each) and pull its whole product catalog. Shops whose history "
            "or catalog is already in the sync ledger are not fetched again. A shop that comes "
            "back (listed or authorized again) gets the days it missed."
        ),
    )
    def new_shop_history(
        context: dg.SensorEvaluationContext, store: StoreResource, warehouse: WarehouseResource
    ):
        new_shops, returned, cursor = follow_shops(
            HistoryCursor.parse(context.cursor), store.get().tokens.list_shops()
        )
        today = datetime.now(UTC)
        returned_requests = _returned_requests(
            returned, today, history_days, shops_per_run, days_per_run, partitions_start
        )
        if returned:
            context.log.info(
                "shops active again, needing the days they missed: %s",
                ", ".join(f"{s} (since {day})" for s, day in sorted(returned.items())),
            )
        if not new_shops:
            if returned:
                return dg.SensorResult(run_requests=returned_requests, cursor=cursor.to_json())
            return dg.SensorResult(
                skip_reason="no newly authorized or returned shop", cursor=cursor.to_json()
            )
        ranges = history_ranges(today, history_days, days_per_run, partitions_start)
        with warehouse.get().engine.connect() as connection:
            synced = quality.shops_synced_since(
                connection,
                "orders",
                new_shops,
                datetime.fromisoformat(ranges[0][0]).replace(tzinfo=UTC),
            )
            catalogued = quality.shops_synced_since(
                connection, "products", new_shops, CATALOG_START
            )
        run_requests = [
            dg.RunRequest(
                job_name=sync_job.name,
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
        run_requests += [
            dg.RunRequest(
                job_name=product_catalog_job.name,
                run_key=f"catalog:{_batch_key(batch)}",
                run_config=catalog_run_config(batch),
                tags={"tiktok/trigger": "new_shop_catalog", "tiktok/shop": ",".join(batch)},
            )
            for batch in shop_batches([s for s in new_shops if s not in catalogued], shops_per_run)
        ]
        context.log.info(
            "shops needing %d days of history: %s; already synced: %s",
            history_days,
            sorted(set(new_shops) - synced) or "none",
            sorted(synced) or "none",
        )
        context.log.info(
            "shops needing their product catalog: %s",
            sorted(set(new_shops) - catalogued) or "none",
        )
        return dg.SensorResult(
            run_requests=run_requests + returned_requests, cursor=cursor.to_json()
        )

    return new_shop_history


def _returned_requests(
    returned: dict[str, date],
    today: datetime,
    history_days: int,
    shops_per_run: int,
    days_per_run: int,
    partitions_start: date,
) -> list[dg.RunRequest]:
    """History runs for shops active again, from the first day each may have missed (at most
    ``history_days`` back); shops missing the same days share runs. The run key holds the
    tick's time: a shop that leaves and comes back twice gets its days twice."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for shop_id, day in returned.items():
        by_day[day].append(shop_id)
    stamp = f"{today:%Y%m%dT%H%M%S}"
    return [
        dg.RunRequest(
            job_name=sync_job.name,
            run_key=f"returned:{_batch_key(batch)}:{start}:{stamp}",
            run_config=sync_run_config(batch),
            tags={
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
                "tiktok/trigger": "returned_shop_history",
                "tiktok/shop": ",".join(batch),
            },
        )
        for day, shop_ids in sorted(by_day.items())
        for batch in shop_batches(shop_ids, shops_per_run)
        for start, end in history_ranges(
            today,
            max(0, min((today.date() - day).days, history_days)),
            days_per_run,
            partitions_start,
        )
    ]


def _batch_key(batch: list[str]) -> str:
    """The shop id, or the first one and how many more: run keys stay short."""
    return batch[0] if len(batch) == 1 else f"{batch[0]}+{len(batch) - 1}"
