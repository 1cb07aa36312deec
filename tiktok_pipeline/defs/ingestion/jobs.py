"""The sync job and the analysts' view in the asset graph."""

from collections.abc import Iterable, Sequence

import dagster as dg

from tiktok_pipeline.defs.ingestion.assets import GROUP, column_schema
from tiktok_pipeline.defs.ingestion.entities import ENTITIES, FINANCE_GROUP

sync_job = dg.define_asset_job(
    "tiktok_sync_job",
    selection=dg.AssetSelection.assets(
        *(table for entity in ENTITIES.values() for table in entity.tables)
    ),
    description=(
        "Pull orders, products, returns, cancellations, statements and their transactions, "
        "payments and withdrawals of the selected days into the warehouse."
    ),
)

daily_sales = dg.AssetSpec(
    "tiktok_daily_sales",
    deps=["tiktok_orders", "tiktok_order_line_items", "tiktok_returns"],
    description=(
        "A SQL view: per shop, UTC day and currency, orders, units, gross merchandise value, "
        "discounts, net sales, shipping, taxes and refunds. Always current: it reads the "
        "order and return tables."
    ),
    group_name=GROUP,
    kinds={"sql", "view"},
    metadata={"dagster/column_schema": column_schema("tiktok_daily_sales")},
)


order_settlements = dg.AssetSpec(
    "tiktok_order_settlements",
    deps=["tiktok_statement_transactions", "tiktok_statements", "tiktok_payments"],
    description=(
        "A SQL view: per shop and settled order, what it paid the seller (revenue, fees and "
        "taxes, shipping, adjustments, settlement) added up over its statement transactions, "
        "with the statement and the payment that paid it out. Join it to tiktok_orders on "
        "(shop_id, order_id) to reconcile an order to its payout."
    ),
    group_name=FINANCE_GROUP,
    kinds={"sql", "view"},
    metadata={"dagster/column_schema": column_schema("tiktok_order_settlements")},
)


def sync_run_config(shop_ids: Sequence[str], entities: Iterable[str] = ENTITIES) -> dict:
    """Run config that restricts the sync assets of ``entities`` (default: all) to ``shop_ids``."""
    return {"ops": {f"sync_{name}": {"config": {"shops": list(shop_ids)}} for name in entities}}
