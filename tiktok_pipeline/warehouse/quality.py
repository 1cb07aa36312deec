"""Queries behind the asset checks: duplicate ids, orphan children, incomplete or stale syncs.

The finance reconciliations (statements and payments that do not add up) are in
:mod:`~tiktok_pipeline.warehouse.finance_quality`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tiktok_pipeline.warehouse.finance_quality import (  # noqa: F401 (re-exported)
    FinanceMismatch,
    payment_mismatches,
    statement_mismatches,
)
from tiktok_pipeline.warehouse.objects import OBJECT_TABLES
from tiktok_pipeline.warehouse.schema import metadata, sync_ledger

#: parent table -> its id column; child table -> (parent table, child's link column).
PARENT_IDS = {tables.table.name: tables.key_column for tables in OBJECT_TABLES.values()}
CHILD_LINKS = {
    "tiktok_order_line_items": ("tiktok_orders", "order_id"),
    "tiktok_product_skus": ("tiktok_products", "product_id"),
    "tiktok_product_sku_inventory": ("tiktok_product_skus", "sku_id"),
    "tiktok_return_line_items": ("tiktok_returns", "return_id"),
    "tiktok_cancellation_line_items": ("tiktok_cancellations", "cancel_id"),
}
SAMPLE = 10


def ids_in_several_shops(connection: sa.Connection, table_name: str) -> list[str]:
    """Ids stored under more than one shop (a shop/cipher mix-up); at most 10 of them."""
    table = metadata.tables[table_name]
    id_column = table.c[PARENT_IDS[table_name]]
    query = (
        sa.select(id_column)
        .group_by(id_column)
        .having(sa.func.count(sa.distinct(table.c.shop_id)) > 1)
        .limit(SAMPLE)
    )
    return [str(row[0]) for row in connection.execute(query)]


def orphan_children(connection: sa.Connection, child_name: str) -> tuple[int, list[str]]:
    """How many rows of ``child_name`` have no parent row, and up to 10 of their keys."""
    child = metadata.tables[child_name]
    parent_name, link = CHILD_LINKS[child_name]
    parent = metadata.tables[parent_name]
    parent_id = parent.c[PARENT_IDS.get(parent_name, "id")]
    missing = ~sa.exists().where(parent.c.shop_id == child.c.shop_id, parent_id == child.c[link])
    count = connection.execute(sa.select(sa.func.count()).select_from(child).where(missing))
    total = int(count.scalar_one())
    sample = connection.execute(
        sa.select(child.c.shop_id, child.c[link]).where(missing).distinct().limit(SAMPLE)
    )
    return total, [f"{shop}/{parent_key}" for shop, parent_key in sample]


@dataclass(frozen=True)
class CountMismatch:
    """A synced window whose distinct items differ from TikTok's ``total_count``."""

    shop_id: str
    window_start: datetime
    api_total_count: int | None
    items_received: int | None


def count_mismatches(
    connection: sa.Connection, entity: str, run_id: str | None, since: datetime | None = None
) -> tuple[int, list[CountMismatch]]:
    """Successful syncs of ``run_id`` (or since ``since``) that landed another count than TikTok's.

    Returns the number of windows checked and the mismatches.
    """
    ledger = sync_ledger
    condition = sa.and_(ledger.c.entity == entity, ledger.c.status == "success")
    if run_id is not None:
        condition = sa.and_(condition, ledger.c.run_id == run_id)
    if since is not None:
        condition = sa.and_(condition, ledger.c.finished_at >= since)
    rows = connection.execute(
        sa.select(
            ledger.c.shop_id,
            ledger.c.window_start,
            ledger.c.api_total_count,
            ledger.c.items_received,
        ).where(condition)
    ).all()
    mismatches = [
        CountMismatch(*row)
        for row in rows
        if row.api_total_count is not None and row.api_total_count != row.items_received
    ]
    return len(rows), mismatches


def last_successful_sync(
    connection: sa.Connection, entity: str, shop_ids: Iterable[str]
) -> dict[str, datetime | None]:
    """For each shop, the end of the newest window synced successfully (None: never)."""
    shop_ids = list(shop_ids)
    found: dict[str, datetime | None] = dict.fromkeys(shop_ids)
    if not shop_ids:
        return found
    ledger = sync_ledger
    rows = connection.execute(
        sa.select(ledger.c.shop_id, sa.func.max(ledger.c.window_end))
        .where(
            ledger.c.entity == entity,
            ledger.c.status == "success",
            ledger.c.shop_id.in_(shop_ids),
        )
        .group_by(ledger.c.shop_id)
    )
    # MAX() keeps the column's type, so SQLite's text comes back as an aware datetime too.
    found.update(dict(rows.all()))
    return found


def row_counts(connection: sa.Connection, table_names: Iterable[str]) -> dict[str, int]:
    """The number of rows of each table."""
    return {
        name: int(
            connection.execute(
                sa.select(sa.func.count()).select_from(metadata.tables[name])
            ).scalar_one()
        )
        for name in table_names
    }


def shops_synced_since(
    connection: sa.Connection, entity: str, shop_ids: Iterable[str], since: datetime
) -> set[str]:
    """Shops that already have ``entity`` synced successfully back to ``since`` or earlier."""
    shop_ids = list(shop_ids)
    if not shop_ids:
        return set()
    ledger = sync_ledger
    rows = connection.execute(
        sa.select(ledger.c.shop_id)
        .where(
            ledger.c.entity == entity,
            ledger.c.status == "success",
            ledger.c.window_start <= since,
            ledger.c.shop_id.in_(shop_ids),
        )
        .distinct()
    )
    return set(rows.scalars())
