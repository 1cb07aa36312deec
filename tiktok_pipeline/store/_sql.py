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


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size`` (keeps IN lists below driver limits)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
