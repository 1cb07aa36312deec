"""The partitioned sync assets: one multi-asset per entity (orders, products, returns,
cancellations, statements, statement transactions, payments, withdrawals), each a set of
warehouse tables."""

import time
from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from tiktok_pipeline.client import TikTokAPIError, TokenError
from tiktok_pipeline.client.errors import MissingScope
from tiktok_pipeline.config import DEFAULT_PARTITIONS_START
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.ingestion import figures
from tiktok_pipeline.defs.ingestion.entities import ENTITIES, Entity
from tiktok_pipeline.defs.ingestion.sync import DATABASE_RETRY_SECONDS, daily_windows, sync_shops
from tiktok_pipeline.defs.partitions import daily_partitions
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.warehouse import quality
from tiktok_pipeline.warehouse.schema import relation, type_name

GROUP = "tiktok"
POOL = "tiktok_api"


class SyncConfig(dg.Config):
    """Run configuration of the sync assets."""

    shops: list[str] | None = Field(
        default=None, description="Only these shop ids (default: every active shop)."
    )
    safety_lag_minutes: int = Field(
        default=5,
        description="Never sync updates newer than now minus this many minutes; TikTok's "
        "search can lag behind its writes.",
    )
    max_workers: int = Field(default=8, description="(shop, day) windows fetched at the same time.")
    database_retry_seconds: float = Field(
        default=DATABASE_RETRY_SECONDS,
        description="How long each window waits out a warehouse database outage (connections "
        "refused or lost, a restart) by trying again, before it is recorded as failed.",
    )


def column_schema(table_name: str) -> dg.TableSchema:
    """The table's columns as Dagster shows them: the data dictionary's types and descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=type_name(column),
                description=column.comment,
                constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
            )
            for column in relation(table_name).columns
        ]
    )


def _fix_for(error: BaseException | None) -> str:
    if isinstance(error, TokenError):
        return error.hint
    if isinstance(error, MissingScope):
        return MissingScope.hint
    if isinstance(error, TikTokAPIError):
        return "retry the partition; if it keeps failing, check the request log (tiktok_requests)"
    return "see the run's logs for the traceback"


def build_sync_asset(
    entity: Entity, days_per_run: int, partitions_start: date = DEFAULT_PARTITIONS_START
) -> dg.AssetsDefinition:
    """The multi-asset that pulls ``entity`` by daily window of its time field into its tables.

    Its partitions are the UTC days from ``partitions_start``. A backfill of a range runs as
    runs of at most ``days_per_run`` partitions each. Each day's materialization carries that
    day's figures; the run's totals go on the run (see :mod:`.figures`).
    """
    parent = entity.tables[0]
    specs = [
        dg.AssetSpec(
            table,
            description=f"{entity.description}: `{table}`. {entity.loading}",
            group_name=entity.group,
            kinds={"tiktok", "sql"},
            deps=[parent] if table != parent else [],
            metadata={"dagster/column_schema": column_schema(table), "dagster/table_name": table},
        )
        for table in entity.tables
    ]

    @dg.multi_asset(
        name=f"sync_{entity.name}",
        specs=specs,
        partitions_def=daily_partitions(partitions_start),
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=days_per_run),
        pool=POOL,
        can_subset=False,
    )
    def sync(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        tiktok: TikTokResource,
        store: StoreResource,
        warehouse: WarehouseResource,
    ):
        started = time.perf_counter()
        window = context.partition_time_window
        upper_bound = utcnow() - timedelta(minutes=config.safety_lag_minutes)
        windows = daily_windows(window.start, window.end, upper_bound)
        shops = select_shops(store, config.shops)
        context.log.info(
            "Syncing %s of %d shop(s) over %d window(s) from %s to %s",
            entity.label,
            len(shops),
            len(windows),
            window.start.isoformat(),
            min(window.end, upper_bound).isoformat(),
        )
        apis = [tiktok.shop(shop_id) for shop_id in shops]
        with_shops = figures.keeps_shop_days(len(shops), len(windows))
        summary = sync_shops(
            apis,
            warehouse.get(),
            entity,
            windows,
            run_id=context.run.run_id,
            max_workers=config.max_workers,
            keep_shop_days=with_shops,
            database_retry_seconds=config.database_retry_seconds,
        )
        partition_keys = context.partition_keys
        days = len(partition_keys)
        totals = figures.run_metadata(
            summary,
            entity,
            days=days,
            shops=len(shops),
            seconds=time.perf_counter() - started,
            synced_up_to=min(window.end, upper_bound),
        )
        figures.report_run(context, figures.run_message(summary, entity, days, len(shops)), totals)
        failed_shops = sorted(s.shop_id for s in summary.shops.values() if s.failed_windows)
        if failed_shops:
            lines = [
                f"shop {unit.shop_id} ({unit.window.partition_key}): "
                f"{type(unit.error).__name__}: {unit.error}. Fix: {_fix_for(unit.error)}"
                for unit in summary.failures[:20]
            ]
            raise dg.Failure(
                description=(
                    f"{len(failed_shops)} of {len(shops)} shop(s) failed to sync {entity.label}: "
                    f"{', '.join(failed_shops)}. The other shops' rows landed.\n" + "\n".join(lines)
                ),
                metadata=totals,
                allow_retries=any(
                    getattr(unit.error, "retryable", False) for unit in summary.failures
                ),
            )
        with warehouse.get().engine.connect() as connection:
            counts = quality.row_counts(connection, entity.tables)
        for table in entity.tables:
            for key in partition_keys:
                context.add_asset_metadata(
                    figures.day_metadata(summary.day(key), table, with_shops),
                    asset_key=table,
                    partition_key=key,
                )
            # The table's rows after the run: a fact of the table, true on every partition.
            yield dg.MaterializeResult(
                asset_key=table, metadata={"dagster/row_count": counts[table]}
            )

    sync.__doc__ = (
        f"Pull {entity.description[0].lower()}{entity.description[1:]} by "
        f"{entity.time_field} into the warehouse, one UTC day per partition."
        + (
            f" A day within {entity.revisit.days} days of now is fetched from "
            f"{entity.revisit.days} days before it, as the objects' statuses still change."
            if entity.revisit
            else ""
        )
    )
    return sync


def select_shops(store: StoreResource, requested: list[str] | None) -> list[str]:
    """The active shops, or ``requested`` when given (a Failure naming any that is not active)."""
    active = [shop.id for shop in store.active_shops()]
    if requested is None:
        return active
    unknown = sorted(set(requested) - set(active))
    if unknown:
        raise dg.Failure(
            description=(
                f"shops {', '.join(unknown)} are not active shops in the token store (active: "
                f"{', '.join(active) or 'none'}); authorize them at /tiktok/seller/authorize "
                "or fix the run config's `shops`"
            ),
            allow_retries=False,
        )
    return list(dict.fromkeys(requested))


def build_sync_assets(
    days_per_run: int, partitions_start: date = DEFAULT_PARTITIONS_START
) -> list[dg.AssetsDefinition]:
    """One sync multi-asset per entity, partitioned by day from ``partitions_start``, with
    backfill runs of at most ``days_per_run`` days."""
    return [
        build_sync_asset(entity, days_per_run, partitions_start) for entity in ENTITIES.values()
    ]
