"""TikTok return objects -> rows of ``tiktok_returns`` and ``tiktok_return_line_items``.

Pure functions, like :mod:`.mapping`; the object is one of the ``return_orders`` of Search
Returns, exactly as TikTok returns it.
"""

from __future__ import annotations

from typing import Any

from tiktok_pipeline.warehouse.mapping import (
    PRODUCT_TIMES,
    Context,
    Prepared,
    Row,
    Serialized,
    finish_row,
    read_amounts,
    read_flags,
    read_items,
    read_object,
    read_texts,
    read_times,
    required_id,
)

RETURN_TIMES = PRODUCT_TIMES
RETURN_TEXT = (
    "order_id",
    "return_type",
    "return_status",
    "role",
    "arbitration_status",
    "return_reason",
    "return_reason_text",
    "shipment_type",
    "handover_method",
    "return_method",
    "combined_return_id",
    "seller_proposed_return_type",
    "return_tracking_number",
    "return_provider_name",
    "return_provider_id",
)
RETURN_FLAGS = ("can_buyer_keep_item", "is_combined_return", "is_quick_refund")
#: The amounts of a return's ``discount_amount`` and ``shipping_fee_amount`` arrays.
RETURN_DISCOUNTS = (
    "product_platform_discount",
    "product_seller_discount",
    "shipping_fee_platform_discount",
    "shipping_fee_seller_discount",
)
RETURN_SHIPPING_FEES = (
    "seller_paid_return_shipping_fee",
    "platform_paid_return_shipping_fee",
    "buyer_paid_return_shipping_fee",
)
RETURN_REFUND = (
    "refund_total",
    "refund_subtotal",
    "refund_shipping_fee",
    "refund_tax",
    "retail_delivery_fee",
    "buyer_service_fee",
)
RETURN_LINE_TEXT = ("order_line_item_id", "sku_id", "sku_name", "product_name", "seller_sku")
RETURN_LINE_REFUND = ("refund_total", "refund_subtotal", "refund_shipping_fee", "refund_tax")


def _summed_amounts(row: Row, data: dict[str, Any], key: str, names: tuple[str, ...]) -> None:
    """``names`` summed over the objects of the array ``data[key]`` (TikTok sends one);
    None when the array is empty or missing, or no element has the amount."""
    parts = read_items(data, key, "")
    if parts and row.get("currency") is None:  # the return's own currency comes first
        read_texts(row, read_object(parts[0], f"{key}[0]."), ("currency",), f"{key}[0].")
    if len(parts) == 1:
        read_amounts(row, read_object(parts[0], f"{key}[0]."), names, f"{key}[0].")
        return
    for name in names:
        row[name] = None
    for index, part in enumerate(parts):
        amounts: Row = {}
        read_amounts(amounts, read_object(part, f"{key}[{index}]."), names, f"{key}[{index}].")
        for name in names:
            value = amounts[name]
            if value is not None:
                total = row[name]
                row[name] = value if total is None else total + value


def return_rows(data: dict[str, Any], ctx: Context, serialized: Serialized) -> Prepared:
    """Rows of ``tiktok_returns`` and ``tiktok_return_line_items`` for one return object."""
    return_id = required_id(data, "return_id", "the return", "")
    shop_id, synced_at, source = ctx.shop_id, ctx.synced_at, ctx.source
    row: Row = {"shop_id": shop_id, "return_id": return_id}
    read_texts(row, data, RETURN_TEXT, "")
    read_times(row, data, RETURN_TIMES, "")
    refund = read_object(data.get("refund_amount"), "refund_amount.")
    read_texts(row, refund, ("currency",), "refund_amount.")
    read_amounts(row, refund, RETURN_REFUND, "refund_amount.")
    read_flags(row, data, RETURN_FLAGS, "")
    _summed_amounts(row, data, "discount_amount", RETURN_DISCOUNTS)
    _summed_amounts(row, data, "shipping_fee_amount", RETURN_SHIPPING_FEES)
    partial = data.get("partial_refund")
    if partial is None:
        row["partial_refund_amount"] = None
    else:
        partial = read_object(partial, "partial_refund.")
        amount: Row = {}
        read_amounts(amount, partial, ("amount",), "partial_refund.")
        row["partial_refund_amount"] = amount["amount"]
    lines = read_items(data, "return_line_items", "")
    row["line_item_count"] = len(lines)
    finish_row(row, ctx, serialized)

    order_id = row["order_id"]
    children = []
    for index, line in enumerate(lines):
        path = f"return_line_items[{index}]."
        line = read_object(line, path)
        child: Row = {
            "shop_id": shop_id,
            "return_line_item_id": required_id(
                line, "return_line_item_id", f"return_line_items[{index}]", path
            ),
            "return_id": return_id,
            "order_id": order_id,
        }
        read_texts(child, line, RETURN_LINE_TEXT, path)
        line_refund = read_object(line.get("refund_amount"), f"{path}refund_amount.")
        read_texts(child, line_refund, ("currency",), f"{path}refund_amount.")
        read_amounts(child, line_refund, RETURN_LINE_REFUND, f"{path}refund_amount.")
        child["_synced_at"] = synced_at
        child["_source"] = source
        children.append(child)
    return Prepared(return_id, row, {"tiktok_return_line_items": children})
