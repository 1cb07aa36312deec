"""Database engines shared by the operational store and the warehouse.

SQLite (the embedded default) gets WAL mode and a busy timeout so that the web service and
Dagster runs can write at the same time, and exact ``sum``/``total``/``avg`` for money amounts
(``sqlite_sums``); Postgres gets a pre-ping pool that survives restarts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tiktok_pipeline.sqlite_sums import register_exact_sums

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000

_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    register_exact_sums(dbapi_connection)


def _enable_wal(cursor) -> None:
    """Switch the database to WAL, waiting for other processes doing the same.

    Processes opening a new file at once race for this switch, and SQLite answers "database is
    locked" at once there instead of waiting through the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``.

    For SQLite: creates the folder, sets WAL + a busy timeout, and makes ``sum``, ``total`` and
    ``avg`` exact on every connection (money sums print as the decimals they are).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )
        sa.event.listen(engine, "connect", _configure_sqlite)
        return engine
    if parsed.drivername == "postgresql":
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the driver we ship is psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    engine = sa.create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )
    sa.event.listen(engine, "handle_error", _drop_row_details)
    return engine


def _drop_row_details(context: sa.engine.ExceptionContext) -> None:
    """Cut Postgres's DETAIL lines ("Failing row contains (...)") out of error messages.

    They quote the row's values, tokens included; ``hide_parameters`` only hides SQLAlchemy's
    own copy of them.
    """
    for exc in (context.sqlalchemy_exception, context.original_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str):
            exc.args = (exc.args[0].split("\nDETAIL:")[0].rstrip(), *exc.args[1:])


def db_error_text(exc: BaseException) -> str:
    """A one-line description of a database error, for logs and messages.

    The driver's first line, without SQLAlchemy's statement and its parameters (engines are
    made with ``hide_parameters`` too: the parameters hold tokens and webhook bodies).
    """
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"{type(exc.orig).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return type(exc).__name__


#: SQLSTATE classes and codes that a retry can get past: connection failures, the server shutting
#: down or starting, serialization failures and deadlocks.
_TRANSIENT_SQLSTATE_CLASSES = ("08",)
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})


def is_transient_database_error(exc: BaseException) -> bool:
    """True for database errors that go away on their own: a connection refused or lost, a
    server restarting, a serialization failure or deadlock, SQLite's "database is locked".

    Constraint violations, bad SQL and data errors are not: retrying them changes nothing.
    """
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    if code:
        return code in _TRANSIENT_SQLSTATES or code.startswith(_TRANSIENT_SQLSTATE_CLASSES)
    if isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return "locked" in message or "busy" in message
    # No SQLSTATE: psycopg2 raises OperationalError without one when it cannot connect at all.
    return isinstance(exc, sa.exc.OperationalError)


def shared_engine(url: str) -> sa.Engine:
    """One engine per URL per process, so that connection pools are shared."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def is_sqlite(engine: sa.Engine | sa.Connection) -> bool:
    """True when ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def alembic_config(
    script_location: Path, version_table: str, connection: sa.Connection | None = None
) -> Config:
    """The Alembic configuration of one schema's migrations (bound to ``connection``).

    Each schema (operational store, warehouse) keeps its own version table so that both can
    live in one database or in two; ``run_alembic_environment`` reads both attributes.
    """
    from alembic.config import Config  # imported here: commands that never migrate start faster

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["version_table"] = version_table
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_schema(engine: sa.Engine, script_location: Path, version_table: str) -> None:
    """Run the Alembic migrations in ``script_location`` up to head on ``engine``."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(script_location, version_table, connection), "head")


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on every backend (SQLite returns naive values without this)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def from_epoch(seconds: int | float | str | None) -> datetime | None:
    """An aware UTC datetime from Unix seconds (TikTok's timestamps); None stays None."""
    if seconds is None or seconds == "":
        return None
    return datetime.fromtimestamp(int(seconds), UTC)


def run_alembic_environment(
    metadata: sa.MetaData, version_table: str, default_url: Callable[[], str]
) -> None:
    """The body of an Alembic ``env.py`` for one of the project's schemas.

    ``upgrade_schema`` passes the connection and the version table in ``config.attributes``; run
    by hand (``alembic -c ...``) it falls back to ``sqlalchemy.url`` or ``default_url()``, which
    is only called then (it reads the settings, which need not be valid for an upgrade). Only
    ``metadata``'s tables are compared by autogenerate, so the store and the warehouse can share
    one database while keeping their own migrations.
    """
    from alembic import context

    config = context.config

    def include_name(name, type_, parent_names) -> bool:
        return type_ != "table" or name in metadata.tables

    def configure(**kwargs) -> None:
        context.configure(
            target_metadata=metadata,
            version_table=config.attributes.get("version_table", version_table),
            include_name=include_name,
            compare_type=True,
            **kwargs,
        )

    def run(connection: sa.Connection) -> None:
        configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()

    def url() -> str:
        return config.get_main_option("sqlalchemy.url") or default_url()

    if context.is_offline_mode():
        configure(url=url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(url())
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
