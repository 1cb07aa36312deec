"""Cancellations: newest update_time wins, line items are replaced with their cancellation,
orphan line items are found (SQLite and Postgres)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline.warehouse import CANCELLATION_TABLES, TableCounts, Warehouse, quality, schema
from tiktok_pipeline_tests.test_warehouse import finance_factories as ff
from tiktok_pipeline_tests.test_warehouse.conftest import SHOP, table_rows


def _lines(wh: Warehouse) -> list[tuple[str, str, str | None]]:
    return [
        (r["id"], r["cancel_id"], r["order_line_item_id"])
        for r in table_rows(wh, schema.cancellation_line_items)
    ]


def test_a_cancellation_is_stored_under_its_cancel_id(warehouse: Warehouse):
    result = warehouse.load(CANCELLATION_TABLES, SHOP, [ff.cancellation("C1", lines=["1", "2"])])
    assert result["tiktok_cancellations"] == TableCounts(inserted=1)
    assert result["tiktok_cancellation_line_items"] == TableCounts(inserted=2)
    (row,) = table_rows(warehouse, schema.cancellations)
    assert (row["id"], row["order_id"], row["cancel_status"]) == (
        "C1",
        "576461413038785752",
        "CANCELLATION_REQUEST_PENDING",
    )
    assert (row["currency"], row["refund_total"], row["refund_tax"]) == (
        "USD",
        Decimal("21.59"),
        Decimal("1.60"),
    )
    assert row["line_item_count"] == 2
    assert row["raw"]["cancel_id"] == "C1"
    assert _lines(warehouse) == [
        ("C11", "C1", "5764614130387857521"),
        ("C12", "C1", "5764614130387857522"),
    ]
    (line, _) = table_rows(warehouse, schema.cancellation_line_items)
    assert (line["refund_subtotal"], line["order_id"]) == (Decimal("19.99"), "576461413038785752")


def test_newest_update_time_wins_and_line_items_follow_it(warehouse: Warehouse):
    warehouse.load(
        CANCELLATION_TABLES, SHOP, [ff.cancellation("C1", update_time=200, lines=["1", "2"])]
    )

    older = ff.cancellation("C1", update_time=100, cancel_status="X", lines=["9"])
    result = warehouse.load(CANCELLATION_TABLES, SHOP, [older])
    assert result["tiktok_cancellations"] == TableCounts(stale=1)
    assert table_rows(warehouse, schema.cancellations)[0]["update_time"] == 200
    assert _lines(warehouse) == [
        ("C11", "C1", "5764614130387857521"),
        ("C12", "C1", "5764614130387857522"),
    ]

    newer = ff.cancellation(
        "C1", update_time=300, cancel_status="CANCELLATION_REQUEST_COMPLETE", lines=["2"]
    )
    result = warehouse.load(CANCELLATION_TABLES, SHOP, [newer])
    assert result["tiktok_cancellations"] == TableCounts(updated=1)
    assert result["tiktok_cancellation_line_items"] == TableCounts(inserted=1, deleted=2)
    (row,) = table_rows(warehouse, schema.cancellations)
    assert (row["update_time"], row["cancel_status"]) == (300, "CANCELLATION_REQUEST_COMPLETE")
    assert _lines(warehouse) == [("C12", "C1", "5764614130387857522")]


def test_a_cancellation_without_cancel_id_is_refused(warehouse: Warehouse):
    data = ff.cancellation("C1")
    del data["cancel_id"]
    with pytest.raises(ValueError, match=r"cancellation at position 0.*'cancel_id'"):
        warehouse.load(CANCELLATION_TABLES, SHOP, [data])


def test_orphan_cancellation_line_items_are_found(warehouse: Warehouse):
    warehouse.load(CANCELLATION_TABLES, SHOP, [ff.cancellation("C1"), ff.cancellation("C2")])
    with warehouse.engine.connect() as connection:
        assert quality.orphan_children(connection, "tiktok_cancellation_line_items") == (0, [])
    with warehouse.engine.begin() as connection:
        parents = schema.cancellations
        connection.execute(sa.delete(parents).where(parents.c.id == "C2"))
    with warehouse.engine.connect() as connection:
        assert quality.orphan_children(connection, "tiktok_cancellation_line_items") == (
            1,
            [f"{SHOP}/C2"],
        )
        assert quality.ids_in_several_shops(connection, "tiktok_cancellations") == []
