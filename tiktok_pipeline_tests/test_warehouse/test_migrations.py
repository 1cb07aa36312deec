"""Migrations match the metadata, run once, and run safely from several processes at once."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tiktok_pipeline import db
from tiktok_pipeline.config import ConfigurationError
from tiktok_pipeline.warehouse import VERSION_TABLE, Warehouse, migrate, schema, upgrade_warehouse


def _diff(engine: sa.Engine, metadata: sa.MetaData) -> list:
    def include_name(name, type_, parent_names) -> bool:
        return type_ != "table" or name in metadata.tables

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return compare_metadata(context, metadata)


def _forget(url: str) -> None:
    engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def test_migrated_database_matches_the_metadata(database_url: str):
    wh = Warehouse.from_url(database_url, upgrade=True)
    try:
        assert _diff(wh.engine, schema.metadata) == []

        # The comparison does see differences (so the empty diff above means something).
        changed = sa.MetaData()
        for table in schema.metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["tiktok_orders"].append_column(sa.Column("extra", sa.Integer))
        changed.tables["tiktok_returns"].c.refund_total.type = sa.Integer()
        kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in _diff(wh.engine, changed)}
        assert {"add_column", "modify_type"} <= kinds

        with wh.engine.connect() as connection:
            assert migrate.current_revisions(connection) == migrate.head_revisions()
            assert sa.inspect(connection).has_table(VERSION_TABLE)
            assert "tiktok_daily_sales" in sa.inspect(connection).get_view_names()
    finally:
        _forget(database_url)


def test_sqlite_is_migrated_on_open_and_only_once(sqlite_db_url: str):
    wh = Warehouse.from_url(sqlite_db_url)
    try:
        assert migrate.is_up_to_date(wh.engine)
        assert wh.upgrade() is False
        assert upgrade_warehouse(sqlite_db_url) is False
    finally:
        _forget(sqlite_db_url)


@pytest.mark.postgres
def test_postgres_must_be_upgraded_explicitly(postgres_url: str):
    with pytest.raises(ConfigurationError, match=r"tiktok-pipeline db upgrade"):
        Warehouse.from_url(postgres_url)
    assert upgrade_warehouse(postgres_url) is True
    wh = Warehouse.from_url(postgres_url)
    assert migrate.is_up_to_date(wh.engine)


def _upgrade_in_process(url: str, barrier, results) -> None:
    """Runs in a child process: wait for the others, then upgrade; report the outcome."""
    engine = db.make_engine(url)
    try:
        barrier.wait()
        results.put(("ok", migrate.upgrade(engine)))
    except BaseException as exc:  # reported to the parent
        results.put(("error", repr(exc)))
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_several_processes(database_url: str):
    """Like a webserver, a daemon and a run worker all starting at once on a new database."""
    context = multiprocessing.get_context("fork")  # children inherit the imports: fast
    barrier = context.Barrier(3)
    results = context.Queue()
    processes = [
        context.Process(target=_upgrade_in_process, args=(database_url, barrier, results))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)

    assert outcomes == [("ok", False), ("ok", False), ("ok", True)]
    engine = db.make_engine(database_url)
    try:
        assert _diff(engine, schema.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_removes_everything(database_url: str):
    from alembic import command

    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "base")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            left = set(inspector.get_table_names()) | set(inspector.get_view_names())
        assert left <= {VERSION_TABLE}
    finally:
        engine.dispose()
