"""Buyer data retention: the sandbox's realistic orders lose their buyers' personal data once
past retention, and nothing else; later syncs do not bring it back.

Runs on SQLite and Postgres. The personal data looked for is taken from the orders themselves
(names, phones, e-mails, addresses, messages) and searched in every column of every table.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tiktok_pipeline.config import ConfigurationError, load_buyer_data_retention
from tiktok_pipeline.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from tiktok_pipeline.warehouse import ORDER_TABLES, RETURN_TABLES, Warehouse, schema
from tiktok_pipeline.warehouse.retention import purge_buyer, purge_expired
from tiktok_pipeline_tests.test_warehouse.conftest import table_rows

ADDRESS_PII = (
    "name",
    "first_name",
    "last_name",
    "phone_number",
    "full_address",
    "address_detail",
    "address_line1",
    "address_line2",
    "address_line3",
    "address_line4",
    "postal_code",
)

#: The order's own fields that are the buyer's (the nickname and avatar are their TikTok
#: profile's; ``cpf`` and ``cpf_name`` are sent in Brazil).
BUYER_PII = ("buyer_email", "buyer_message", "buyer_nickname", "buyer_avatar", "cpf", "cpf_name")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        seed=5, shops=2, orders_per_shop=150, products_per_shop=5, days=14, return_every=6
    )
    with run_sandbox(config) as running:
        yield running


def truth(sandbox: RunningSandbox) -> dict[str, list[dict[str, Any]]]:
    """Per shop, its orders exactly as TikTok sends them (personal data included)."""
    return {shop.id: sandbox.control.truth("orders", shop_id=shop.id) for shop in sandbox.shops}


def load(wh: Warehouse, sandbox: RunningSandbox, orders: dict[str, list[dict]]) -> int:
    """Loads ``orders`` (and the shops' returns); returns how many orders were written."""
    written = 0
    for shop in sandbox.shops:
        with wh.begin() as tx:
            result = tx.load(ORDER_TABLES, shop.id, orders[shop.id])
            tx.load(RETURN_TABLES, shop.id, sandbox.control.truth("returns", shop_id=shop.id))
        counts = result["tiktok_orders"]
        written += counts.inserted + counts.updated
    return written


def personal_data(order: dict[str, Any]) -> set[str]:
    """The buyer's personal values in ``order`` (non-empty strings)."""
    address = order.get("recipient_address") or {}
    values = [order.get(name) for name in BUYER_PII]
    values += [address.get(name) for name in ADDRESS_PII]
    return {v for v in values if isinstance(v, str) and v.strip()}


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def found_in_warehouse(wh: Warehouse, values: set[str]) -> set[str]:
    """Which of ``values`` appear in any column of any warehouse table: as a whole value (also
    inside JSON), or, for values of 8 characters or more, as words inside any text."""
    leaves: set[str] = set()
    for table in schema.TABLES.values():
        for row in table_rows(wh, table):
            leaves.update(_leaves(row))
    found = values & leaves
    text = "\n".join(leaves)
    for value in values - found:
        if len(value) < 8:
            continue
        at = text.find(value)
        while at >= 0:
            end = at + len(value)
            if not (at and text[at - 1].isalnum()) and not text[end : end + 1].isalnum():
                found.add(value)
                break
            at = text.find(value, at + 1)
    return found


def figures(wh: Warehouse) -> dict[str, Any]:
    """What reports use: counts, amounts and the daily sales view."""
    o, li = schema.orders, schema.order_line_items
    with wh.engine.connect() as connection:
        totals = connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.sum(o.c.total_amount),
                sa.func.sum(o.c.sub_total),
                sa.func.count(sa.distinct(o.c.buyer_user_id)),
            )
        ).one()
        items = connection.execute(sa.select(sa.func.count()).select_from(li)).scalar_one()
        daily = connection.execute(
            sa.text("SELECT * FROM tiktok_daily_sales ORDER BY shop_id, day, currency")
        ).all()
    return {"orders": tuple(totals), "line_items": items, "daily": daily}


def due(orders: dict[str, list[dict]], cutoff: int) -> set[tuple[str, str]]:
    """(shop, order id) of the orders COMPLETED or CANCELLED before ``cutoff``."""
    return {
        (shop, o["id"])
        for shop, shop_orders in orders.items()
        for o in shop_orders
        if o["status"] in ("COMPLETED", "CANCELLED") and o["update_time"] < cutoff
    }


def rows_by_key(wh: Warehouse) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["shop_id"], r["id"]): r for r in table_rows(wh, schema.orders)}


def forbidden(orders: dict[str, list[dict]], purged: set[tuple[str, str]]) -> set[str]:
    """Personal values of the purged orders that no order kept with its data also holds."""
    gone: set[str] = set()
    kept: set[str] = set()
    for shop, shop_orders in orders.items():
        for o in shop_orders:
            (gone if (shop, o["id"]) in purged else kept).update(personal_data(o))
    return gone - kept


# ##### TESTS


def test_retention_removes_buyer_data_and_keeps_every_figure(
    warehouse: Warehouse, sandbox: RunningSandbox
) -> None:
    orders = truth(sandbox)
    load(warehouse, sandbox, orders)
    finals = sorted(
        o["update_time"]
        for shop_orders in orders.values()
        for o in shop_orders
        if o["status"] in ("COMPLETED", "CANCELLED")
    )
    cutoff = finals[len(finals) // 2]  # half of the completed orders are past retention
    now = datetime.fromtimestamp(cutoff, UTC) + timedelta(days=30)
    expected = due(orders, cutoff)
    values = forbidden(orders, expected)
    before_rows, before_figures = rows_by_key(warehouse), figures(warehouse)
    assert len(expected) > 20 and len(values) > 100
    assert found_in_warehouse(warehouse, values) == values  # the search does find them

    report = purge_expired(warehouse.engine, 30, now=now, batch_size=7)

    assert report.orders == len(expected)
    assert report.cutoff == datetime.fromtimestamp(cutoff, UTC)
    assert found_in_warehouse(warehouse, values) == set()
    assert figures(warehouse) == before_figures
    after_rows = rows_by_key(warehouse)
    for key, row in after_rows.items():
        if key not in expected:
            assert row == before_rows[key], key  # inside the window: untouched
            continue
        old = before_rows[key]
        assert row["_buyer_data_purged_at"] == now
        assert row["buyer_user_id"] == old["buyer_user_id"] is not None
        assert row["region_code"] == old["region_code"] is not None
        assert (
            row["raw"]["recipient_address"]["district_info"]
            == (old["raw"]["recipient_address"]["district_info"])
        )
        assert row["raw"]["line_items"] == old["raw"]["line_items"]
        assert row["raw"]["payment"] == old["raw"]["payment"]
        assert "buyer_email" not in row["raw"] and "buyer_message" not in row["raw"]
        assert row["_row_hash"] != old["_row_hash"]
        assert row["_synced_at"] == old["_synced_at"]
    assert purge_expired(warehouse.engine, 30, now=now).orders == 0  # done once


def test_a_resync_keeps_purged_orders_purged(warehouse: Warehouse, sandbox: RunningSandbox):
    orders = truth(sandbox)
    load(warehouse, sandbox, orders)
    cutoff = max(o["update_time"] for shop_orders in orders.values() for o in shop_orders) + 1
    now = datetime.fromtimestamp(cutoff, UTC) + timedelta(days=90)
    expected = due(orders, cutoff)
    values = forbidden(orders, expected)
    purge_expired(warehouse.engine, 90, now=now)
    purged_rows = rows_by_key(warehouse)

    # TikTok sends the same orders again, personal data included: nothing is rewritten.
    assert load(warehouse, sandbox, truth(sandbox)) == 0
    assert rows_by_key(warehouse) == purged_rows
    # A newer version of a purged order is written, still without the buyer's data.
    shop, order_id = sorted(expected)[0]
    (newer,) = [copy.deepcopy(o) for o in orders[shop] if o["id"] == order_id]
    newer["update_time"] += 60
    newer["seller_note"] = "re-sent after purge"
    assert personal_data(newer)
    with warehouse.begin() as tx:
        result = tx.load(ORDER_TABLES, shop, [newer])

    assert result["tiktok_orders"].updated == 1
    row = rows_by_key(warehouse)[(shop, order_id)]
    assert row["raw"]["seller_note"] == "re-sent after purge"
    assert row["update_time"] == newer["update_time"]
    assert row["_buyer_data_purged_at"] == now
    assert found_in_warehouse(warehouse, values) == set()


def test_nothing_is_purged_inside_the_retention_window(
    warehouse: Warehouse, sandbox: RunningSandbox
) -> None:
    orders = truth(sandbox)
    load(warehouse, sandbox, orders)
    before = rows_by_key(warehouse)
    first = min(o["update_time"] for shop_orders in orders.values() for o in shop_orders)

    report = purge_expired(
        warehouse.engine, 90, now=datetime.fromtimestamp(first, UTC) + timedelta(days=90)
    )

    assert report.orders == 0
    assert rows_by_key(warehouse) == before


def test_purging_one_buyer_touches_only_that_buyers_orders(
    warehouse: Warehouse, sandbox: RunningSandbox
) -> None:
    orders = truth(sandbox)
    load(warehouse, sandbox, orders)
    counts: dict[str, int] = {}
    for shop_orders in orders.values():
        for o in shop_orders:
            counts[o["user_id"]] = counts.get(o["user_id"], 0) + 1
    buyer = max(counts, key=lambda user: counts[user])
    theirs = {(s, o["id"]) for s, so in orders.items() for o in so if o["user_id"] == buyer}
    values = forbidden(orders, theirs)
    before = rows_by_key(warehouse)
    assert counts[buyer] > 1 and values

    report = purge_buyer(warehouse.engine, buyer)

    assert report.orders == counts[buyer]
    assert found_in_warehouse(warehouse, values) == set()
    after = rows_by_key(warehouse)
    assert {k for k in after if after[k] != before[k]} == theirs
    again = purge_buyer(warehouse.engine, buyer)
    assert (again.orders, again.already_purged) == (0, counts[buyer])


def test_the_retention_setting() -> None:
    assert load_buyer_data_retention({}) == 90
    assert load_buyer_data_retention({"TIKTOK_BUYER_DATA_RETENTION_DAYS": "30"}) == 30
    assert load_buyer_data_retention({"TIKTOK_BUYER_DATA_RETENTION_DAYS": "0"}) == 0
    assert load_buyer_data_retention({"TIKTOK_BUYER_DATA_RETENTION_DAYS": "off"}) is None
    with pytest.raises(ConfigurationError, match="TIKTOK_BUYER_DATA_RETENTION_DAYS='3 months'"):
        load_buyer_data_retention({"TIKTOK_BUYER_DATA_RETENTION_DAYS": "3 months"})
