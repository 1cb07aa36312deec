"""The sync ledger: one row per sync attempt of a (shop, entity, window), read by the checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.warehouse import columns, schema
from tiktok_pipeline.warehouse.objects import OBJECT_TABLES
from tiktok_pipeline.warehouse.result import LoadResult

#: Failed syncs keep this much of the error text; the rest is cut (the run's logs have it all).
MAX_ERROR_CHARS = 8000


@dataclass(frozen=True)
class LedgerEntry:
    """One row of ``tiktok_sync_ledger``."""

    id: int
    shop_id: str
    entity: str
    window_start: datetime
    window_end: datetime
    status: str
    api_total_count: int | None
    items_received: int | None
    pages: int | None
    inserted: int | None
    updated: int | None
    unchanged: int | None
    stale: int | None
    run_id: str | None
    partition_key: str | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValueError(f"{name} must be an aware UTC datetime, got {value!r}")


def check_entity(entity: str) -> str:
    """``entity`` if it is one of orders/products/returns; otherwise a ValueError saying so."""
    if entity not in OBJECT_TABLES:
        raise ValueError(f"entity must be one of {', '.join(OBJECT_TABLES)}; got {entity!r}")
    return entity


def sync_row(
    *,
    shop_id: str,
    entity: str,
    window_start: datetime,
    window_end: datetime,
    status: str,
    api_total_count: int | None,
    items_received: int | None,
    pages: int | None,
    result: LoadResult | None,
    run_id: str | None,
    partition_key: str | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    error: str | None,
) -> dict[str, Any]:
    """Validates the arguments of a ledger entry and returns its row."""
    if not shop_id:
        raise ValueError("shop_id is required for a sync ledger entry")
    check_entity(entity)
    if status not in columns.SYNC_STATUSES:
        raise ValueError(f"status must be 'success' or 'failed'; got {status!r}")
    for name, value in (
        ("window_start", window_start),
        ("window_end", window_end),
        ("started_at", started_at),
        ("finished_at", finished_at),
    ):
        _check_aware(name, value)
    if window_start is None or window_end is None or window_end < window_start:
        raise ValueError(
            f"a sync window needs window_start <= window_end (half-open, UTC); got "
            f"[{window_start}, {window_end})"
        )
    parent = OBJECT_TABLES[entity].table.name
    counts = result.counts(parent) if result is not None else None
    if items_received is None and counts is not None:
        items_received = counts.received
    return {
        "shop_id": shop_id,
        "entity": entity,
        "window_start": window_start,
        "window_end": window_end,
        "status": status,
        "api_total_count": api_total_count,
        "items_received": items_received,
        "pages": pages,
        "inserted": counts.inserted if counts else None,
        "updated": counts.updated if counts else None,
        "unchanged": counts.unchanged if counts else None,
        "stale": counts.stale if counts else None,
        "run_id": run_id,
        "partition_key": partition_key,
        "started_at": started_at,
        "finished_at": finished_at or utcnow(),
        "error": error[:MAX_ERROR_CHARS] if error else error,
    }


def insert(connection: sa.Connection, row: dict[str, Any]) -> int:
    """Inserts a ledger row and returns its id."""
    table = schema.sync_ledger
    return connection.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()


def latest_success(
    connection: sa.Connection, entity: str, column: str = "window_end"
) -> dict[str, datetime]:
    """Per shop, the latest ``window_end`` (or ``finished_at``) of a successful sync."""
    check_entity(entity)
    if column not in ("window_end", "finished_at"):
        raise ValueError(f"column must be 'window_end' or 'finished_at'; got {column!r}")
    table = schema.sync_ledger
    # max() keeps the column's type, so SQLite's naive values come back as aware UTC.
    query = (
        sa.select(table.c.shop_id, sa.func.max(table.c[column]))
        .where(table.c.entity == entity, table.c.status == "success")
        .group_by(table.c.shop_id)
    )
    return {shop_id: latest for shop_id, latest in connection.execute(query) if latest}


def windows(
    connection: sa.Connection,
    entity: str,
    window_start: datetime,
    window_end: datetime,
    *,
    shop_id: str | None = None,
    latest_only: bool = True,
) -> list[LedgerEntry]:
    """Ledger entries of ``entity`` whose windows overlap ``[window_start, window_end)``.

    With ``latest_only`` (the default) only the most recent attempt of each (shop, window)
    is returned, so a failure followed by a successful retry reads as a success.
    """
    check_entity(entity)
    _check_aware("window_start", window_start)
    _check_aware("window_end", window_end)
    table = schema.sync_ledger
    query = sa.select(table).where(
        table.c.entity == entity,
        table.c.window_start < window_end,
        table.c.window_end > window_start,
    )
    if shop_id is not None:
        query = query.where(table.c.shop_id == shop_id)
    query = query.order_by(table.c.shop_id, table.c.window_start, table.c.window_end, table.c.id)
    entries = [LedgerEntry(**row._mapping) for row in connection.execute(query)]
    if not latest_only:
        return entries
    latest: dict[tuple, LedgerEntry] = {}
    for entry in entries:
        latest[(entry.shop_id, entry.window_start, entry.window_end)] = entry
    return list(latest.values())
