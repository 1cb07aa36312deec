"""Schema migrations of the warehouse: run them, or tell whether the database is at head.

Several processes may start at once (``dagster dev`` starts a webserver, a daemon and run
workers), each wanting the schema. An upgrade first checks the revision without a lock (the
usual case, at head, takes no write lock); otherwise it takes a lock (``BEGIN IMMEDIATE`` on
SQLite, an advisory transaction lock on Postgres) and then migrates only if still needed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from tiktok_pipeline import db

# Alembic is imported where it is used: a Dagster code server loads this module with the
# definitions and never migrates, and alembic costs each process ~11 MB.
if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "tiktok_warehouse_alembic_version"
# Any fixed 64-bit number; it names the Postgres advisory lock of warehouse migrations.
_ADVISORY_LOCK_KEY = 7_431_902_554_118_263_301


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """The Alembic configuration of the warehouse migrations (bound to ``connection``)."""
    return db.alembic_config(MIGRATIONS_DIR, VERSION_TABLE, connection)


def head_revisions() -> set[str]:
    """The revisions the code expects (the heads of the migration scripts)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: sa.Connection) -> set[str]:
    """The revisions the database is at (empty for a database never migrated)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return set(context.get_current_heads())


def is_up_to_date(engine: sa.Engine) -> bool:
    """True when the warehouse schema of ``engine``'s database is at head."""
    with engine.connect() as connection:
        return current_revisions(connection) == head_revisions()


def upgrade(engine: sa.Engine) -> bool:
    """Migrates the warehouse schema to head; returns True when something was migrated."""
    heads = head_revisions()
    with engine.connect() as connection:
        if current_revisions(connection) == heads:
            return False  # the usual case: no write lock, so no wait behind other writers
        connection.rollback()
        if db.is_sqlite(connection):
            # Takes SQLite's write lock now, so a second process waits instead of failing
            # halfway through creating tables the first one is creating.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
        current = current_revisions(connection)  # again: another process may have migrated
        if current == heads:
            connection.rollback()
            return False
        logger.info("migrating the warehouse schema from %s to %s", current or "empty", heads)
        from alembic import command

        command.upgrade(alembic_config(connection), "head")
        connection.commit()
    return True
