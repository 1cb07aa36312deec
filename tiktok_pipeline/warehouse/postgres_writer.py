"""Postgres writes: straight ``COPY`` into the tables, a guarded upsert when racing.

The common case (a backfill, with nobody else writing the same keys at that moment) takes the
direct path, inside a savepoint: the batch deletes its changed parents where the stored row is
still older and not identical (``DELETE ... RETURNING``, the upsert's guard), then copies the
new versions, the new parents and the children of both straight into the tables (rows as
``COPY`` text, see :mod:`~tiktok_pipeline.warehouse.copy_text`).

Another transaction may write the same rows at the same time: then a delete misses a row or a
copy fails on a primary key, the savepoint is rolled back and the batch takes the guarded
path: one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE`` (never back in time, never
over an identical row) per table, its rows sent as one JSON array, ``RETURNING`` the parents
it really wrote. Postgres judges each row against its newest committed version there,
waiting for the other writer to finish. The guarded path costs the server about half as much
again as the direct one (bench/warehouse_load.py), hence the direct path first.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.warehouse.batch import (
    Batch,
    Child,
    Row,
    Written,
    child_rows,
    guarded_upsert,
    replacing_upsert,
    update_time_of,
)
from tiktok_pipeline.warehouse.copy_text import CopyFormat, shared_suffix
from tiktok_pipeline.warehouse.mapping import Context
from tiktok_pipeline.warehouse.types import RawJSON

logger = logging.getLogger(__name__)

#: Savepoints (subtransactions) one transaction may use for direct copies. Postgres keeps 64
#: subtransactions per transaction in shared memory; beyond that, every other session's
#: snapshot gets slower while the transaction runs. Later batches take the guarded path.
MAX_SAVEPOINTS = 32
_SAVEPOINT = "SAVEPOINT tiktok_warehouse_copy"
_RELEASE = "RELEASE SAVEPOINT tiktok_warehouse_copy"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT tiktok_warehouse_copy"
_UNIQUE_VIOLATION = "23505"


class _Raced(Exception):
    """A stored row changed between the load's look at it and its write."""


def _is_unique_violation(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
    return getattr(orig, "pgcode", None) == _UNIQUE_VIOLATION


def _compiled(statement: sa.ClauseElement) -> tuple[str, dict[str, Any]]:
    sql = statement.compile(dialect=postgresql.dialect())
    return str(sql), dict(sql.params)


def _wanted(*arrays: tuple[str, str, sa.types.TypeEngine], name: str) -> sa.TableValuedAlias:
    """``unnest(:keys, ...) AS name(id, ...)``: the rows a statement looks up, from arrays
    given as ``(parameter, column, element type)``."""
    params = [sa.bindparam(param, type_=postgresql.ARRAY(type_)) for param, _, type_ in arrays]
    columns = [column for _, column, _ in arrays]
    return sa.func.unnest(*params).table_valued(*columns).render_derived(name=name)


_KEYS = ("keys", "id", sa.String())

# The lookups below walk the given keys and probe the index for each (a LATERAL subquery,
# which the planner cannot turn into a hash join). Written as ``key = ANY(:keys)``, a fresh
# table without statistics gets a plan that reads every row of the shop for each batch:
# quadratic during the first minutes of a backfill, until autovacuum analyses the table.


def _stored_versions(table: sa.Table, key: str) -> sa.Select:
    """``key, update_time, _row_hash`` of the stored rows among ``:keys`` of ``:shop_id``."""
    wanted = _wanted(_KEYS, name="wanted")
    stored = (
        sa.select(table.c[key], update_time_of(table), table.c._row_hash)
        .where(table.c.shop_id == sa.bindparam("shop_id"), table.c[key] == wanted.c.id)
        .limit(1)
        .lateral("stored")
    )
    return sa.select(stored.c[key], stored.c.update_time, stored.c._row_hash).select_from(
        wanted.join(stored, sa.true())
    )


def _delete_where(
    table: sa.Table,
    wanted: sa.TableValuedAlias,
    conditions: Callable[[sa.FromClause], tuple[sa.ColumnElement[bool], ...]],
) -> sa.Delete:
    """DELETE the rows of ``table`` (``old`` in ``conditions``) that match ``conditions``
    for a row of ``wanted``."""
    old = table.alias("old")
    found = (
        sa.select(sa.literal_column("ctid"))
        .select_from(old)
        .where(old.c.shop_id == sa.bindparam("shop_id"), *conditions(old))
        .offset(0)
        .lateral("found")
    )
    row_ids = sa.select(found.c.ctid).select_from(wanted.join(found, sa.true()))
    return sa.delete(table).where(
        sa.literal_column("ctid") == sa.any_(sa.func.array(row_ids.scalar_subquery()))
    )


def _delete_children(table: sa.Table, parent_column: str) -> sa.Delete:
    """DELETE the rows of ``table`` whose ``parent_column`` is among ``:keys`` of ``:shop_id``."""
    parents = _wanted(_KEYS, name="parents")
    return _delete_where(table, parents, lambda old: (old.c[parent_column] == parents.c.id,))


def _delete_older(table: sa.Table, key: str) -> sa.ClauseElement:
    """DELETE ... RETURNING the stored rows of ``:keys`` that ``:update_times`` and
    ``:row_hashes`` replace: not newer and not identical (the guard of the upsert). A table
    without ``update_time`` takes no ``:update_times``: any other hash replaces its rows.

    A row another transaction changes meanwhile has a new ctid: it is left alone, and the
    batch then takes the guarded path, which judges the row's newest version.
    """
    if "update_time" not in table.c:
        wanted = _wanted(_KEYS, ("row_hashes", "row_hash", sa.String()), name="wanted")
        return _delete_where(
            table,
            wanted,
            lambda old: (old.c[key] == wanted.c.id, old.c._row_hash != wanted.c.row_hash),
        ).returning(table.c[key])
    wanted = _wanted(
        _KEYS,
        ("update_times", "update_time", sa.BigInteger()),
        ("row_hashes", "row_hash", sa.String()),
        name="wanted",
    )
    return _delete_where(
        table,
        wanted,
        lambda old: (
            old.c[key] == wanted.c.id,
            sa.or_(old.c.update_time.is_(None), old.c.update_time <= wanted.c.update_time),
            old.c._row_hash != wanted.c.row_hash,
        ),
    ).returning(table.c[key])


def _upsert_from_json(table: sa.Table) -> sa.Insert:
    """The guarded upsert (parents, ``RETURNING`` what it wrote) or the replacing one
    (children) of the rows of ``:rows``, a JSON array of objects (``json_populate_recordset``
    gives them the table's row type)."""
    names = [c.name for c in table.columns]
    preparer = postgresql.dialect().identifier_preparer
    source = sa.text(f"json_populate_recordset(NULL::{preparer.format_table(table)}, :rows) r")
    insert = postgresql.insert(table).from_select(
        names, sa.select(*(sa.column(name) for name in names)).select_from(source)
    )
    if "_row_hash" not in table.c:
        return replacing_upsert(insert, table)
    (key,) = (c for c in table.primary_key.columns if c.name != "shop_id")
    inserted = sa.literal_column("xmax = 0", sa.Boolean).label("inserted")
    return guarded_upsert(insert, table).returning(key, inserted)


def _amount(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to Postgres")


def _json_rows(table: sa.Table, rows: Sequence[Row]) -> str:
    """``rows`` as one JSON array: raw JSON embedded as it is, amounts as strings."""
    raw = [c.name for c in table.columns if isinstance(c.type, RawJSON)]
    if raw:
        (name,) = raw
        rows = [{**row, name: orjson.Fragment(str(row[name]))} for row in rows]
    return orjson.dumps(rows, default=_amount).decode()


@dataclass
class _TransactionState:
    """What the writers did so far in one transaction (kept in ``connection.info``)."""

    transaction: Any
    savepoints: int = 0
    copy_conflicts: bool = False  # a direct copy met a concurrent writer's row


class PostgresWriter:
    """Writes with COPY, or with the guarded upsert (see the module's docstring)."""

    _formats: ClassVar[dict[str, CopyFormat]] = {}
    _sql: ClassVar[dict[tuple[str, str], tuple[str, dict[str, Any]]]] = {}

    def __init__(self, connection: sa.Connection, ctx: Context) -> None:
        self.connection = connection
        self.shop_id = ctx.shop_id
        self.shared = shared_suffix(ctx.shop_id, ctx.synced_at, ctx.source)

    @classmethod
    def _format(cls, table: sa.Table) -> CopyFormat:
        found = cls._formats.get(table.name)
        if found is None:
            found = cls._formats[table.name] = CopyFormat(table)
        return found

    def _execute(self, table: sa.Table, kind: str, key: str = "", **params: Any) -> Any:
        """Runs one of the writer's statements on ``table`` with ``params``."""
        compiled = self._sql.get((table.name, kind))
        if compiled is None:
            if kind == "versions":
                statement: sa.ClauseElement = _stored_versions(table, key)
            elif kind == "delete_older":
                statement = _delete_older(table, key)
            elif kind == "delete_children":
                statement = _delete_children(table, key)
            else:
                statement = _upsert_from_json(table)
            compiled = self._sql[(table.name, kind)] = _compiled(statement)
        sql, defaults = compiled
        return self.connection.exec_driver_sql(sql, {**defaults, **params})

    def _copy(self, table: sa.Table, packed: str) -> None:
        dbapi_connection = self.connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            data = io.BytesIO(packed.encode("utf-8"))
            cursor.copy_expert(self._format(table).sql, data, size=1 << 20)
        finally:
            cursor.close()

    def _state(self) -> _TransactionState:
        transaction = self.connection.get_transaction()
        state = self.connection.info.get("tiktok_warehouse")
        if state is None or state.transaction is not transaction:
            state = self.connection.info["tiktok_warehouse"] = _TransactionState(transaction)
        return state

    def lock(self) -> None:
        """Nothing to do: both paths judge rows against their newest committed version."""

    def stored_versions(
        self, table: sa.Table, key: str, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str]]:
        """``key -> (update_time, _row_hash)`` of the shop's stored rows among ``keys``."""
        result = self._execute(table, "versions", key, shop_id=self.shop_id, keys=list(keys))
        return {k: (update_time, digest) for k, update_time, digest in result}

    def pack(self, table: sa.Table, rows: Sequence[Row]) -> str:
        """``rows`` as COPY text for ``table``."""
        return self._format(table).pack(rows, self.shared)

    def write(self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch) -> Written:
        """Writes the batch's parents, then replaces the children of those written.

        The direct path inside a savepoint first; the guarded path when that savepoint had to
        be rolled back, and for the rest of the transaction once a copy met another writer's
        row or the transaction used its savepoints.
        """
        state = self._state()
        if state.copy_conflicts or state.savepoints >= MAX_SAVEPOINTS:
            return self._write_guarded(table, children, batch)
        state.savepoints += 1
        self.connection.exec_driver_sql(_SAVEPOINT)
        try:
            written = self._write_direct(table, key, children, batch)
        except Exception as exc:  # the driver's error from COPY, or SQLAlchemy's
            if not isinstance(exc, _Raced) and not _is_unique_violation(exc):
                raise
            self.connection.exec_driver_sql(_ROLLBACK_TO)
            self.connection.exec_driver_sql(_RELEASE)
            if not isinstance(exc, _Raced):
                state.copy_conflicts = True
            logger.info(
                "another transaction wrote some of the same %s rows of shop %s meanwhile; "
                "writing them with the guarded upsert",
                table.name,
                self.shop_id,
            )
            return self._write_guarded(table, children, batch)
        self.connection.exec_driver_sql(_RELEASE)
        return written

    def _write_direct(
        self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch
    ) -> Written:
        """Deletes the changed parents where still older, copies the batch's parents and
        their children.

        Raises:
            _Raced: a changed parent was no longer older than ours when deleted.
            A unique violation: another transaction inserted one of the keys meanwhile.
        """
        written = Written()
        changed = [p for p in batch.parents if p.key not in batch.new]
        if changed:
            versions: dict[str, list[Any]] = {"row_hashes": [p.row["_row_hash"] for p in changed]}
            if "update_time" in table.c:
                versions["update_times"] = [p.row["update_time"] for p in changed]
            deleted = self._execute(
                table,
                "delete_older",
                key,
                shop_id=self.shop_id,
                keys=[p.key for p in changed],
                **versions,
            ).fetchall()
            if len(deleted) != len(changed):
                raise _Raced
        self._copy(table, batch.packed)
        for parent in batch.parents:
            (written.inserted if parent.key in batch.new else written.updated).append(parent.key)
        for child in children:
            deleted_children = self._delete_children(child, written.updated)
            rows, count = batch.children[child.table.name]
            if count:
                self._copy(child.table, rows)
            written.children[child.table.name] = (count, deleted_children)
        return written

    def _write_guarded(self, table: sa.Table, children: Sequence[Child], batch: Batch) -> Written:
        """Upserts the parents (never back in time; RETURNING tells which it wrote), then
        replaces the children of those written."""
        written = Written()
        rows = _json_rows(table, [p.row for p in batch.parents])
        returned = dict(self._execute(table, "upsert", rows=rows).fetchall())
        for parent in batch.parents:
            inserted = returned.get(parent.key)
            if inserted is None:
                written.lost.append(parent)
            else:
                (written.inserted if inserted else written.updated).append(parent.key)
        lost = {p.key for p in written.lost}
        kept = [p for p in batch.parents if p.key not in lost]
        for child in children:
            deleted = self._delete_children(child, written.updated)
            child_table_rows = child_rows(child.table, kept)
            if child_table_rows:
                self._execute(child.table, "upsert", rows=_json_rows(child.table, child_table_rows))
            written.children[child.table.name] = (len(child_table_rows), deleted)
        return written

    def _delete_children(self, child: Child, parent_keys: list[str]) -> int:
        """Deletes the children of ``parent_keys`` (an inserted parent had none); how many."""
        if not parent_keys:
            return 0
        result = self._execute(
            child.table,
            "delete_children",
            child.parent_column,
            shop_id=self.shop_id,
            keys=parent_keys,
        )
        return max(result.rowcount or 0, 0)
