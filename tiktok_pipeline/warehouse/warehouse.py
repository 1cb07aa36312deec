"""The warehouse's front door: load TikTok objects, record syncs, read the ledger."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.config import ConfigurationError, load_settings
from tiktok_pipeline.db import is_sqlite, shared_engine, utcnow
from tiktok_pipeline.warehouse import columns, ledger, loader, migrate, schema, snapshots
from tiktok_pipeline.warehouse.ledger import LedgerEntry
from tiktok_pipeline.warehouse.objects import ObjectTables
from tiktok_pipeline.warehouse.result import LoadResult

logger = logging.getLogger(__name__)

#: One object exactly as TikTok's API returns it (an order, a product, a return).
TikTokObject = Mapping[str, Any]


def _check_load_args(shop_id: str, source: str, synced_at: datetime | None) -> datetime:
    if not isinstance(shop_id, str) or not shop_id:
        raise ValueError(f"shop_id must be a non-empty string (TikTok's shop id); got {shop_id!r}")
    if source not in columns.SOURCES:
        raise ValueError(f"source must be 'poll' or 'webhook'; got {source!r}")
    if synced_at is None:
        return utcnow()
    if not isinstance(synced_at, datetime) or synced_at.tzinfo is None:
        raise ValueError(f"synced_at must be an aware UTC datetime; got {synced_at!r}")
    return synced_at


class WarehouseTransaction:
    """Loads and ledger entries that commit together (see :meth:`Warehouse.begin`)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def load(
        self,
        tables: ObjectTables,
        shop_id: str,
        objects: Iterable[TikTokObject],
        *,
        source: str = "poll",
        synced_at: datetime | None = None,
    ) -> LoadResult:
        """Upserts ``objects`` of one shop into ``tables`` and replaces their children.

        Args:
            tables: what the objects are: :data:`ORDER_TABLES`, :data:`PRODUCT_TABLES` or
                :data:`RETURN_TABLES`.
            shop_id: TikTok shop id the objects belong to.
            objects: objects exactly as TikTok's endpoints return them (for returns: the
                ``return_orders`` of Search Returns).
            source: ``poll`` or ``webhook``, stored in ``_source``.
            synced_at: Time stored in ``_synced_at`` of written rows (default: now, UTC).

        Returns:
            Counts for each of ``tables.table_names`` (e.g. ``tiktok_orders`` and
            ``tiktok_order_line_items``).

        Raises:
            ValueError: an object has no id or a field cannot be read.
        """
        synced_at = _check_load_args(shop_id, source, synced_at)
        return loader.load(
            self.connection, tables, shop_id, objects, source=source, synced_at=synced_at
        )

    def replace_snapshot(
        self,
        tables: ObjectTables,
        shop_id: str,
        objects: Iterable[TikTokObject],
        *,
        source: str = "poll",
        synced_at: datetime | None = None,
    ) -> LoadResult:
        """Makes ``objects`` the shop's complete set of rows in ``tables`` (e.g.
        :data:`UNSETTLED_TABLES`): loads them like :meth:`load`, then deletes the shop's
        other rows (counted as the parent table's ``deleted``), in this transaction."""
        synced_at = _check_load_args(shop_id, source, synced_at)
        return snapshots.replace_shop_rows(
            self.connection, tables, shop_id, objects, source=source, synced_at=synced_at
        )

    def record_sync(
        self,
        *,
        shop_id: str,
        entity: str,
        window_start: datetime,
        window_end: datetime,
        status: str = "success",
        api_total_count: int | None = None,
        items_received: int | None = None,
        pages: int | None = None,
        result: LoadResult | None = None,
        run_id: str | None = None,
        partition_key: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> int:
        """Adds a row to ``tiktok_sync_ledger`` in this transaction; returns its id.

        ``inserted``/``updated``/``unchanged``/``stale`` come from ``result``'s parent table
        (e.g. ``tiktok_orders``); ``items_received`` defaults to their sum (distinct ids).
        ``finished_at`` defaults to now. ``error`` must already be free of secrets.
        """
        row = ledger.sync_row(
            shop_id=shop_id,
            entity=entity,
            window_start=window_start,
            window_end=window_end,
            status=status,
            api_total_count=api_total_count,
            items_received=items_received,
            pages=pages,
            result=result,
            run_id=run_id,
            partition_key=partition_key,
            started_at=started_at,
            finished_at=finished_at,
            error=error,
        )
        return ledger.insert(self.connection, row)


class Warehouse:
    """The analytic tables of one database (SQLite or Postgres).

    Create it with :meth:`from_url`. :meth:`load` runs in a transaction of its own; use
    :meth:`begin` to commit several loads and a ledger entry together.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str | None = None, *, upgrade: bool | None = None) -> Warehouse:
        """The warehouse at ``url`` (default: ``TIKTOK_WAREHOUSE_URL``, else the operational DB).

        Args:
            url: SQLAlchemy URL of the warehouse database.
            upgrade: True migrates the schema to head; False touches nothing; None (default)
                migrates a SQLite database and checks that any other one is at head.

        Raises:
            ConfigurationError: the schema is not at head and ``upgrade`` is not True.
        """
        if url is None:
            url = load_settings().warehouse_url
        warehouse = cls(shared_engine(url))
        if upgrade is None:
            upgrade = is_sqlite(warehouse.engine)
            if not upgrade:
                warehouse.check_schema()
        if upgrade:
            warehouse.upgrade()
        return warehouse

    def upgrade(self) -> bool:
        """Migrates the schema to head (safe when several processes do it at once).

        Returns:
            True when a migration ran, False when the schema was already at head.
        """
        return migrate.upgrade(self.engine)

    def check_schema(self) -> None:
        """Raises ConfigurationError unless the warehouse schema is at head."""
        if not migrate.is_up_to_date(self.engine):
            url = self.engine.url.render_as_string(hide_password=True)
            raise ConfigurationError(
                f"the warehouse schema at {url} is not up to date: run "
                "`tiktok-pipeline db upgrade` (or Warehouse.from_url(url, upgrade=True))"
            )

    @contextmanager
    def begin(self) -> Iterator[WarehouseTransaction]:
        """One database transaction: commits on exit, rolls back on an exception."""
        with self.engine.begin() as connection:
            yield WarehouseTransaction(connection)

    def load(
        self,
        tables: ObjectTables,
        shop_id: str,
        objects: Iterable[TikTokObject],
        *,
        source: str = "poll",
        synced_at: datetime | None = None,
    ) -> LoadResult:
        """:meth:`WarehouseTransaction.load` in a transaction of its own."""
        with self.begin() as tx:
            return tx.load(tables, shop_id, objects, source=source, synced_at=synced_at)

    def record_sync_failure(
        self,
        *,
        shop_id: str,
        entity: str,
        window_start: datetime,
        window_end: datetime,
        error: str,
        api_total_count: int | None = None,
        items_received: int | None = None,
        pages: int | None = None,
        run_id: str | None = None,
        partition_key: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> int:
        """Records a failed sync in its own transaction (the window's data was rolled back).

        ``error`` must already be free of secrets (see tiktok_pipeline.redaction).
        """
        with self.begin() as tx:
            return tx.record_sync(
                shop_id=shop_id,
                entity=entity,
                window_start=window_start,
                window_end=window_end,
                status="failed",
                api_total_count=api_total_count,
                items_received=items_received,
                pages=pages,
                run_id=run_id,
                partition_key=partition_key,
                started_at=started_at,
                finished_at=finished_at,
                error=error,
            )

    def ledger_latest_success(
        self, entity: str, *, column: str = "window_end"
    ) -> dict[str, datetime]:
        """Per shop id, the end of the newest successfully synced window of ``entity``.

        Pass ``column="finished_at"`` for when that sync finished instead.
        """
        with self.engine.connect() as connection:
            return ledger.latest_success(connection, entity, column)

    def ledger_windows(
        self,
        entity: str,
        window_start: datetime,
        window_end: datetime,
        *,
        shop_id: str | None = None,
        latest_only: bool = True,
    ) -> list[LedgerEntry]:
        """Ledger entries whose window overlaps ``[window_start, window_end)``.

        By default only the latest attempt per (shop, window) is returned.
        """
        with self.engine.connect() as connection:
            return ledger.windows(
                connection,
                entity,
                window_start,
                window_end,
                shop_id=shop_id,
                latest_only=latest_only,
            )

    @staticmethod
    def table_schema(table_name: str) -> list[tuple[str, str, str]]:
        """``(column, type, description)`` of a warehouse table or view, as the data dictionary
        and Dagster's column schema show them."""
        return schema.describe(table_name)


def upgrade_warehouse(url: str | None = None) -> bool:
    """Migrates the warehouse at ``url`` (default: the configured one) to head.

    For the ``tiktok-pipeline db upgrade`` command. Returns True when a migration ran.
    """
    return Warehouse.from_url(url, upgrade=False).upgrade()
