"""The sandbox's realistic orders, products and returns land in the tables as they are."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    Warehouse,
    schema,
)

ENTITY_TABLES = {
    "orders": schema.orders,
    "order_line_items": schema.order_line_items,
    "products": schema.products,
    "product_skus": schema.product_skus,
    "returns": schema.returns,
    "return_line_items": schema.return_line_items,
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        seed=11, shops=2, orders_per_shop=250, products_per_shop=25, days=14, return_every=6
    )
    with run_sandbox(config) as running:
        yield running


def _load_truth(wh: Warehouse, sandbox: RunningSandbox) -> dict:
    results = {}
    for shop in sandbox.shops:
        with wh.begin() as tx:
            results[shop.id] = (
                tx.load(ORDER_TABLES, shop.id, sandbox.control.truth("orders", shop_id=shop.id))
                + tx.load(
                    PRODUCT_TABLES, shop.id, sandbox.control.truth("products", shop_id=shop.id)
                )
                + tx.load(RETURN_TABLES, shop.id, sandbox.control.truth("returns", shop_id=shop.id))
            )
    return results


def _count(wh: Warehouse, table: sa.Table, shop_id: str) -> int:
    with wh.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.shop_id == shop_id)
        ).scalar_one()


def _orders_in_db(wh: Warehouse, shop_id: str) -> dict[str, tuple]:
    table = schema.orders
    query = sa.select(
        table.c.id, table.c.status, table.c.update_time, table.c.sub_total, table.c.total_amount
    ).where(table.c.shop_id == shop_id)
    with wh.engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


def _orders_in_truth(sandbox: RunningSandbox, shop_id: str) -> dict[str, tuple]:
    return {
        o["id"]: (
            o["status"],
            o["update_time"],
            Decimal(o["payment"]["sub_total"]),
            Decimal(o["payment"]["total_amount"]),
        )
        for o in sandbox.control.truth("orders", shop_id=shop_id)
    }


def test_sandbox_objects_load_completely_and_exactly(warehouse: Warehouse, sandbox):
    sandbox.control.reset()
    first = _load_truth(warehouse, sandbox)

    for shop in sandbox.shops:
        truth_counts = sandbox.control.counts(shop_id=shop.id)
        for entity, table in ENTITY_TABLES.items():
            assert _count(warehouse, table, shop.id) == truth_counts[entity], (shop.id, entity)
        assert first[shop.id]["tiktok_orders"].inserted == truth_counts["orders"]
        assert _orders_in_db(warehouse, shop.id) == _orders_in_truth(sandbox, shop.id)

    rerun = _load_truth(warehouse, sandbox)
    for result in rerun.values():
        assert all(c.written == 0 and c.deleted == 0 for c in result.values())

    # Six hours later: new orders arrive and existing ones move on; the tables follow.
    sandbox.control.advance(6 * 3600)
    later = _load_truth(warehouse, sandbox)
    for shop in sandbox.shops:
        truth_counts = sandbox.control.counts(shop_id=shop.id)
        assert _orders_in_db(warehouse, shop.id) == _orders_in_truth(sandbox, shop.id)
        assert (
            _count(warehouse, schema.order_line_items, shop.id)
            == (truth_counts["order_line_items"])
        )
        orders = later[shop.id]["tiktok_orders"]
        assert orders.inserted + orders.updated > 0 and orders.stale == 0
    sandbox.control.reset()
