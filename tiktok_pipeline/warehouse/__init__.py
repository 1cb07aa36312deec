"""The warehouse: analytic tables of TikTok orders, products, returns, cancellations and
finance (statements, their transactions, payments, withdrawals, unsettled transactions).

Turns TikTok JSON objects (exactly as the API returns them) into typed rows and writes them in
bulk, newest ``update_time`` wins (finance objects have none: changed content replaces them).
Knows neither HTTP nor Dagster.

    wh = Warehouse.from_url()
    with wh.begin() as tx:
        result = tx.load(ORDER_TABLES, shop_id, orders, source="poll")
        tx.record_sync(shop_id=shop_id, entity="orders", window_start=start,
                       window_end=end, result=result, api_total_count=total)
"""

from tiktok_pipeline.warehouse.engine import warehouse_engine
from tiktok_pipeline.warehouse.ledger import LedgerEntry
from tiktok_pipeline.warehouse.migrate import MIGRATIONS_DIR, VERSION_TABLE
from tiktok_pipeline.warehouse.objects import (
    CANCELLATION_TABLES,
    ORDER_TABLES,
    PAYMENT_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    UNSETTLED_TABLES,
    WITHDRAWAL_TABLES,
    ObjectTables,
)
from tiktok_pipeline.warehouse.result import LoadResult, TableCounts
from tiktok_pipeline.warehouse.schema import metadata
from tiktok_pipeline.warehouse.warehouse import (
    Warehouse,
    WarehouseTransaction,
    upgrade_warehouse,
)

__all__ = [
    "CANCELLATION_TABLES",
    "MIGRATIONS_DIR",
    "ORDER_TABLES",
    "PAYMENT_TABLES",
    "PRODUCT_TABLES",
    "RETURN_TABLES",
    "STATEMENT_TABLES",
    "STATEMENT_TRANSACTION_TABLES",
    "UNSETTLED_TABLES",
    "VERSION_TABLE",
    "WITHDRAWAL_TABLES",
    "LedgerEntry",
    "LoadResult",
    "ObjectTables",
    "TableCounts",
    "Warehouse",
    "WarehouseTransaction",
    "metadata",
    "upgrade_warehouse",
    "warehouse_engine",
]
