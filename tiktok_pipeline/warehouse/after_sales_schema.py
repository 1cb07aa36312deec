"""The after-sales tables: returns, cancellations and their line items.

Part of the warehouse's tables (``schema.py`` registers them and describes the conventions);
every column carries its description as its ``comment``.
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.warehouse.columns import (
    currency_column,
    flag_column,
    index,
    int_column,
    key_column,
    long_text_column,
    metadata,
    money_column,
    raw_column,
    raw_in_parent,
    row_hash_column,
    sync_columns,
    text_column,
    time_columns,
)

RETURN_STATUSES = (
    "RETURN_OR_REFUND_REQUEST_PENDING, REFUND_OR_RETURN_REQUEST_REJECT, AWAITING_BUYER_SHIP, "
    "BUYER_SHIPPED_ITEM, REJECT_RECEIVE_PACKAGE, RETURN_OR_REFUND_REQUEST_SUCCESS, "
    "RETURN_OR_REFUND_REQUEST_CANCEL, RETURN_OR_REFUND_REQUEST_COMPLETE, "
    "REPLACEMENT_REQUEST_PENDING, REPLACEMENT_REQUEST_REJECT, "
    "REPLACEMENT_REQUEST_REFUND_SUCCESS, REPLACEMENT_REQUEST_CANCEL, "
    "REPLACEMENT_REQUEST_COMPLETE or AWAITING_BUYER_RESPONSE"
)

returns = sa.Table(
    "tiktok_returns",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("return_id", "TikTok return (after-sales request) id."),
    text_column("order_id", "The order the return is about (tiktok_orders.id)."),
    text_column("return_type", "REFUND, RETURN_AND_REFUND or REPLACEMENT."),
    text_column("return_status", f"Return status: {RETURN_STATUSES}."),
    text_column("role", "Who opened the request: BUYER, SELLER, OPERATOR or SYSTEM."),
    text_column(
        "arbitration_status",
        "TikTok arbitration: IN_PROGRESS, SUPPORT_BUYER, SUPPORT_SELLER or CLOSED; NULL if none.",
    ),
    text_column("return_reason", "Reason code chosen by the buyer."),
    long_text_column("return_reason_text", "The reason in words."),
    text_column("shipment_type", "Who arranges the return shipment: PLATFORM or BUYER_ARRANGE."),
    text_column("handover_method", "How the buyer hands the parcel over: DROP_OFF or PICKUP."),
    text_column("return_method", "Return method as TikTok names it."),
    *time_columns("create_time", "created_at", "When the return was requested"),
    *time_columns(
        "update_time",
        "updated_at",
        "When the return last changed on TikTok",
        "A stored return is only replaced by a payload with the same or a newer update_time.",
    ),
    currency_column("`refund_amount.currency`"),
    money_column("refund_total", "Total refund to the buyer (`refund_amount.refund_total`)."),
    money_column("refund_subtotal", "Refund for the products (`refund_amount.refund_subtotal`)."),
    money_column("refund_shipping_fee", "Refunded shipping (`refund_amount.refund_shipping_fee`)."),
    money_column("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    money_column(
        "retail_delivery_fee",
        "Refunded retail delivery fee (`refund_amount.retail_delivery_fee`).",
    ),
    money_column(
        "buyer_service_fee",
        "Refunded buyer service fee (`refund_amount.buyer_service_fee`).",
    ),
    flag_column(
        "can_buyer_keep_item", "True when the buyer keeps the item (refund without return)."
    ),
    flag_column("is_combined_return", "True when several returns were combined into one."),
    text_column("combined_return_id", "Id of the combined return this one belongs to."),
    flag_column(
        "is_quick_refund",
        "True when TikTok refunded the buyer at once, before the item came back "
        "(`is_quick_refund`).",
    ),
    text_column(
        "seller_proposed_return_type",
        "Return type the seller proposed instead of the buyer's, e.g. REFUND "
        "(`seller_proposed_return_type`); NULL when none.",
    ),
    text_column(
        "return_tracking_number", "Tracking number of the return parcel (`return_tracking_number`)."
    ),
    text_column("return_provider_name", "Carrier of the return parcel (`return_provider_name`)."),
    text_column("return_provider_id", "TikTok id of that carrier (`return_provider_id`)."),
    money_column(
        "product_platform_discount",
        "Product discount funded by TikTok on the returned items "
        "(`discount_amount[].product_platform_discount`, summed over the array's elements).",
    ),
    money_column(
        "product_seller_discount",
        "Product discount funded by the seller on the returned items "
        "(`discount_amount[].product_seller_discount`, summed over the array's elements).",
    ),
    money_column(
        "shipping_fee_platform_discount",
        "Shipping discount funded by TikTok on the returned items "
        "(`discount_amount[].shipping_fee_platform_discount`, summed over the array's elements).",
    ),
    money_column(
        "shipping_fee_seller_discount",
        "Shipping discount funded by the seller on the returned items "
        "(`discount_amount[].shipping_fee_seller_discount`, summed over the array's elements).",
    ),
    money_column(
        "seller_paid_return_shipping_fee",
        "Return shipping paid by the seller "
        "(`shipping_fee_amount[].seller_paid_return_shipping_fee`, summed over the array's "
        "elements).",
    ),
    money_column(
        "platform_paid_return_shipping_fee",
        "Return shipping paid by TikTok "
        "(`shipping_fee_amount[].platform_paid_return_shipping_fee`, summed over the array's "
        "elements).",
    ),
    money_column(
        "buyer_paid_return_shipping_fee",
        "Return shipping paid by the buyer "
        "(`shipping_fee_amount[].buyer_paid_return_shipping_fee`, summed over the array's "
        "elements).",
    ),
    money_column(
        "partial_refund_amount",
        "Partial refund the seller offered instead of the full one (`partial_refund.amount`); "
        "NULL when none.",
    ),
    int_column("line_item_count", "Number of return line items."),
    raw_column("return", "line items (`return_line_items`)"),
    row_hash_column("return"),
    *sync_columns(),
    index("tiktok_returns", "shop_id", "update_time"),
    index("tiktok_returns", "shop_id", "order_id"),
    comment="One row per return, refund or replacement request (API 202309 return object).",
)

return_line_items = sa.Table(
    "tiktok_return_line_items",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("return_line_item_id", "TikTok return line item id."),
    text_column(
        "return_id", "The return this line belongs to (tiktok_returns.return_id).", nullable=False
    ),
    text_column("order_id", "The order of the return (tiktok_orders.id)."),
    text_column(
        "order_line_item_id",
        "The order line item that is returned (tiktok_order_line_items.id).",
    ),
    text_column("sku_id", "TikTok SKU id."),
    long_text_column("sku_name", "SKU name (variant)."),
    long_text_column("product_name", "Product title."),
    text_column("seller_sku", "The seller's own SKU code."),
    currency_column("`refund_amount.currency`"),
    money_column("refund_total", "Total refund for this line (`refund_amount.refund_total`)."),
    money_column("refund_subtotal", "Refund for the product (`refund_amount.refund_subtotal`)."),
    money_column("refund_shipping_fee", "Refunded shipping (`refund_amount.refund_shipping_fee`)."),
    money_column("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    *sync_columns(),
    index("tiktok_return_line_items", "shop_id", "return_id"),
    comment="One row per returned order line item; replaced whenever its return is."
    + raw_in_parent("return line item", "return", "`tiktok_returns.raw -> 'return_line_items'`"),
)

CANCEL_STATUSES = (
    "CANCELLATION_REQUEST_PENDING, CANCELLATION_REQUEST_SUCCESS, CANCELLATION_REQUEST_CANCEL "
    "or CANCELLATION_REQUEST_COMPLETE"
)

cancellations = sa.Table(
    "tiktok_cancellations",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("id", "TikTok cancellation id (`cancel_id`)."),
    text_column("order_id", "The order being cancelled (tiktok_orders.id)."),
    text_column("cancel_type", "CANCEL (by the seller or system) or BUYER_CANCEL."),
    text_column("cancel_status", f"Cancellation status, e.g. {CANCEL_STATUSES}."),
    text_column("role", "Who asked to cancel: BUYER, SELLER, OPERATOR or SYSTEM."),
    *time_columns("create_time", "created_at", "When the cancellation was requested"),
    *time_columns(
        "update_time",
        "updated_at",
        "When the cancellation last changed on TikTok",
        "A stored cancellation is only replaced by a payload with the same or a newer update_time.",
    ),
    text_column("cancel_reason", "Reason code of the cancellation."),
    long_text_column("cancel_reason_text", "The reason in words."),
    currency_column("`refund_amount.currency`"),
    money_column("refund_total", "Total refund to the buyer (`refund_amount.refund_total`)."),
    money_column("refund_subtotal", "Refund for the products (`refund_amount.refund_subtotal`)."),
    money_column("refund_shipping_fee", "Refunded shipping (`refund_amount.refund_shipping_fee`)."),
    money_column("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    money_column(
        "retail_delivery_fee",
        "Refunded retail delivery fee (`refund_amount.retail_delivery_fee`).",
    ),
    money_column(
        "buyer_service_fee", "Refunded buyer service fee (`refund_amount.buyer_service_fee`)."
    ),
    int_column("line_item_count", "Number of cancelled line items (`cancel_line_items`)."),
    raw_column("cancellation", "line items (`cancel_line_items`)"),
    row_hash_column("cancellation"),
    *sync_columns(),
    index("tiktok_cancellations", "shop_id", "update_time"),
    index("tiktok_cancellations", "shop_id", "order_id"),
    comment="One row per order cancellation request (API 202309 cancellation object); the "
    "newest version wins.",
)

cancellation_line_items = sa.Table(
    "tiktok_cancellation_line_items",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("id", "TikTok cancellation line item id (`cancel_line_item_id`)."),
    text_column(
        "cancel_id",
        "The cancellation this line belongs to (tiktok_cancellations.id).",
        nullable=False,
    ),
    text_column("order_id", "The order of the cancellation (tiktok_orders.id)."),
    text_column(
        "order_line_item_id",
        "The order line item that is cancelled (tiktok_order_line_items.id).",
    ),
    text_column("sku_id", "TikTok SKU id."),
    long_text_column("sku_name", "SKU name (variant)."),
    long_text_column("product_name", "Product title."),
    text_column("seller_sku", "The seller's own SKU code."),
    currency_column("`refund_amount.currency`"),
    money_column("refund_total", "Total refund for this line (`refund_amount.refund_total`)."),
    money_column("refund_subtotal", "Refund for the product (`refund_amount.refund_subtotal`)."),
    money_column("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    money_column(
        "refund_shipping_fee",
        "This line's share of the refunded shipping (`refund_amount.refund_shipping_fee`).",
    ),
    money_column(
        "retail_delivery_fee",
        "This line's share of the refunded retail delivery fee "
        "(`refund_amount.retail_delivery_fee`).",
    ),
    money_column(
        "buyer_service_fee",
        "This line's share of the refunded buyer service fee (`refund_amount.buyer_service_fee`).",
    ),
    *sync_columns(),
    index("tiktok_cancellation_line_items", "shop_id", "cancel_id"),
    comment="One row per cancelled order line item; replaced whenever its cancellation is."
    + raw_in_parent(
        "cancellation line item",
        "cancellation",
        "`tiktok_cancellations.raw -> 'cancel_line_items'`",
    ),
)
