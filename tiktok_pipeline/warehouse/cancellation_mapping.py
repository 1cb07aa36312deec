"""TikTok cancellation objects -> rows of ``tiktok_cancellations`` and their line items.

Pure functions, like :mod:`.mapping`; the object is one of the ``cancellations`` of Search
Cancellations, exactly as TikTok returns it.
"""

from __future__ import annotations

from typing import Any

from tiktok_pipeline.warehouse.mapping import (
    Context,
    Prepared,
    Row,
    Serialized,
    finish_row,
    read_amounts,
    read_items,
    read_object,
    read_texts,
    read_times,
    required_id,
)
from tiktok_pipeline.warehouse.return_mapping import RETURN_LINE_TEXT, RETURN_REFUND, RETURN_TIMES

CANCELLATION_TEXT = (
    "order_id",
    "cancel_type",
    "cancel_status",
    "role",
    "cancel_reason",
    "cancel_reason_text",
)
#: A cancelled line's refund holds the order-level refund's parts, each its share of them.
LINE_REFUND = RETURN_REFUND


def cancellation_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_cancellations`` and ``tiktok_cancellation_line_items`` for one
    cancellation object (keyed by its ``cancel_id``)."""
    cancel_id = required_id(data, "cancel_id", "the cancellation", "")
    shop_id, synced_at, source = ctx.shop_id, ctx.synced_at, ctx.source
    row: Row = {"shop_id": shop_id, "id": cancel_id}
    read_texts(row, data, CANCELLATION_TEXT, "")
    read_times(row, data, RETURN_TIMES, "")
    refund = read_object(data.get("refund_amount"), "refund_amount.")
    read_texts(row, refund, ("currency",), "refund_amount.")
    read_amounts(row, refund, RETURN_REFUND, "refund_amount.")
    lines = read_items(data, "cancel_line_items", "")
    row["line_item_count"] = len(lines)
    finish_row(row, ctx, serialized)

    order_id = row["order_id"]
    children = []
    for index, line in enumerate(lines):
        path = f"cancel_line_items[{index}]."
        line = read_object(line, path)
        child: Row = {
            "shop_id": shop_id,
            "id": required_id(line, "cancel_line_item_id", f"cancel_line_items[{index}]", path),
            "cancel_id": cancel_id,
            "order_id": order_id,
        }
        read_texts(child, line, RETURN_LINE_TEXT, path)
        line_refund = read_object(line.get("refund_amount"), f"{path}refund_amount.")
        read_texts(child, line_refund, ("currency",), f"{path}refund_amount.")
        read_amounts(child, line_refund, LINE_REFUND, f"{path}refund_amount.")
        child["_synced_at"] = synced_at
        child["_source"] = source
        children.append(child)
    return Prepared(cancel_id, row, {"tiktok_cancellation_line_items": children})
