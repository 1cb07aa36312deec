"""Fixtures of the warehouse tests: a migrated warehouse on SQLite and on Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import sqlalchemy as sa

from tiktok_pipeline import db
from tiktok_pipeline.warehouse import Warehouse, schema

SHOP = "7000714532876273420"
OTHER_SHOP = "7000714532876273999"


@pytest.fixture
def warehouse(database_url: str) -> Iterator[Warehouse]:
    """A migrated warehouse, once on a SQLite file and once on a fresh Postgres database."""
    wh = Warehouse.from_url(database_url, upgrade=True)
    try:
        yield wh
    finally:
        engine = db._engines.pop(database_url, None)
        if engine is not None:
            engine.dispose()


def table_rows(wh: Warehouse, table: sa.Table) -> list[dict[str, Any]]:
    """Every row of ``table``, ordered by its primary key, as dicts."""
    order = list(table.primary_key.columns)
    with wh.engine.connect() as connection:
        return [dict(r) for r in connection.execute(sa.select(table).order_by(*order)).mappings()]


def snapshot(wh: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """The full contents of every warehouse table."""
    return {name: table_rows(wh, table) for name, table in schema.TABLES.items()}


def wait_until_blocked(wh: Warehouse, application_name: str, late: Future) -> None:
    """Polls Postgres until the other session waits for a row lock (no sleeping on a guess)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = :name AND wait_event_type = 'Lock'"
    )
    with wh.engine.connect() as connection:
        while not late.done():
            if connection.execute(query, {"name": application_name}).scalar():
                return
            connection.rollback()
