"""The fault suite's tools: fresh databases, runs of the real sync job, and whole-table
comparisons of what landed with what the ledger says."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.store import Store
from tiktok_pipeline.warehouse import Warehouse, schema
from tiktok_pipeline_tests.conftest import POSTGRES_ADMIN_URL
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key

#: Every table a sync writes, parent tables first.
SYNCED_TABLES = (
    schema.orders,
    schema.order_line_items,
    schema.products,
    schema.product_skus,
    schema.product_sku_inventory,
    schema.returns,
    schema.return_line_items,
)
#: Bookkeeping: when the pipeline wrote a row, not what TikTok said.
BOOKKEEPING = frozenset({"_synced_at"})

#: The parent table of each entity (the one whose rows the ledger counts).
SYNCED_TABLE_OF = {
    "orders": schema.orders,
    "products": schema.products,
    "returns": schema.returns,
    "cancellations": schema.cancellations,
}
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)

#: Child tables and how their rows point at their parent's rows.
CHILDREN = (
    (schema.order_line_items, "order_id", schema.orders, "id"),
    (schema.product_skus, "product_id", schema.products, "id"),
    (schema.product_sku_inventory, "sku_id", schema.product_skus, "id"),
    (schema.return_line_items, "return_id", schema.returns, "return_id"),
)

#: The days every case backfills: four days before the sandbox's anchor.
FIRST_DAY, LAST_DAY = day_key(4), day_key(1)


@dataclass(frozen=True)
class Reference:
    """What a clean backfill of FIRST_DAY..LAST_DAY left: tables and objects per window."""

    tables: dict[str, list[dict]]
    received: dict[tuple[str, str, str], int]


class Databases:
    """Empty databases of one backend (SQLite files in ``folder`` or Postgres databases),
    dropped by :meth:`drop_all`."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.folder = folder
        self.made: list[str] = []
        self.admin: sa.Engine | None = None
        if backend == "postgres":
            admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
            except sa.exc.OperationalError as exc:
                admin.dispose()
                pytest.skip(f"PostgreSQL is not reachable ({type(exc.orig).__name__})")
            self.admin = admin

    def new(self) -> str:
        """The URL of a new, empty database."""
        if self.admin is None:
            url = sqlite_url(self.folder / f"tiktok-{len(self.made)}.db")
        else:
            name = f"tiktok_faults_{uuid.uuid4().hex[:12]}"
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = (
                sa.make_url(POSTGRES_ADMIN_URL)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        self.made.append(url)
        return url

    def drop_all(self) -> None:
        """Close this process's connections and drop the Postgres databases."""
        from tiktok_pipeline import db

        for url in self.made:
            engine = db._engines.pop(url, None)
            if engine is not None:
                engine.dispose()
        if self.admin is not None:
            with self.admin.connect() as connection:
                for url in self.made:
                    name = sa.make_url(url).database
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


def sandbox_environment(sandbox, url: str) -> dict[str, str]:
    """The variables the definitions read to use ``sandbox`` and the database at ``url``."""
    return {
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
        "TIKTOK_DATABASE_URL": url,
    }


def prepare(sandbox, url: str) -> tuple[Store, Warehouse]:
    """Creates a database's schema and authorizes every sandbox seller in its store."""
    store = Store.from_url(url, upgrade=True)
    warehouse = Warehouse.from_url(url, upgrade=True)
    for seller in sandbox.sellers:
        authorize_seller(sandbox, store, seller.open_id)
    return store, warehouse


def tiktok_config(**overrides) -> dict:
    """Run config for the TikTok resource: the app from the environment, plus ``overrides``."""
    config = {
        "app_key": {"env": "TIKTOK_APP_KEY"},
        "app_secret": {"env": "TIKTOK_APP_SECRET"},
        **overrides,
    }
    return {"resources": {"tiktok": {"config": config}}}


def range_tags(first: str, last: str) -> dict[str, str]:
    """The tags of one run over a range of daily partitions (a single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def run_sync(
    instance: dg.DagsterInstance, first: str, last: str, run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    """The project's sync job over the days ``first``..``last``, in this process."""
    from tiktok_pipeline.definitions import defs as load

    job = load().resolve_job_def("tiktok_sync_job")
    return job.execute_in_process(
        instance=instance,
        tags=range_tags(first, last),
        run_config=run_config or {},
        raise_on_error=False,
    )


def table_contents(engine: sa.Engine) -> dict[str, list[dict]]:
    """Every synced table's rows, by primary key, without the bookkeeping columns."""
    contents = {}
    with engine.connect() as connection:
        for table in SYNCED_TABLES:
            columns = [c for c in table.columns if c.name not in BOOKKEEPING]
            query = sa.select(*columns).order_by(*table.primary_key.columns)
            contents[table.name] = [dict(r) for r in connection.execute(query).mappings()]
    return contents


def received(engine: sa.Engine) -> dict[tuple[str, str, str], int]:
    """Objects received per (shop, entity, day) by the newest successful sync of each window."""
    return {
        (r["shop_id"], r["entity"], r["partition_key"]): r["items_received"]
        for r in ledger_rows(engine)
        if r["status"] == "success"
    }


def ledger_rows(engine: sa.Engine) -> list[dict]:
    """The sync ledger, oldest first."""
    with engine.connect() as connection:
        query = sa.select(schema.sync_ledger).order_by(schema.sync_ledger.c.id)
        return [dict(r) for r in connection.execute(query).mappings()]


def _epoch(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def ledger_matches_tables(engine: sa.Engine) -> list[str]:
    """Where the ledger and the tables disagree (empty: they agree).

    For each (shop, entity, window) the newest successful sync must have received exactly the
    rows the entity's table holds for that window; rows outside every successful window must
    not exist (a killed sync commits nothing), nor child rows without their parent.
    """
    latest: dict[tuple[str, str, int, int], dict] = {}
    for row in ledger_rows(engine):
        if row["status"] == "success":
            key = (
                row["shop_id"],
                row["entity"],
                _epoch(row["window_start"]),
                _epoch(row["window_end"]),
            )
            latest[key] = row
    problems = []
    covered: dict[tuple[str, str], int] = {}
    with engine.connect() as connection:
        for (shop_id, entity, start, end), row in sorted(latest.items()):
            if entity not in SYNCED_TABLE_OF:
                # Finance objects have no update_time and a window near now looks back a week:
                # test_defs/test_finance_sync.py reconciles them.
                continue
            parent = SYNCED_TABLE_OF[entity]
            count = connection.execute(
                sa.select(sa.func.count())
                .select_from(parent)
                .where(
                    parent.c.shop_id == shop_id,
                    parent.c.update_time >= start,
                    parent.c.update_time < end,
                )
            ).scalar_one()
            covered[(shop_id, entity)] = covered.get((shop_id, entity), 0) + count
            if count != row["items_received"]:
                problems.append(
                    f"{entity} of shop {shop_id} in {row['partition_key']}: ledger says "
                    f"{row['items_received']} received, the table holds {count}"
                )
        for entity, parent in SYNCED_TABLE_OF.items():
            totals = connection.execute(
                sa.select(parent.c.shop_id, sa.func.count()).group_by(parent.c.shop_id)
            ).all()
            for shop_id, total in totals:
                if total != covered.get((shop_id, entity), 0):
                    problems.append(
                        f"{entity} of shop {shop_id}: {total} rows, "
                        f"{covered.get((shop_id, entity), 0)} in successful ledger windows"
                    )
        for child, key, parent, parent_key in CHILDREN:
            orphans = connection.execute(
                sa.select(sa.func.count())
                .select_from(child)
                .where(
                    ~sa.exists().where(
                        parent.c.shop_id == child.c.shop_id, parent.c[parent_key] == child.c[key]
                    )
                )
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} rows of {child.name} belong to no {parent.name} row")
    return problems
