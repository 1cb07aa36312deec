"""The partitioned assets: orders, products and returns, each a set of warehouse tables."""

import time
from datetime import timedelta

import dagster as dg
from pydantic import Field

from tiktok_pipeline.client import TikTokAPIError, TokenError
from tiktok_pipeline.client.errors import MissingScope
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.ingestion.entities import ENTITIES, Entity
from tiktok_pipeline.defs.ingestion.sync import SyncSummary, daily_windows, sync_shops
from tiktok_pipeline.defs.partitions import daily_partitions
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.warehouse import quality
from tiktok_pipeline.warehouse.dictionary import markdown_cell
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


def _shop_rows(summary: SyncSummary, entity: Entity) -> list[dict]:
    parent = entity.tables[0]
    rows = []
    for shop_id, shop in sorted(summary.shops.items()):
        counts = shop.load.counts(parent)
        error = shop.failures[0].error if shop.failures else None
        rows.append(
            {
                "shop_id": shop_id,
                "windows": shop.windows,
                "failed_windows": shop.failed_windows,
                "pages": shop.pages,
                "received": shop.received,
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "stale": counts.stale,
                "error": f"{type(error).__name__}: {error}" if error else "",
            }
        )
    return rows


def _markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "No shop was synced."
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [markdown_cell(row[h]) for h in headers]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fix_for(error: BaseException | None) -> str:
    if isinstance(error, TokenError):
        return error.hint
    if isinstance(error, MissingScope):
        return MissingScope.hint
    if isinstance(error, TikTokAPIError):
        return "retry the partition; if it keeps failing, check the request log (tiktok_requests)"
    return "see the run's logs for the traceback"


def build_sync_asset(entity: Entity, days_per_run: int) -> dg.AssetsDefinition:
    """The multi-asset that pulls ``entity`` by daily ``update_time`` window into its tables.

    A backfill of a range runs as runs of at most ``days_per_run`` partitions each.
    """
    parent = entity.tables[0]
    specs = [
        dg.AssetSpec(
            table,
            description=(
                f"{entity.description}: `{table}`. Rows are upserted on their key; a row "
                "changes only when TikTok's update_time is at least the stored one."
            ),
            group_name=GROUP,
            kinds={"tiktok", "sql"},
            deps=[parent] if table != parent else [],
            metadata={"dagster/column_schema": column_schema(table), "dagster/table_name": table},
        )
        for table in entity.tables
    ]

    @dg.multi_asset(
        name=f"sync_{entity.name}",
        specs=specs,
        partitions_def=daily_partitions,
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
        shops = _select_shops(store, config.shops)
        context.log.info(
            "Syncing %s of %d shop(s) over %d window(s) from %s to %s",
            entity.name,
            len(shops),
            len(windows),
            window.start.isoformat(),
            min(window.end, upper_bound).isoformat(),
        )
        apis = [tiktok.shop(shop_id) for shop_id in shops]
        summary = sync_shops(
            apis,
            warehouse.get(),
            entity,
            windows,
            run_id=context.run.run_id,
            max_workers=config.max_workers,
        )
        total = summary.load
        common = {
            "shops": dg.MetadataValue.md(_markdown_table(_shop_rows(summary, entity))),
            "shops_synced": len(shops),
            "windows": len(windows),
            "api_pages": summary.pages,
            "received": summary.received,
            "duration_seconds": round(time.perf_counter() - started, 3),
            "synced_up_to": min(window.end, upper_bound).isoformat(),
        }
        failed_shops = sorted(s.shop_id for s in summary.shops.values() if s.failed_windows)
        if failed_shops:
            lines = [
                f"shop {unit.shop_id} ({unit.window.partition_key}): "
                f"{type(unit.error).__name__}: {unit.error}. Fix: {_fix_for(unit.error)}"
                for unit in summary.failures[:20]
            ]
            raise dg.Failure(
                description=(
                    f"{len(failed_shops)} of {len(shops)} shop(s) failed to sync {entity.name}: "
                    f"{', '.join(failed_shops)}. The other shops' rows landed.\n" + "\n".join(lines)
                ),
                metadata={**common, **total.as_metadata()},
                allow_retries=any(
                    getattr(unit.error, "retryable", False) for unit in summary.failures
                ),
            )
        with warehouse.get().engine.connect() as connection:
            counts = quality.row_counts(connection, entity.tables)
        for table in entity.tables:
            table_counts = total.counts(table).as_dict()
            yield dg.MaterializeResult(
                asset_key=table,
                metadata={
                    **common,
                    **{name: value for name, value in table_counts.items()},
                    "dagster/row_count": counts[table],
                },
            )

    sync.__doc__ = f"Pull {entity.description.lower()} updated in each day into the warehouse."
    return sync


def _select_shops(store: StoreResource, requested: list[str] | None) -> list[str]:
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


def build_sync_assets(days_per_run: int) -> list[dg.AssetsDefinition]:
    """One sync multi-asset per entity, with backfill runs of at most ``days_per_run`` days."""
    return [build_sync_asset(entity, days_per_run) for entity in ENTITIES.values()]
