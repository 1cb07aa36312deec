"""The writer of a connection's backend.

Each batch has two halves: :meth:`~tiktok_pipeline.warehouse.batch.Writer.pack` turns rows
into what the driver sends (pure Python, no database) and
:meth:`~tiktok_pipeline.warehouse.batch.Writer.write` sends a batch: its parents, then the
children of the parents actually written. The loader packs the next batch while the previous
one is being written. Writers use only the caller's connection and never commit.

- SQLite (:mod:`~tiktok_pipeline.warehouse.sqlite_writer`): the load takes the write lock
  first, then ``executemany`` of the guarded upsert.
- Postgres (:mod:`~tiktok_pipeline.warehouse.postgres_writer`): COPY straight into the tables
  inside a savepoint; on a race with another writer (or past 32 savepoints) one guarded upsert
  per batch, ``RETURNING`` what it wrote.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.warehouse.batch import Writer
from tiktok_pipeline.warehouse.mapping import Context
from tiktok_pipeline.warehouse.postgres_writer import PostgresWriter
from tiktok_pipeline.warehouse.sqlite_writer import SQLiteWriter


def writer_for(connection: sa.Connection, ctx: Context) -> Writer:
    """The writer for ``connection``'s backend, for one load of ``ctx.shop_id``'s rows."""
    if connection.dialect.name == "postgresql":
        return PostgresWriter(connection, ctx)
    if connection.dialect.name == "sqlite":
        return SQLiteWriter(connection, ctx)
    raise NotImplementedError(
        f"the warehouse supports SQLite and PostgreSQL, not {connection.dialect.name!r}; "
        "set TIKTOK_WAREHOUSE_URL to a sqlite:// or postgresql:// URL"
    )
