"""The whole product catalog of shops: every product, however long ago it last changed.

The sync assets pull products by ``update_time`` day, so a newly connected shop's history run
only sees products changed in its history window; a product untouched for a year stays
unknown. ``tiktok_product_catalog_job`` pulls every product of the selected shops (no lower
bound on ``update_time``, split below TikTok's 10,000-result cap, see :mod:`.product_search`)
into the product tables with the loader's usual rule (newest ``update_time`` wins,
``_source = poll``). Each shop's pull is recorded in the sync ledger as entity ``products``
with the window [1970-01-01, the run's time minus the safety lag) and partition key
``catalog``, which is how the new-shop sensor knows a shop's catalog is in.

The new-shop history sensor requests it for each batch of new shops, and
``tiktok_product_catalog_schedule`` runs it for every active shop once a week (Sundays 03:00
UTC by default; ``TIKTOK_PRODUCT_CATALOG_CRON`` sets another cron): it catches products whose
deletion push was lost, as a deleted product comes back with status ``DELETED``.
"""

import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from tiktok_pipeline.config import DEFAULT_PRODUCT_CATALOG_CRON
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.ingestion.assets import POOL, SyncConfig, select_shops
from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline.defs.ingestion.sync import Window, sync_shops
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.defs.runs import run_in_flight

CATALOG_JOB_NAME = "tiktok_product_catalog_job"
#: The ledger's ``partition_key`` of a catalog pull (it covers no single day).
CATALOG_PARTITION = "catalog"
#: Where a catalog window starts: no lower bound on ``update_time``.
CATALOG_START = datetime(1970, 1, 1, tzinfo=UTC)


def catalog_run_config(shop_ids: list[str] | None = None) -> dict:
    """Run config of the catalog job for ``shop_ids`` (None: every active shop)."""
    return {"ops": {"pull_product_catalog": {"config": {"shops": shop_ids}}}}


@dg.op(name="pull_product_catalog", pool=POOL)
def pull_product_catalog(
    context: dg.OpExecutionContext,
    config: SyncConfig,
    tiktok: TikTokResource,
    store: StoreResource,
    warehouse: WarehouseResource,
) -> None:
    """Pull every product of the shops (no ``update_time`` lower bound) into the product
    tables, newest ``update_time`` winning, and record each shop in the sync ledger."""
    started = time.perf_counter()
    products = ENTITIES["products"]
    shops = select_shops(store, config.shops)
    until = utcnow() - timedelta(minutes=config.safety_lag_minutes)
    window = Window(CATALOG_START, until, CATALOG_PARTITION)
    context.log.info("Pulling the product catalog of %d shop(s) up to %s", len(shops), until)
    summary = sync_shops(
        [tiktok.shop(shop_id) for shop_id in shops],
        warehouse.get(),
        products,
        [window],
        run_id=context.run.run_id,
        max_workers=config.max_workers,
        keep_shop_days=False,
        database_retry_seconds=config.database_retry_seconds,
    )
    parent = summary.load.counts(products.tables[0])
    figures: dict[str, dg.RawMetadataValue] = {
        "shops": len(shops),
        "products_received": summary.received,
        "products_inserted": parent.inserted,
        "products_updated": parent.updated,
        "products_unchanged": parent.unchanged,
        "pages": summary.pages,
        "synced_up_to": dg.TimestampMetadataValue(until.timestamp()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    for table in products.tables:
        context.log_event(
            dg.AssetObservation(
                asset_key=table,
                metadata={"source": "product_catalog", **summary.load.counts(table).as_dict()},
            )
        )
    context.add_output_metadata(figures)
    failed = sorted(s.shop_id for s in summary.shops.values() if s.failed_windows)
    if failed:
        lines = [
            f"shop {unit.shop_id}: {type(unit.error).__name__}: {unit.error}"
            for unit in summary.failures[:20]
        ]
        raise dg.Failure(
            description=(
                f"{len(failed)} of {len(shops)} shop(s) failed to pull their product catalog: "
                f"{', '.join(failed)}. The other shops' products landed.\n" + "\n".join(lines)
            ),
            metadata=figures,
        )
    context.log.info(
        "%d product(s) received over %d page(s): %d new, %d updated",
        summary.received,
        summary.pages,
        parent.inserted,
        parent.updated,
    )


@dg.job(
    name=CATALOG_JOB_NAME,
    description=(
        "Pull every product of the selected shops (default: all active shops), however long "
        "ago it changed, into the product tables; recorded in the sync ledger from 1970-01-01."
    ),
)
def product_catalog_job() -> None:
    """The whole product catalog of shops (see the module docstring)."""
    pull_product_catalog()


def build_catalog_schedule(cron: str = DEFAULT_PRODUCT_CATALOG_CRON) -> dg.ScheduleDefinition:
    """Every active shop's whole product catalog on ``cron`` (``TIKTOK_PRODUCT_CATALOG_CRON``,
    by default Sundays at 03:00 UTC):
    catches products whose deletion (or any change) push was lost. Skipped while a catalog
    run is still queued or running."""

    @dg.schedule(
        name="tiktok_product_catalog_schedule",
        job=product_catalog_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Pull every active shop's whole product catalog (weekly by default).",
    )
    def weekly_catalog(context: dg.ScheduleEvaluationContext):
        if run_in_flight(context.instance, CATALOG_JOB_NAME):
            return dg.SkipReason("a product catalog run is still queued or running")
        return dg.RunRequest(
            run_config=catalog_run_config(None), tags={"tiktok/trigger": "weekly_catalog"}
        )

    return weekly_catalog
