"""Deleted products keep their rows, dated in ``deleted_at``, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tiktok_pipeline.warehouse import PRODUCT_TABLES, schema
from tiktok_pipeline.warehouse.product_deletions import mark_products_deleted
from tiktok_pipeline_tests.test_warehouse.conftest import OTHER_SHOP, SHOP, table_rows
from tiktok_pipeline_tests.test_warehouse.factories import T0, product


def _deleted_at(wh, table) -> dict[tuple[str, str], datetime | None]:
    return {(r["shop_id"], r["id"]): r["deleted_at"] for r in table_rows(wh, table)}


def test_a_deleted_status_dates_the_product_and_its_skus_and_a_restore_clears_it(warehouse):
    warehouse.load(PRODUCT_TABLES, SHOP, [product("171", update_time=T0), product("172")])
    assert set(_deleted_at(warehouse, schema.products).values()) == {None}

    gone = T0 + 3600
    warehouse.load(PRODUCT_TABLES, SHOP, [product("171", status="DELETED", update_time=gone)])
    when = datetime.fromtimestamp(gone, UTC)
    products = _deleted_at(warehouse, schema.products)
    assert products == {(SHOP, "171"): when, (SHOP, "172"): None}
    skus = {
        r["id"]: r["deleted_at"]
        for r in table_rows(warehouse, schema.product_skus)
        if r["product_id"] == "171"
    }
    assert len(skus) == 2 and set(skus.values()) == {when}
    rows = {r["id"]: r for r in table_rows(warehouse, schema.products)}
    assert rows["171"]["status"] == "DELETED"  # the row stays, with its last payload

    # TikTok restores it: a newer payload with another status is no longer deleted.
    warehouse.load(PRODUCT_TABLES, SHOP, [product("171", update_time=gone + 60)])
    assert _deleted_at(warehouse, schema.products)[(SHOP, "171")] is None
    assert {r["deleted_at"] for r in table_rows(warehouse, schema.product_skus)} == {None}


def test_marking_products_gone_keeps_the_first_date_and_the_other_shops(warehouse):
    warehouse.load(PRODUCT_TABLES, SHOP, [product("171"), product("172")])
    warehouse.load(PRODUCT_TABLES, OTHER_SHOP, [product("171")])
    first = datetime(2024, 6, 2, 8, 30, tzinfo=UTC)
    with warehouse.begin() as tx:
        counts = mark_products_deleted(tx.connection, SHOP, ["171", "999"], first)
    assert counts == {"tiktok_products": 1, "tiktok_product_skus": 2}
    assert _deleted_at(warehouse, schema.products) == {
        (SHOP, "171"): first,
        (SHOP, "172"): None,
        (OTHER_SHOP, "171"): None,
    }
    marked_skus = [r for r in table_rows(warehouse, schema.product_skus) if r["deleted_at"]]
    assert {(r["shop_id"], r["product_id"]) for r in marked_skus} == {(SHOP, "171")}

    # Told again later: already marked, nothing changes.
    with warehouse.begin() as tx:
        again = mark_products_deleted(tx.connection, SHOP, ["171"], datetime.now(UTC))
    assert again == {"tiktok_products": 0, "tiktok_product_skus": 0}
    assert _deleted_at(warehouse, schema.products)[(SHOP, "171")] == first


def test_marking_wants_an_aware_time(warehouse):
    with warehouse.begin() as tx, pytest.raises(ValueError, match="aware UTC"):
        mark_products_deleted(tx.connection, SHOP, ["171"], datetime(2024, 6, 2))
