"""Small SQL helpers shared by the store's modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def upsert_insert(connection: sa.Connection, table: sa.Table) -> Any:
    """An INSERT that supports ``on_conflict_do_update``/``_do_nothing`` on this backend."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(
        f"the operational store supports SQLite and PostgreSQL, not {name!r}; "
        "set TIKTOK_DATABASE_URL to a sqlite:/// or postgresql+psycopg2:// URL"
    )


def fitting(column: sa.Column, value: Any) -> Any:
    """``value`` when it fits ``column``'s declared length, else ValueError naming the column.

    SQLite stores any length; Postgres refuses what does not fit. Checking first makes both
    refuse alike, with a message that names the column and never repeats the value.
    """
    length = getattr(column.type, "length", None)
    if isinstance(value, str) and length is not None and len(value) > length:
        raise ValueError(f"`{column.name}` is longer than {length} characters")
    return value


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (keeps IN lists below driver limits)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def delete_in_batches(
    engine: sa.Engine,
    table: sa.Table,
    *conditions: sa.ColumnElement[bool],
    batch_size: int = 1000,
    dry_run: bool = False,
) -> int:
    """Delete the rows of ``table`` matching ``conditions``; returns how many went.

    Rows go lowest ``id`` first, ``batch_size`` per transaction, so a large purge never holds
    long locks. ``dry_run`` counts the matching rows instead and deletes nothing.
    """
    if dry_run:
        count = sa.select(sa.func.count()).select_from(table).where(*conditions)
        with engine.connect() as conn:
            return int(conn.execute(count).scalar_one())
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    ids = sa.select(table.c.id).where(*conditions).order_by(table.c.id).limit(batch_size)
    total = 0
    while True:
        with engine.begin() as conn:
            batch = conn.execute(ids).scalars().all()
            if not batch:
                return total
            conn.execute(sa.delete(table).where(table.c.id.in_(batch)))
        total += len(batch)
