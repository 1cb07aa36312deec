"""LoadResult: adding results up and flattening them for Dagster metadata."""

from __future__ import annotations

from tiktok_pipeline.warehouse import LoadResult, TableCounts


def test_results_add_up_per_table():
    first = LoadResult(
        {
            "tiktok_orders": TableCounts(inserted=2, stale=1),
            "tiktok_order_line_items": TableCounts(inserted=5),
        },
        ["a", "b"],
    )
    second = LoadResult(
        {
            "tiktok_orders": TableCounts(updated=1, unchanged=3),
            "tiktok_returns": TableCounts(inserted=1),
        },
        ["c"],
    )

    total = first + second

    assert total["tiktok_orders"] == TableCounts(inserted=2, updated=1, unchanged=3, stale=1)
    assert total["tiktok_order_line_items"] == TableCounts(inserted=5)
    assert total["tiktok_returns"] == TableCounts(inserted=1)
    assert total.changed_ids == ("a", "b", "c")
    assert total["tiktok_orders"].received == 7 and total["tiktok_orders"].written == 3
    assert sum([first, second], LoadResult()) == total
    assert total.counts("tiktok_products") == TableCounts()


def test_as_metadata_is_flat():
    result = LoadResult({"tiktok_orders": TableCounts(inserted=2, deleted=0)})
    assert result.as_metadata() == {
        "tiktok_orders.inserted": 2,
        "tiktok_orders.updated": 0,
        "tiktok_orders.unchanged": 0,
        "tiktok_orders.stale": 0,
        "tiktok_orders.deleted": 0,
    }
