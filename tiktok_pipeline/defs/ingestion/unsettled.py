"""The unsettled transactions: a snapshot of each shop's current list, replaced every hour."""

import time
from collections import defaultdict
from decimal import Decimal

import dagster as dg

from tiktok_pipeline.config import DEFAULT_UNSETTLED_CRON
from tiktok_pipeline.defs.ingestion.assets import POOL, column_schema
from tiktok_pipeline.defs.ingestion.entities import FINANCE_GROUP
from tiktok_pipeline.defs.ingestion.finance_fetch import fetch_unsettled_transactions
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.defs.runs import run_in_flight
from tiktok_pipeline.warehouse import UNSETTLED_TABLES, LoadResult, Warehouse
from tiktok_pipeline.warehouse.convert import money

ASSET = "tiktok_unsettled_transactions"


def replace_shop(warehouse: Warehouse, shop_id: str, transactions: list[dict]) -> LoadResult:
    """Make ``transactions`` the shop's rows, in one database transaction: a reader sees the
    previous list or the new one, never a mix."""
    with warehouse.begin() as tx:
        return tx.replace_snapshot(UNSETTLED_TABLES, shop_id, transactions)


def settlement_by_currency(transactions: list[dict]) -> dict[str, Decimal]:
    """The estimated settlement of ``transactions`` per currency, exact (a transaction without
    an estimate counts for nothing)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in transactions:
        totals[str(item.get("currency") or "")] += money(item.get("est_settlement_amount")) or 0
    return dict(sorted(totals.items()))


@dg.asset(
    name=ASSET,
    group_name=FINANCE_GROUP,
    kinds={"tiktok", "sql"},
    pool=POOL,
    metadata={"dagster/column_schema": column_schema(ASSET), "dagster/table_name": ASSET},
)
def unsettled_transactions(
    context: dg.AssetExecutionContext,
    tiktok: TikTokResource,
    store: StoreResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Orders paid but not settled yet, with TikTok's estimate of what each will pay out.

    A snapshot, not a partitioned history: TikTok's unsettled list holds only what is pending
    right now, and a transaction leaves it when it settles (it then appears in a statement, in
    `tiktok_statement_transactions`). No time window can tell what left the list, so each run
    walks each active shop's whole list and replaces that shop's rows at once (one database
    transaction per shop): the table is always the list as TikTok last showed it.
    """
    started = time.perf_counter()
    the_warehouse = warehouse.get()
    shops = [shop.id for shop in store.active_shops()]
    per_shop: list[dict] = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    failures: dict[str, BaseException] = {}
    for shop_id in shops:
        try:
            transactions = list(fetch_unsettled_transactions(tiktok.shop(shop_id)))
            counts = replace_shop(the_warehouse, shop_id, transactions).counts(ASSET)
            by_currency = settlement_by_currency(transactions)
        except Exception as error:  # one shop's failure must not keep the others stale
            failures[shop_id] = error
            context.log.warning(
                "unsettled transactions of shop %s: %s: %s", shop_id, type(error).__name__, error
            )
            continue
        for currency, amount in by_currency.items():
            totals[currency] += amount
        per_shop.append(
            {
                "shop_id": shop_id,
                "transactions": len(transactions),
                "inserted": counts.inserted,
                "updated": counts.updated,
                "settled_and_removed": counts.deleted,
                "est_settlement": ", ".join(f"{a} {c}" for c, a in by_currency.items()),
            }
        )
    metadata = {
        "shops": len(shops),
        "failed_shops": len(failures),
        "transactions": sum(shop["transactions"] for shop in per_shop),
        "est_settlement_by_currency": dg.MetadataValue.json(
            {currency: str(amount) for currency, amount in sorted(totals.items())}
        ),
        "per_shop": dg.MetadataValue.json(per_shop),
        "duration_seconds": round(time.perf_counter() - started, 3),
    }
    if failures:
        raise dg.Failure(
            description=(
                f"{len(failures)} of {len(shops)} shop(s) failed to snapshot their unsettled "
                "transactions (their previous rows are kept): "
                + "; ".join(f"{shop}: {type(e).__name__}: {e}" for shop, e in failures.items())
                + ". The other shops' rows were replaced."
            ),
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


unsettled_job = dg.define_asset_job(
    "tiktok_unsettled_job",
    selection=dg.AssetSelection.assets(ASSET),
    description="Replace each active shop's unsettled transactions with TikTok's current list.",
)


def build_unsettled_schedule(cron: str = DEFAULT_UNSETTLED_CRON) -> dg.ScheduleDefinition:
    """The schedule of the unsettled-transactions snapshot (hourly by default); a tick is
    skipped while the previous snapshot still runs."""

    @dg.schedule(
        name="tiktok_unsettled_schedule",
        job=unsettled_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Snapshot every active shop's unsettled transactions.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if run_in_flight(context.instance, unsettled_job.name):
            return dg.SkipReason("an unsettled-transactions snapshot is still queued or running")
        return dg.RunRequest()

    return schedule
