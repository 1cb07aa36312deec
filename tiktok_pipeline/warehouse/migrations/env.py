"""Alembic environment of the warehouse.

``tiktok_pipeline.warehouse.migrate`` (and ``tiktok_pipeline.db.upgrade_schema``) pass the
connection and the version table in ``config.attributes``. Run by hand (``alembic -c ...``),
it falls back to ``sqlalchemy.url`` or ``TIKTOK_WAREHOUSE_URL``. Only the warehouse's own
tables are considered, so the operational store can live in the same database.
"""

from __future__ import annotations

from alembic import context

from tiktok_pipeline.db import make_engine
from tiktok_pipeline.warehouse.schema import metadata

VERSION_TABLE = "tiktok_warehouse_alembic_version"

config = context.config
version_table = config.attributes.get("version_table", VERSION_TABLE)


def include_name(name, type_, parent_names) -> bool:
    """Autogenerate looks only at the warehouse's tables (the store has its own migrations)."""
    if type_ == "table":
        return name in metadata.tables
    return True


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=version_table,
        include_name=include_name,
        compare_type=True,
        **kwargs,
    )


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from tiktok_pipeline.config import load_settings

    return load_settings().warehouse_url


def run_offline() -> None:
    """Emit the SQL instead of running it (``alembic upgrade head --sql``)."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the given connection (or on a new one)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
