"""Bulk writes of prepared rows, one implementation per backend.

Each batch has two halves: :meth:`pack` turns rows into what the driver sends (pure Python,
no database) and :meth:`write` sends a :class:`Batch`: its parents, then the children of the
parents actually written. The loader packs the next batch while the previous one is being
written. Writers use only the caller's connection and never commit.

- SQLite: the load first takes the database's write lock (``BEGIN IMMEDIATE``), so nothing
  can change between reading the stored versions and writing; rows then go in with the
  sqlite3 module's ``executemany`` of the guarded upsert.
- Postgres: rows travel with ``COPY`` (an executemany of an upsert spends most of its time
  quoting parameters into SQL text and parsing that again on the server). Within a savepoint,
  a batch deletes its changed parents where the stored row is still older and not identical
  (``DELETE ... RETURNING``, the upsert's guard), then copies the new versions, the new
  parents and the children of both straight into the tables. Another transaction may write
  the same rows at the same time: then a delete misses a row or a copy fails on a primary
  key, the savepoint is rolled back and the batch takes the guarded path instead: ``COPY``
  into a temporary table and ``INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE``
  (never back in time) ``RETURNING`` the rows it really wrote. The direct path saves that
  second copy of every row (a third of the server's work on an insert) in the common case:
  a backfill, with nobody else writing the same keys at that moment.
"""

from __future__ import annotations

import io
import json
import logging
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.convert import EPOCH
from tiktok_pipeline.warehouse.mapping import Context, Prepared
from tiktok_pipeline.warehouse.schema import EPOCH_SECONDS
from tiktok_pipeline.warehouse.types import RawJSON, SerializedJSON

logger = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass(frozen=True)
class Child:
    """A child table replaced with its parent; ``parent_column`` holds the parent's key."""

    table: sa.Table
    parent_column: str


@dataclass
class Batch:
    """Parents to write (new: absent when the load looked; changed: stored in an older
    version), packed, and the packed rows of all their children per child table."""

    new: list[Prepared]
    changed: list[Prepared]
    packed_new: Any
    packed_changed: Any
    children: dict[str, tuple[Any, int]]  # child table -> (packed rows, row count)


@dataclass
class Written:
    """What writing a batch did."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    #: Parents another transaction wrote first (its version is newer or identical).
    lost: list[Prepared] = field(default_factory=list)
    children: dict[str, tuple[int, int]] = field(default_factory=dict)  # (inserted, deleted)


def child_rows(table: sa.Table, parents: Sequence[Prepared]) -> list[Row]:
    """The child rows of ``parents`` in ``table``, one per primary key (the last one)."""
    key_of = operator.itemgetter(*(c.name for c in table.primary_key.columns))
    unique: dict[Any, Row] = {}
    for parent in parents:
        for row in parent.children[table.name]:
            unique[key_of(row)] = row
    return list(unique.values())


def _key_columns(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns)


def _guarded_upsert(insert, table: sa.Table):
    """``ON CONFLICT DO UPDATE`` only when the stored row is not newer and not identical."""
    excluded = insert.excluded
    newer_or_equal = sa.or_(
        table.c.update_time.is_(None), table.c.update_time <= excluded.update_time
    )
    return insert.on_conflict_do_update(
        index_elements=_key_columns(table),
        set_={c.name: excluded[c.name] for c in table.columns if not c.primary_key},
        where=sa.and_(newer_or_equal, table.c._row_hash != excluded._row_hash),
    )


def _replacing_upsert(insert, table: sa.Table):
    # A child that moved to another parent (whose old parent did not change) would collide
    # with its old row; it moves with its new parent instead.
    excluded = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=_key_columns(table),
        set_={c.name: excluded[c.name] for c in table.columns if not c.primary_key},
    )


# --- SQLite ---------------------------------------------------------------------------------


class _SQLiteStatement:
    """A compiled upsert run with the sqlite3 module's own executemany.

    SQLAlchemy's per-parameter processing would cost more than SQLite's work, so values are
    converted here by their class, the same way the column types would convert them.
    """

    def __init__(self, statement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.names = list(compiled.positiontup)
        self.convert: dict[type, Callable[[Any], Any]] = {
            Decimal: float,  # what Numeric binds on SQLite, which has no decimal type
            datetime: UTCDateTime().bind_processor(dialect),
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

    _statements: dict[tuple[str, str], _SQLiteStatement] = {}

    def __init__(self, connection: sa.Connection, ctx: Context) -> None:
        self.connection = connection
        self.shop_id = ctx.shop_id

    def _statement(self, table: sa.Table) -> _SQLiteStatement:
        kind = "guarded" if "_row_hash" in table.c else "replacing"
        statement = self._statements.get((table.name, kind))
        if statement is None:
            build = _guarded_upsert if kind == "guarded" else _replacing_upsert
            statement = _SQLiteStatement(
                build(sqlite.insert(table), table), self.connection.dialect
            )
            self._statements[(table.name, kind)] = statement
        return statement

    def lock(self) -> None:
        """Takes the write lock now unless this transaction already has it.

        The sqlite3 module opens a transaction only at the first INSERT/UPDATE/DELETE, so
        the SELECT of stored versions would otherwise read outside of it.
        """
        dbapi_connection = self.connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            self.connection.exec_driver_sql("BEGIN IMMEDIATE")

    def stored_versions(
        self, table: sa.Table, key: str, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str]]:
        """``key -> (update_time, _row_hash)`` of the shop's stored rows among ``keys``."""
        key_column = table.c[key]
        query = sa.select(key_column, table.c.update_time, table.c._row_hash).where(
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
        sql = self._statement(table).sql
        for packed in (batch.packed_new, batch.packed_changed):
            if packed:
                self.connection.exec_driver_sql(sql, packed)
        written = Written([p.key for p in batch.new], [p.key for p in batch.changed])
        keys = written.inserted + written.updated
        for child in children:
            result = self.connection.execute(
                sa.delete(child.table).where(
                    child.table.c.shop_id == self.shop_id,
                    child.table.c[child.parent_column].in_(keys),
                )
            )
            packed, count = batch.children[child.table.name]
            if packed:
                self.connection.exec_driver_sql(self._statement(child.table).sql, packed)
            written.children[child.table.name] = (count, max(result.rowcount or 0, 0))
        return written


# --- Postgres -------------------------------------------------------------------------------

#: Columns whose value is the same on every row of one load: copied as one prepared suffix.
_SHARED = ("shop_id", "_synced_at", "_source")
#: COPY's CSV format with a tab as delimiter and SOH (\x01) as quote: JSON text and most
#: values need no quoting and, unlike the text format, no backslash escapes.
_COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01'"
_QUOTE = "\x01"
_SPECIAL = ("\t", "\n", "\r", _QUOTE)
#: Savepoints (subtransactions) one transaction may use for direct copies. Postgres keeps 64
#: subtransactions per transaction in shared memory; beyond that, every other session's
#: snapshot gets slower while the transaction runs. Later batches take the guarded path.
MAX_SAVEPOINTS = 32
_SAVEPOINT = "SAVEPOINT tiktok_warehouse_copy"
_RELEASE = "RELEASE SAVEPOINT tiktok_warehouse_copy"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT tiktok_warehouse_copy"
_UNIQUE_VIOLATION = "23505"


def _csv_field(value: Any) -> str:
    """One value as a field of COPY's CSV (quoted when needed; NULL is an empty field)."""
    if value is None:
        return ""
    text = str(value)
    if not text or any(char in text for char in _SPECIAL):
        return _QUOTE + text.replace(_QUOTE, _QUOTE + _QUOTE) + _QUOTE
    return text


class _Raced(Exception):
    """A stored row changed between the load's look at it and its write."""


_DAYS: dict[int, str] = {}
_TWO_DIGITS = [f"{n:02d}" for n in range(60)]


def _utc_text(seconds: int) -> str:
    """Unix seconds as Postgres timestamp input (``2024-06-01 12:34:56+00``).

    Four times faster than ``str`` of the datetime; the dates are cached.
    """
    days, rest = divmod(seconds, 86400)
    date = _DAYS.get(days)
    if date is None:
        date = _DAYS[days] = (EPOCH + timedelta(days=days)).strftime("%Y-%m-%d ")
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{date}{_TWO_DIGITS[hours]}:{_TWO_DIGITS[minutes]}:{_TWO_DIGITS[rest]}+00"


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode("utf-8")


def _copy_from_stdin(quoted_table: str, quoted_columns: str) -> str:
    return f"COPY {quoted_table} ({quoted_columns}) FROM STDIN WITH ({_COPY_OPTIONS})"


def _is_unique_violation(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
    return getattr(orig, "pgcode", None) == _UNIQUE_VIOLATION


class _PgTable:
    """One warehouse table on Postgres: its COPY format and statements, and its temporary
    twin for the guarded path.

    The twin (``tiktok_stage_<table>``) lives as long as the database session, is emptied at
    every commit (``ON COMMIT DELETE ROWS``) and keeps rows of up to 8 kB inline and
    uncompressed (``toast_tuple_target``): TOASTed, every staged order would be compressed
    or split in chunks once more.
    """

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        raw = [c.name for c in table.columns if isinstance(c.type, RawJSON)]
        epochs = {c.name: c.info[EPOCH_SECONDS] for c in table.columns if EPOCH_SECONDS in c.info}
        varying = [
            c.name
            for c in table.columns
            if c.name not in _SHARED and c.name not in raw and c.name not in epochs
        ]
        # Timestamps, raw JSON and the shared values come last: they need no check (see pack).
        self.columns = varying + list(epochs) + raw + list(_SHARED)
        self._epochs = operator.itemgetter(*epochs.values()) if epochs else None
        self._raw = operator.itemgetter(raw[0]) if raw else None
        self.stage_name = f"tiktok_stage_{table.name}"
        stage = sa.Table(
            self.stage_name,
            sa.MetaData(),
            *(sa.Column(c.name, c.type) for c in table.columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DELETE ROWS",
            postgresql_with={"toast_tuple_target": 8160},
        )
        dialect = postgresql.dialect()
        preparer = dialect.identifier_preparer
        # Identifiers of our own tables, quoted by the dialect; no value ever goes in here.
        column_list = ", ".join(preparer.quote(name) for name in self.columns)
        self.copy_sql = _copy_from_stdin(preparer.format_table(table), column_list)
        self.stage_copy_sql = _copy_from_stdin(preparer.format_table(stage), column_list)
        create = str(CreateTable(stage, if_not_exists=True).compile(dialect=dialect)).strip()
        self.prepare_sql = f"{create}; TRUNCATE {preparer.format_table(stage)}"
        names = [c.name for c in table.columns]
        self.from_stage = postgresql.insert(table).from_select(
            names, sa.select(*(stage.c[name] for name in names))
        )
        self._values = operator.itemgetter(*varying)
        self._tabs = len(varying) - 1
        # JSON columns, by position: ``str`` would not turn their values into JSON.
        self._json = [
            index for index, name in enumerate(varying) if isinstance(table.c[name].type, sa.JSON)
        ]

    def pack(self, rows: Sequence[Row], shared: str) -> str:
        """``rows`` in COPY's CSV format (see ``_COPY_OPTIONS``), ``shared`` ending each line.

        Values are joined as they are and the line is checked as a whole: only a row with a
        tab, line break or SOH inside a value, or an empty string, is built again with
        quotes. ``str`` of a Decimal, int, bool or aware datetime is valid Postgres input and
        an empty field is NULL. UTC timestamps are written from their epoch seconds (the
        mapping derives them from those), raw JSON is canonical JSON text, whose encoder
        escapes every control character: neither is ever quoted nor scanned.
        """
        values_of, raw_of, tabs, json_positions = self._values, self._raw, self._tabs, self._json
        epochs_of = self._epochs
        end = shared + "\n"
        parts = []
        for row in rows:
            values = values_of(row)
            if json_positions:
                values = list(values)
                for index in json_positions:
                    if values[index] is not None:
                        values[index] = _json_text(values[index])
            line = "\t".join(
                [
                    "" if v is None else (v or _QUOTE) if v.__class__ is str else str(v)
                    for v in values
                ]
            )
            if line.count("\t") != tabs or "\n" in line or "\r" in line or _QUOTE in line:
                line = "\t".join([_csv_field(v) for v in values])
            parts.append(line)
            if epochs_of is not None:
                parts.append("\t")
                seconds = epochs_of(row)
                if seconds.__class__ is tuple:
                    parts.append("\t".join(["" if s is None else _utc_text(s) for s in seconds]))
                elif seconds is not None:  # the one timestamp of the table
                    parts.append(_utc_text(seconds))
            if raw_of is not None:
                parts.append("\t")
                parts.append(raw_of(row))
            parts.append(end)
        return "".join(parts)


def _wanted_keys(name: str) -> sa.TableValuedAlias:
    """``unnest(:keys) AS name(id)``: the keys a statement looks up, one row each."""
    keys = sa.bindparam("keys", type_=postgresql.ARRAY(sa.String))
    return sa.func.unnest(keys).table_valued("id").render_derived(name=name)


# Both lookups below walk the given keys and probe the index for each (a LATERAL subquery,
# which the planner cannot turn into a hash join). Written as ``key = ANY(:keys)``, a fresh
# table without statistics gets a plan that reads every row of the shop for each batch:
# quadratic during the first minutes of a backfill, until autovacuum analyses the table.


def _stored_versions_by_key(table: sa.Table, key: str) -> sa.Select:
    """``key, update_time, _row_hash`` of the stored rows among ``:keys`` of ``:shop_id``."""
    wanted = _wanted_keys("wanted")
    stored = (
        sa.select(table.c[key], table.c.update_time, table.c._row_hash)
        .where(table.c.shop_id == sa.bindparam("shop_id"), table.c[key] == wanted.c.id)
        .limit(1)
        .lateral("stored")
    )
    return sa.select(stored.c[key], stored.c.update_time, stored.c._row_hash).select_from(
        wanted.join(stored, sa.true())
    )


def _delete_children_by_parent(table: sa.Table, parent_column: str) -> sa.Delete:
    """DELETE the rows of ``table`` whose ``parent_column`` is among ``:keys`` of ``:shop_id``."""
    parents = _wanted_keys("parents")
    old = table.alias("old")
    found = (
        sa.select(sa.literal_column("ctid"))
        .select_from(old)
        .where(old.c.shop_id == sa.bindparam("shop_id"), old.c[parent_column] == parents.c.id)
        .offset(0)
        .lateral("found")
    )
    row_ids = sa.select(found.c.ctid).select_from(parents.join(found, sa.true()))
    return sa.delete(table).where(
        sa.literal_column("ctid") == sa.any_(sa.func.array(row_ids.scalar_subquery()))
    )


def _delete_older(table: sa.Table, key: str) -> sa.Delete:
    """DELETE ... RETURNING the stored rows of ``:keys`` that ``:update_times`` and
    ``:row_hashes`` replace: not newer and not identical (the guard of the upsert)."""
    wanted = (
        sa.func.unnest(
            sa.bindparam("keys", type_=postgresql.ARRAY(sa.String)),
            sa.bindparam("update_times", type_=postgresql.ARRAY(sa.BigInteger)),
            sa.bindparam("row_hashes", type_=postgresql.ARRAY(sa.String)),
        )
        .table_valued("id", "update_time", "row_hash")
        .render_derived(name="wanted")
    )
    old = table.alias("old")
    found = (
        sa.select(sa.literal_column("ctid"))
        .select_from(old)
        .where(
            old.c.shop_id == sa.bindparam("shop_id"),
            old.c[key] == wanted.c.id,
            sa.or_(old.c.update_time.is_(None), old.c.update_time <= wanted.c.update_time),
            old.c._row_hash != wanted.c.row_hash,
        )
        .offset(0)
        .lateral("found")
    )
    row_ids = sa.select(found.c.ctid).select_from(wanted.join(found, sa.true()))
    # A row another transaction changes meanwhile has a new ctid: it is left alone, the
    # batch then takes the guarded upsert, which judges the row's newest version.
    return (
        sa.delete(table)
        .where(sa.literal_column("ctid") == sa.any_(sa.func.array(row_ids.scalar_subquery())))
        .returning(table.c[key])
    )


@dataclass
class _TransactionState:
    """What the writers did so far in one transaction (kept in ``connection.info``)."""

    transaction: Any
    savepoints: int = 0
    copy_conflicts: bool = False  # a direct copy met a concurrent writer's row


class PostgresWriter:
    """Writes with COPY: straight into the tables, or through temporary tables and a
    guarded ``INSERT ... SELECT`` (see the module's docstring)."""

    _tables: dict[str, _PgTable] = {}
    _sql: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def __init__(self, connection: sa.Connection, ctx: Context) -> None:
        self.connection = connection
        self.shop_id = ctx.shop_id
        self.shared = "\t" + "\t".join(
            _csv_field(value) for value in (ctx.shop_id, ctx.synced_at, ctx.source)
        )

    @classmethod
    def _table(cls, table: sa.Table) -> _PgTable:
        found = cls._tables.get(table.name)
        if found is None:
            found = cls._tables[table.name] = _PgTable(table)
        return found

    @classmethod
    def _statement(cls, table: sa.Table, kind: str, key: str = "") -> tuple[str, dict[str, Any]]:
        """SQL text and default parameters of one of the writer's statements on ``table``."""
        compiled = cls._sql.get((table.name, kind))
        if compiled is None:
            if kind == "guarded":
                statement = _guarded_upsert(cls._table(table).from_stage, table).returning(
                    table.c[key], sa.literal_column("xmax = 0", sa.Boolean).label("inserted")
                )
            elif kind == "replacing":
                statement = _replacing_upsert(cls._table(table).from_stage, table)
            elif kind == "versions":
                statement = _stored_versions_by_key(table, key)
            elif kind == "delete_older":
                statement = _delete_older(table, key)
            else:
                statement = _delete_children_by_parent(table, key)
            sql = statement.compile(dialect=postgresql.dialect())
            compiled = cls._sql[(table.name, kind)] = (str(sql), dict(sql.params))
        return compiled

    def _execute(self, table: sa.Table, kind: str, key: str = "", **params: Any) -> sa.CursorResult:
        """Runs one of the writer's statements on ``table`` with ``params``."""
        sql, defaults = self._statement(table, kind, key)
        return self.connection.exec_driver_sql(sql, {**defaults, **params})

    def _state(self) -> _TransactionState:
        transaction = self.connection.get_transaction()
        state = self.connection.info.get("tiktok_warehouse")
        if state is None or state.transaction is not transaction:
            state = self.connection.info["tiktok_warehouse"] = _TransactionState(transaction)
        return state

    def _copy(self, sql: str, packed: str) -> None:
        cursor = self.connection.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(sql, io.BytesIO(packed.encode("utf-8")), size=1 << 20)
        finally:
            cursor.close()

    def lock(self) -> None:
        """Nothing to do: the guarded path handles concurrent writers."""

    def stored_versions(
        self, table: sa.Table, key: str, keys: Sequence[str]
    ) -> dict[str, tuple[int | None, str]]:
        """``key -> (update_time, _row_hash)`` of the shop's stored rows among ``keys``."""
        result = self._execute(table, "versions", key, shop_id=self.shop_id, keys=list(keys))
        return {key: (update_time, digest) for key, update_time, digest in result}

    def pack(self, table: sa.Table, rows: Sequence[Row]) -> str:
        """``rows`` as COPY data for ``table`` (or its temporary twin)."""
        return self._table(table).pack(rows, self.shared)

    def write(self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch) -> Written:
        """Writes the batch's parents, then replaces the children of those written.

        Straight copies inside a savepoint first; the guarded path when that savepoint had to
        be rolled back, and for the rest of the transaction once a copy met another writer's
        row or the transaction used its savepoints.
        """
        state = self._state()
        if state.copy_conflicts or state.savepoints >= MAX_SAVEPOINTS:
            return self._write_guarded(table, key, children, batch)
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
            return self._write_guarded(table, key, children, batch)
        self.connection.exec_driver_sql(_RELEASE)
        return written

    def _write_direct(
        self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch
    ) -> Written:
        """Replaces changed parents (deleted where still older, then copied), copies new ones
        and the children of both straight into their tables.

        Raises:
            _Raced: a changed parent was no longer older than ours when deleted.
            A unique violation: another transaction inserted one of the keys meanwhile.
        """
        written = Written()
        copy_sql = self._table(table).copy_sql
        if batch.changed:
            deleted = self._execute(
                table,
                "delete_older",
                key,
                shop_id=self.shop_id,
                keys=[p.key for p in batch.changed],
                update_times=[p.row["update_time"] for p in batch.changed],
                row_hashes=[p.row["_row_hash"] for p in batch.changed],
            ).fetchall()
            if len(deleted) != len(batch.changed):
                raise _Raced
            self._copy(copy_sql, batch.packed_changed)
            written.updated = [p.key for p in batch.changed]
        if batch.new:
            self._copy(copy_sql, batch.packed_new)
            written.inserted = [p.key for p in batch.new]
        written.children = self._replace_children(
            children, written.inserted + written.updated, batch.children, direct=True
        )
        return written

    def _write_guarded(
        self, table: sa.Table, key: str, children: Sequence[Child], batch: Batch
    ) -> Written:
        """Upserts the parents through the temporary table (never back in time; RETURNING
        tells which it wrote), then replaces the children of those written."""
        written = Written()
        packed = (batch.packed_new or "") + (batch.packed_changed or "")
        self._upsert(table, key, batch.new + batch.changed, packed, written)
        packed_children = batch.children
        if written.lost:
            packed_children = self._pack_children(children, batch, written)
        written.children = self._replace_children(
            children, written.inserted + written.updated, packed_children, direct=False
        )
        return written

    def _upsert(
        self, table: sa.Table, key: str, parents: list[Prepared], packed: str, written: Written
    ) -> None:
        """Guarded upsert of the packed ``parents`` through the temporary table."""
        self._fill(table, packed)
        result = dict(self._execute(table, "guarded", key).fetchall())
        for parent in parents:
            inserted = result.get(parent.key)
            if inserted is None:
                written.lost.append(parent)
            elif inserted:
                written.inserted.append(parent.key)
            else:
                written.updated.append(parent.key)

    def _pack_children(
        self, children: Sequence[Child], batch: Batch, written: Written
    ) -> dict[str, tuple[str, int]]:
        """The children of the batch's parents that were not lost to another writer."""
        lost = {p.key for p in written.lost}
        parents = [p for p in batch.new + batch.changed if p.key not in lost]
        packed = {}
        for child in children:
            rows = child_rows(child.table, parents)
            packed[child.table.name] = (self.pack(child.table, rows), len(rows))
        return packed

    def _replace_children(
        self,
        children: Sequence[Child],
        parent_keys: list[str],
        packed: dict[str, tuple[str, int]],
        *,
        direct: bool,
    ) -> dict[str, tuple[int, int]]:
        """Deletes the children of ``parent_keys`` and inserts their new ones.

        ``direct`` copies them straight into the table (inside the caller's savepoint: a
        child that moved from another parent fails on its key); otherwise they go through
        the temporary table and an upsert that moves such a child.
        """
        counts = {}
        for child in children:
            result = self._execute(
                child.table, "delete", child.parent_column, shop_id=self.shop_id, keys=parent_keys
            )
            rows, count = packed[child.table.name]
            if count:
                if direct:
                    self._copy(self._table(child.table).copy_sql, rows)
                else:
                    self._fill(child.table, rows)
                    self._execute(child.table, "replacing")
            counts[child.table.name] = (count, max(result.rowcount or 0, 0))
        return counts

    def _fill(self, table: sa.Table, packed: str) -> None:
        """Copies the packed rows into the temporary twin, created if needed and emptied.

        Made sure of every time: a rolled back transaction or savepoint of the caller's may
        have taken it along, and this path is the exception, not the rule.
        """
        pg_table = self._table(table)
        self.connection.exec_driver_sql(pg_table.prepare_sql)
        self._copy(pg_table.stage_copy_sql, packed)


Writer = SQLiteWriter | PostgresWriter


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
