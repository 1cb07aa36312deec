"""Removing buyers' personal data from the warehouse: after retention, or on request.

Two ways in, one way to purge an order: its ``raw`` is replaced by the order without the
buyer's personal data (:func:`~tiktok_pipeline.warehouse.buyer_data.without_buyer_data`), every
typed column is mapped again from that JSON (so a column holding a removed field becomes NULL),
``_row_hash`` is the hash of the purged JSON and ``_buyer_data_purged_at`` records when.

- :func:`purge_expired`: orders COMPLETED or CANCELLED (their last update) more than the
  retention period ago (``TIKTOK_BUYER_DATA_RETENTION_DAYS``), for the scheduled job.
- :func:`purge_buyer`: every order of one buyer now, for a deletion request (GDPR, CCPA).

A later sync of a purged order stores it purged again (the loader asks :func:`purged_keys`),
so TikTok sending the data again does not bring it back, and an unchanged order is not
rewritten at all (the purged JSON hashes the same). Ids, amounts, statuses, times, line items
and the buyer's pseudonymous ``user_id`` stay: every count and total is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.warehouse import schema
from tiktok_pipeline.warehouse.buyer_data import FINAL_ORDER_STATUSES, without_buyer_data
from tiktok_pipeline.warehouse.mapping import Context, order_rows, serialize

#: The column that marks a purged row; a table has buyer data when it has this column.
PURGED_AT = "_buyer_data_purged_at"
#: Orders purged per transaction.
BATCH_SIZE = 1000
#: Synced tables a purge reports on (all but the orders hold no buyer personal data).
REPORTED_TABLES = (
    "tiktok_orders",
    "tiktok_order_line_items",
    "tiktok_returns",
    "tiktok_return_line_items",
    "tiktok_products",
    "tiktok_product_skus",
    "tiktok_product_sku_inventory",
)
_BUYER_ID = re.compile(r"^[0-9]{1,32}$")
# Columns a purge leaves as they are: the key, and what the last sync wrote.
_KEPT = ("shop_id", "id", "_synced_at", "_source")


@dataclass
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove), per table."""

    purged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPORTED_TABLES, 0))
    #: Orders of the buyer that were purged before (``purge_buyer`` only).
    already_purged: int = 0
    #: Orders whose last update is before this are due (``purge_expired`` only).
    cutoff: datetime | None = None
    dry_run: bool = False

    @property
    def orders(self) -> int:
        """Orders purged (or due, in a dry run)."""
        return self.purged["tiktok_orders"]

    def summary(self) -> str:
        """One line for logs."""
        verb = "would purge" if self.dry_run else "purged"
        text = f"{verb} the buyer data of {self.orders} order(s)"
        if self.cutoff is not None:
            text += f" completed or cancelled before {self.cutoff:%Y-%m-%d %H:%M} UTC"
        if self.already_purged:
            text += f"; {self.already_purged} order(s) had been purged before"
        return text


def check_buyer_user_id(value: str) -> str:
    """``value`` as a TikTok buyer ``user_id`` (a string of digits); ValueError otherwise."""
    text = value.strip()
    if not _BUYER_ID.match(text):
        raise ValueError(
            f"{value!r} is not a TikTok buyer user_id: it is the order's `user_id` "
            "(tiktok_orders.buyer_user_id), a string of digits such as 7494582356417495306"
        )
    return text


def purged_keys(
    connection: sa.Connection, table: sa.Table, shop_id: str, keys: Sequence[str]
) -> dict[str, datetime]:
    """``id -> _buyer_data_purged_at`` of the shop's purged rows among ``keys`` (the loader
    stores these orders purged again)."""
    if PURGED_AT not in table.c or not keys:
        return {}
    # One statement with an expanding parameter: no per-value coercion on each call. Its
    # condition matches the partial index ix_tiktok_orders_purged, which answers it alone.
    query = sa.select(table.c.id, table.c[PURGED_AT]).where(
        table.c.shop_id == sa.bindparam("shop_id"),
        table.c.id.in_(sa.bindparam("keys", expanding=True)),
        table.c[PURGED_AT].is_not(None),
    )
    found: dict[str, datetime] = {}
    for start in range(0, len(keys), BATCH_SIZE):
        chunk = list(keys[start : start + BATCH_SIZE])
        rows = connection.execute(query, {"shop_id": shop_id, "keys": chunk})
        found.update({key: when for key, when in rows})
    return found


def purge_expired(
    engine: sa.Engine,
    retention_days: int,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> PurgeReport:
    """Purges the orders COMPLETED or CANCELLED more than ``retention_days`` ago.

    An order's completion is its last update (``update_time``; ``create_time`` when TikTok
    sent none). One transaction per ``batch_size`` orders, so a long first run keeps what it
    did if stopped.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    orders = schema.orders
    last_update = sa.func.coalesce(orders.c.update_time, orders.c.create_time)
    due = sa.and_(
        orders.c.status.in_(FINAL_ORDER_STATUSES),
        last_update < int(cutoff.timestamp()),
        orders.c[PURGED_AT].is_(None),
    )
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    after: tuple[str, str] | None = None
    while True:
        with engine.begin() as connection:
            where = due if after is None else sa.and_(due, _after(orders, after))
            rows = _orders(connection, where, batch_size)
            if not rows:
                return report
            if not dry_run:
                _purge(connection, rows, now)
        report.purged["tiktok_orders"] += len(rows)
        after = (rows[-1]["shop_id"], rows[-1]["id"])


def purge_buyer(
    engine: sa.Engine, buyer_user_id: str, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Purges every order of the buyer ``buyer_user_id`` now, in one transaction.

    Raises:
        ValueError: ``buyer_user_id`` is not a TikTok user_id.
    """
    buyer = check_buyer_user_id(buyer_user_id)
    now = now or utcnow()
    report = PurgeReport(dry_run=dry_run)
    with engine.begin() as connection:
        rows = _orders(connection, schema.orders.c.buyer_user_id == buyer, None)
        due = []
        for row in rows:
            if row[PURGED_AT] is not None and without_buyer_data(row["raw"]) == row["raw"]:
                report.already_purged += 1
            else:
                due.append(row)
        if due and not dry_run:
            _purge(connection, due, now)
    report.purged["tiktok_orders"] = len(due)
    return report


def _after(table: sa.Table, key: tuple[str, str]) -> Any:
    return sa.tuple_(table.c.shop_id, table.c.id) > sa.tuple_(*map(sa.literal, key))


def _orders(connection: sa.Connection, where: Any, limit: int | None) -> list[dict[str, Any]]:
    orders = schema.orders
    query = (
        sa.select(orders.c.shop_id, orders.c.id, orders.c.raw, orders.c[PURGED_AT])
        .where(where)
        .order_by(orders.c.shop_id, orders.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


def _purge(connection: sa.Connection, rows: Iterable[dict[str, Any]], now: datetime) -> None:
    """Rewrites each order from its JSON without the buyer's data (keys and sync columns
    stay as they are)."""
    orders = schema.orders
    columns = [c.name for c in orders.columns if c.name not in _KEPT]
    parameters = []
    for row in rows:
        stripped = without_buyer_data(row["raw"])
        ctx = Context(shop_id=row["shop_id"], synced_at=now, source="poll")
        mapped = order_rows(stripped, ctx, serialize(stripped)).row
        values = {f"v_{name}": mapped[name] for name in columns}
        values[f"v_{PURGED_AT}"] = row[PURGED_AT] or now
        parameters.append({"k_shop_id": row["shop_id"], "k_id": row["id"], **values})
    statement = (
        sa.update(orders)
        .where(orders.c.shop_id == sa.bindparam("k_shop_id"), orders.c.id == sa.bindparam("k_id"))
        .values({name: sa.bindparam(f"v_{name}") for name in columns})
    )
    connection.execute(statement, parameters)
