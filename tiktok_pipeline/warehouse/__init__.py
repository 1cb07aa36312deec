"""The warehouse: analytic tables of TikTok orders, products and returns.

Turns TikTok JSON objects (exactly as the API returns them) into typed rows and writes them in
bulk, newest ``update_time`` wins. Knows neither HTTP nor Dagster.

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
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
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
    "MIGRATIONS_DIR",
    "ORDER_TABLES",
    "PRODUCT_TABLES",
    "RETURN_TABLES",
    "VERSION_TABLE",
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
