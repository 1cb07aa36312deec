"""SQLite writes: the guarded upsert with the sqlite3 module's ``executemany``.

The load first takes the database's write lock (``BEGIN IMMEDIATE``), so nothing can change
between reading the stored versions and writing: the loader's plan is what gets written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.batch import (
    Batch,
    Child,
    Row,
    Written,
    guarded_upsert,
    replacing_upsert,
    update_time_of,
)
from tiktok_pipeline.warehouse.mapping import Context
from tiktok_pipeline.warehouse.types import SerializedJSON


class _Statement:
    """A compiled upsert run with the sqlite3 module's own executemany.

    SQLAlchemy's per-parameter processing would cost more than SQLite's work, so values are
    converted here by their class, the same way the column types would convert them.
    """

    def __init__(self, statement: sa.Insert, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names = list(compiled.positiontup or ())
        bind_datetime = UTCDateTime().bind_processor(dialect)
        assert bind_datetime is not None  # it always converts
        self.convert: dict[type, Callable[[Any], Any]] = {
            Decimal: float,  # what Numeric binds on SQLite, which has no decimal type
            datetime: bind_datetime,
            SerializedJSON: str,
            list: json.dumps,
            dict: json.dumps,
        }

    def pack(self, rows: Sequence[Row]) -> list[tuple]:
        """The parameter tuples of ``rows``."""
        names, convert = self.names, self.convert
        return [
            tuple(
                [
                    convert[value.__class__](value) if value.__class__ in convert else value
                    for value in map(row.__getitem__, names)
                ]
            )
            for row in rows
        ]


class SQLiteWriter:
    """Writes with executemany under SQLite's write lock."""

    _statements: ClassVar[dict[str, _Statement]] = {}

    def __init__(self, connection: sa.Connection, ctx: Context) -> None:
        self.connection = connection
        self.shop_id = ctx.shop_id

    def _statement(self, table: sa.Table) -> _Statement:
        statement = self._statements.get(table.name)
        if statement is None:
            build = guarded_upsert if "_row_hash" in table.c else replacing_upsert
            statement = _Statement(build(sqlite.insert(table), table), self.connection.dialect)
            self._statements[table.name] = statement
        return statement

    def lock(self) -> None:
        """Takes the write lock now unless this transaction already has it.

        The sqlite3 module opens a transaction only at the first INSERT/UPDATE/DELETE, so
        the SELECT of stored versions would otherwise read outside of it.
        """
        dbapi_connection = self.connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            self.connection.exec_driver_sql("BEGIN IMMEDIATE")

    def stored_versions(
        self, table: sa.Table, key: str, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str]]:
        """``key -> (update_time, _row_hash)`` of the shop's stored rows among ``keys``."""
        key_column = table.c[key]
        query = sa.select(key_column, update_time_of(table), table.c._row_hash).where(
            table.c.shop_id == self.shop_id, key_column.in_(keys)
        )
        rows = self.connection.execute(query)
        return {k: (update_time, digest) for k, update_time, digest in rows}

    def pack(self, table: sa.Table, rows: Sequence[Row]) -> list[tuple]:
        """Parameters of the upsert of ``rows`` into ``table``."""
        return self._statement(table).pack(rows)

    def write(self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch) -> Written:
        """Upserts the batch's parents, then replaces their children: all as planned (the
        lock rules out other writers, so the stored versions read before are still current).
        """
        if batch.packed:
            self.connection.exec_driver_sql(self._statement(table).sql, batch.packed)
        written = Written()
        for parent in batch.parents:
            (written.inserted if parent.key in batch.new else written.updated).append(parent.key)
        for child in children:
            deleted = 0
            if written.updated:  # an inserted parent had no row, hence no children
                result = self.connection.execute(
                    sa.delete(child.table).where(
                        child.table.c.shop_id == self.shop_id,
                        child.table.c[child.parent_column].in_(written.updated),
                    )
                )
                deleted = max(result.rowcount or 0, 0)
            packed, count = batch.children[child.table.name]
            if packed:
                self.connection.exec_driver_sql(self._statement(child.table).sql, packed)
            written.children[child.table.name] = (count, deleted)
        return written
