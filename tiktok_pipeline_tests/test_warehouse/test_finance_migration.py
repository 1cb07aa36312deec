"""Migration 0004 (finance, cancellations, deleted_at, ledger entities, the settlements view)
upgrades a populated 0003 warehouse and downgrades back to it (SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from tiktok_pipeline import db
from tiktok_pipeline.warehouse import migrate, schema
from tiktok_pipeline_tests.test_warehouse.test_migrations import _diff

NEW_TABLES = {
    "tiktok_statements",
    "tiktok_statement_transactions",
    "tiktok_payments",
    "tiktok_withdrawals",
    "tiktok_unsettled_transactions",
    "tiktok_cancellations",
    "tiktok_cancellation_line_items",
}
START = datetime(2026, 1, 1, tzinfo=UTC)


def _ledger_row(connection: sa.Connection, entity: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO tiktok_sync_ledger (shop_id, entity, window_start, window_end, status) "
            "VALUES ('1', :entity, :start, :start, 'success')"
        ),
        {"entity": entity, "start": START.isoformat(sep=" ")},
    )


def _entities(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT entity FROM tiktok_sync_ledger ORDER BY id")
            ).scalars()
        )


def _check_rejects(engine: sa.Engine, entity: str) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        _ledger_row(connection, entity)


def test_upgrade_from_0003_and_back(database_url: str):
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), "0003")
        with engine.begin() as connection:
            _ledger_row(connection, "orders")
        _check_rejects(engine, "statements")
        with engine.begin() as connection:
            # An order as 0003 stores it (today's loader writes the columns of later revisions).
            connection.execute(
                sa.text(
                    "INSERT INTO tiktok_orders (shop_id, id, raw, _row_hash, _synced_at, "
                    "_source) VALUES ('1', '1', '{}', 'h', :at, 'poll')"
                ),
                {"at": START.isoformat(sep=" ")},
            )

        assert migrate.upgrade(engine) is True
        assert _diff(engine, schema.metadata) == []
        with engine.begin() as connection:
            for entity in ("statements", "unsettled_transactions", "cancellations"):
                _ledger_row(connection, entity)
        _check_rejects(engine, "invoices")
        assert _entities(engine) == [
            "orders",
            "statements",
            "unsettled_transactions",
            "cancellations",
        ]
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert NEW_TABLES <= set(inspector.get_table_names())
            assert {"tiktok_daily_sales", "tiktok_order_settlements"} <= set(
                inspector.get_view_names()
            )
            assert "deleted_at" in {c["name"] for c in inspector.get_columns("tiktok_products")}
            assert connection.execute(sa.text("SELECT COUNT(*) FROM tiktok_orders")).scalar() == 1

        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0003")
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            assert not NEW_TABLES & set(inspector.get_table_names())
            assert inspector.get_view_names() == ["tiktok_daily_sales"]
            for table in ("tiktok_products", "tiktok_product_skus"):
                assert "deleted_at" not in {c["name"] for c in inspector.get_columns(table)}
            assert connection.execute(sa.text("SELECT COUNT(*) FROM tiktok_orders")).scalar() == 1
        # The rows of entities 0003 does not know are gone; the others stay.
        assert _entities(engine) == ["orders"]
        _check_rejects(engine, "statements")

        assert migrate.upgrade(engine) is True
        assert _diff(engine, schema.metadata) == []
    finally:
        engine.dispose()
