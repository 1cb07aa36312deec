"""Bulk writes of prepared rows, one implementation per backend.

Each write has two halves: ``pack_*`` turns rows into what the driver sends (pure Python, no
database) and ``write_*`` sends it. The loader packs the next batch while the previous one
is being written. Writers use only the caller's connection and never commit.

- SQLite: the load first takes the database's write lock (``BEGIN IMMEDIATE``), so nothing
  can change between reading the stored versions and writing; rows then go in with the
  sqlite3 module's ``executemany`` of the guarded upsert.
- Postgres: another transaction may write the same rows at the same time, so the guarded
  upsert ``RETURNING`` the keys it wrote tells which rows really changed. Rows reach the
  server through ``COPY`` into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT``:
  an executemany of the same upsert spends most of its time quoting parameters into SQL
  text and parsing that again on the server (several times slower, see bench/).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import RawJSON, SerializedJSON

Row = dict[str, Any]


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


def _delete_children(
    connection: sa.Connection, table: sa.Table, parent_column: str, shop_id: str, keys: list[str]
) -> int:
    result = connection.execute(
        sa.delete(table).where(table.c.shop_id == shop_id, table.c[parent_column].in_(keys))
    )
    return max(result.rowcount or 0, 0)


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

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _statement(self, table: sa.Table, kind: str) -> _SQLiteStatement:
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

    def pack_parents(self, table: sa.Table, rows: Sequence[Row]) -> list[tuple]:
        """Parameters of the guarded upsert of ``rows``."""
        return self._statement(table, "guarded").pack(rows)

    def write_parents(
        self, table: sa.Table, key: str, packed: list[tuple]
    ) -> dict[str, bool] | None:
        """Upserts the packed rows; returns None: all of them, as planned (the lock rules
        out other writers, so the stored versions read before are still current)."""
        self.connection.exec_driver_sql(self._statement(table, "guarded").sql, packed)
        return None

    def pack_children(self, table: sa.Table, rows: Sequence[Row]) -> list[tuple]:
        """Parameters of the insert of child ``rows``."""
        return self._statement(table, "replacing").pack(rows)

    def write_children(
        self,
        table: sa.Table,
        parent_column: str,
        shop_id: str,
        parent_keys: list[str],
        packed: list[tuple],
    ) -> int:
        """Deletes the children of ``parent_keys``, inserts the packed rows; returns deleted."""
        deleted = _delete_children(self.connection, table, parent_column, shop_id, parent_keys)
        if packed:
            self.connection.exec_driver_sql(self._statement(table, "replacing").sql, packed)
        return deleted


def _copy_text(value: str) -> str:
    # COPY's text format: backslash, tab, newline and carriage return must be escaped.
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_json_text(value: str) -> str:
    # Encoded JSON has no raw control characters (they are escaped), only backslashes.
    return value.replace("\\", "\\\\")


def _copy_json(value: Any) -> str:
    return _copy_json_text(json.dumps(value, ensure_ascii=False, default=str))


def _copy_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
    return value.isoformat()


#: COPY text of a value, by the value's class (faster than a formatter per column).
_COPY_FORMAT: dict[type, Callable[[Any], str]] = {
    type(None): lambda _value: "\\N",
    str: _copy_text,
    SerializedJSON: _copy_json_text,
    int: int.__repr__,
    bool: lambda value: "t" if value else "f",
    Decimal: Decimal.__str__,
    datetime: _copy_time,
    list: _copy_json,
    dict: _copy_json,
}


def _copy_value(value: Any) -> str:
    formatter = _COPY_FORMAT.get(value.__class__)
    if formatter is None:
        raise TypeError(f"cannot COPY a {type(value).__name__} value: {value!r}")
    return formatter(value)


class _Staging:
    """A temporary table shaped like ``table``, filled with COPY, dropped at commit.

    Raw JSON is staged as uncompressed text and parsed into JSONB once, by the INSERT into
    the real table; staged as JSONB it would be parsed and compressed twice.
    """

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.raw_columns = {c.name for c in table.columns if isinstance(c.type, RawJSON)}
        self.stage = sa.Table(
            f"_stage_{table.name}",
            sa.MetaData(),
            *(
                sa.Column(c.name, sa.Text if c.name in self.raw_columns else c.type)
                for c in table.columns
            ),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        self.names = [c.name for c in table.columns]
        preparer = postgresql.dialect().identifier_preparer
        # Identifiers of our own tables, quoted by the dialect; no value ever goes in here.
        stage_name = preparer.format_table(self.stage)
        self.copy_sql = "COPY {} ({}) FROM STDIN".format(
            stage_name, ", ".join(preparer.quote(n) for n in self.names)
        )
        self.storage_ddl = [
            sa.DDL(
                f"ALTER TABLE {stage_name} ALTER COLUMN {preparer.quote(name)} SET STORAGE EXTERNAL"
            )
            for name in sorted(self.raw_columns)
        ]
        self.truncate_ddl = sa.DDL(f"TRUNCATE {stage_name}")

    def pack(self, rows: Sequence[Row]) -> str:
        """``rows`` in COPY's text format."""
        names = self.names
        formats = _COPY_FORMAT
        try:
            lines = ["\t".join([formats[row[n].__class__](row[n]) for n in names]) for row in rows]
        except KeyError:
            # A value of an unexpected class: format again, slowly, to name it.
            lines = ["\t".join([_copy_value(row[n]) for n in names]) for row in rows]
        lines.append("")
        return "\n".join(lines)

    def fill(self, connection: sa.Connection, packed: str) -> None:
        """Copies the packed rows into the (empty) temporary table, creating it if needed.

        The table lives until the transaction ends (``ON COMMIT DROP``); ``connection.info``
        remembers, per transaction, which ones exist.
        """
        transaction = connection.get_transaction()
        created = connection.info.get("tiktok_staging")
        if created is None or created[0] is not transaction:
            created = connection.info["tiktok_staging"] = (transaction, set())
        if self.stage.name in created[1]:
            connection.execute(self.truncate_ddl)
        else:
            connection.execute(sa.schema.CreateTable(self.stage))
            for ddl in self.storage_ddl:
                connection.execute(ddl)
            created[1].add(self.stage.name)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.copy_expert(self.copy_sql, io.StringIO(packed), size=1 << 20)
        finally:
            cursor.close()

    def select(self) -> sa.Select:
        """SELECT of every staged column, in the table's column order."""
        return sa.select(
            *(
                sa.cast(self.stage.c[name], postgresql.JSONB)
                if name in self.raw_columns
                else self.stage.c[name]
                for name in self.names
            )
        )


class PostgresWriter:
    """Writes through COPY into temporary tables and a guarded ``INSERT ... SELECT``."""

    _staging: dict[str, _Staging] = {}

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    @classmethod
    def _stage_for(cls, table: sa.Table) -> _Staging:
        staging = cls._staging.get(table.name)
        if staging is None:
            staging = cls._staging[table.name] = _Staging(table)
        return staging

    def lock(self) -> None:
        """Nothing to do: the guarded upsert and its RETURNING handle concurrent writers."""

    def pack_parents(self, table: sa.Table, rows: Sequence[Row]) -> str:
        """``rows`` as COPY text."""
        return self._stage_for(table).pack(rows)

    def write_parents(self, table: sa.Table, key: str, packed: str) -> dict[str, bool]:
        """Upserts the packed rows where allowed.

        Returns:
            The key of every row written, mapped to True if it was inserted, False if it
            replaced a stored row (a new row version has ``xmax = 0``, an updated one not).
        """
        staging = self._stage_for(table)
        staging.fill(self.connection, packed)
        insert = postgresql.insert(table).from_select(staging.names, staging.select())
        statement = _guarded_upsert(insert, table).returning(
            table.c[key], sa.literal_column("xmax = 0", sa.Boolean).label("inserted")
        )
        return {key: inserted for key, inserted in self.connection.execute(statement)}

    def pack_children(self, table: sa.Table, rows: Sequence[Row]) -> str:
        """Child ``rows`` as COPY text."""
        return self._stage_for(table).pack(rows)

    def write_children(
        self,
        table: sa.Table,
        parent_column: str,
        shop_id: str,
        parent_keys: list[str],
        packed: str,
    ) -> int:
        """Deletes the children of ``parent_keys``, inserts the packed rows; returns deleted."""
        deleted = _delete_children(self.connection, table, parent_column, shop_id, parent_keys)
        if packed:
            staging = self._stage_for(table)
            staging.fill(self.connection, packed)
            insert = postgresql.insert(table).from_select(staging.names, staging.select())
            self.connection.execute(_replacing_upsert(insert, table))
        return deleted


Writer = SQLiteWriter | PostgresWriter


def writer_for(connection: sa.Connection) -> Writer:
    """The writer for ``connection``'s backend."""
    if connection.dialect.name == "postgresql":
        return PostgresWriter(connection)
    if connection.dialect.name == "sqlite":
        return SQLiteWriter(connection)
    raise NotImplementedError(
        f"the warehouse supports SQLite and PostgreSQL, not {connection.dialect.name!r}; "
        "set TIKTOK_WAREHOUSE_URL to a sqlite:// or postgresql:// URL"
    )
