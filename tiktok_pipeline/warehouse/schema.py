"""The warehouse tables (and the views of ``views.py``), with every column's description.

Descriptions live here only, as the columns' ``comment``: Postgres stores them (``\\d+`` and BI
tools show them), the data dictionary (docs/data-dictionary.md) and Dagster's column schema
are generated from them. Migrations must match these tables (a test compares them).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.db import UTCDateTime
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
from tiktok_pipeline.warehouse.types import Money, RawJSON
from tiktok_pipeline.warehouse.views import daily_sales

ORDER_STATUSES = (
    "UNPAID, ON_HOLD, AWAITING_SHIPMENT, PARTIALLY_SHIPPING, AWAITING_COLLECTION, IN_TRANSIT, "
    "DELIVERED, COMPLETED or CANCELLED"
)

orders = sa.Table(
    "tiktok_orders",
    metadata,
    key_column("shop_id", "TikTok shop id (a string of digits) of the shop that sold the order."),
    key_column("id", "TikTok order id (a string of digits, e.g. `576461413038785752`)."),
    text_column("status", f"Order status: {ORDER_STATUSES}."),
    *time_columns("create_time", "created_at", "When the buyer placed the order"),
    *time_columns(
        "update_time",
        "updated_at",
        "When the order last changed on TikTok",
        "A stored order is only replaced by a payload with the same or a newer update_time.",
    ),
    *time_columns("paid_time", "paid_at", "When the buyer paid"),
    *time_columns("rts_time", "rts_at", "When the seller marked the order ready to ship"),
    *time_columns("collection_time", "collected_at", "When the carrier collected the package"),
    *time_columns("delivery_time", "delivered_at", "When the order was delivered"),
    *time_columns("cancel_time", "cancelled_at", "When the order was cancelled"),
    text_column("buyer_user_id", "TikTok's anonymous buyer id (the order's `user_id`)."),
    currency_column("`payment.currency`"),
    money_column(
        "sub_total",
        "Products after discounts: original_total_product_price - seller_discount - "
        "platform_discount (`payment.sub_total`).",
    ),
    money_column(
        "shipping_fee",
        "Shipping the buyer pays: original_shipping_fee - shipping_fee_seller_discount - "
        "shipping_fee_platform_discount (`payment.shipping_fee`).",
    ),
    money_column(
        "seller_discount", "Product discount funded by the seller (`payment.seller_discount`)."
    ),
    money_column(
        "platform_discount", "Product discount funded by TikTok (`payment.platform_discount`)."
    ),
    money_column(
        "total_amount",
        "What the buyer pays in total: sub_total + shipping_fee + taxes + fees "
        "(`payment.total_amount`).",
    ),
    money_column(
        "original_total_product_price",
        "Products at their original price, before any discount: the gross merchandise value "
        "(`payment.original_total_product_price`).",
    ),
    money_column(
        "original_shipping_fee", "Shipping before discounts (`payment.original_shipping_fee`)."
    ),
    money_column(
        "shipping_fee_seller_discount",
        "Shipping discount funded by the seller (`payment.shipping_fee_seller_discount`).",
    ),
    money_column(
        "shipping_fee_platform_discount",
        "Shipping discount funded by TikTok (`payment.shipping_fee_platform_discount`).",
    ),
    money_column("tax", "All taxes charged to the buyer (`payment.tax`)."),
    money_column("product_tax", "Tax on the products (`payment.product_tax`)."),
    money_column("shipping_fee_tax", "Tax on shipping (`payment.shipping_fee_tax`)."),
    money_column(
        "retail_delivery_fee",
        "Retail delivery fee, e.g. in Colorado (`payment.retail_delivery_fee`).",
    ),
    money_column(
        "small_order_fee", "Fee for orders under the minimum (`payment.small_order_fee`)."
    ),
    money_column(
        "buyer_service_fee", "Service fee charged to the buyer (`payment.buyer_service_fee`)."
    ),
    money_column("handling_fee", "Handling fee (`payment.handling_fee`)."),
    text_column(
        "fulfillment_type",
        "Who fulfils the order: FULFILLMENT_BY_SELLER, FULFILLMENT_BY_TIKTOK or "
        "FULFILLMENT_BY_DILAYANI_TOKOPEDIA.",
    ),
    text_column("shipping_type", "Who arranges shipping: TIKTOK or SELLER."),
    text_column("delivery_type", "HOME_DELIVERY or COLLECTION_POINT."),
    text_column("payment_method_name", "Payment method shown to the buyer, e.g. `CARD`."),
    text_column(
        "order_type",
        "NORMAL, ZERO_LOTTERY, PRE_ORDER, MADE_TO_ORDER or BACK_ORDER (US); may be empty.",
    ),
    text_column("warehouse_id", "TikTok id of the seller warehouse that ships the order."),
    text_column("shipping_provider", "Name of the carrier."),
    text_column("tracking_number", "The carrier's tracking number."),
    long_text_column("cancel_reason", "Why the order was cancelled (free text from TikTok)."),
    text_column("cancellation_initiator", "Who cancelled the order: SELLER, BUYER or SYSTEM."),
    flag_column("is_cod", "True for cash on delivery."),
    flag_column("is_sample_order", "True for a free sample order (e.g. for creators)."),
    flag_column("is_on_hold_order", "True while the order is in TikTok's on-hold period."),
    flag_column("is_replacement_order", "True when the order replaces another one."),
    flag_column("is_exchange_order", "True when the order is an exchange."),
    flag_column("is_buyer_request_cancel", "True when the buyer has asked to cancel."),
    text_column(
        "region_code",
        "Country/region of the delivery address (`recipient_address.region_code`, e.g. US, GB).",
    ),
    int_column(
        "line_item_count",
        "Number of line items. TikTok sends one line item per unit, so this is the units sold.",
    ),
    raw_column("order", "line items (`line_items`)"),
    row_hash_column("order"),
    *sync_columns(),
    sa.Column(
        "_buyer_data_purged_at",
        UTCDateTime(),
        comment="UTC time when the buyer's personal data (name, address, phone, e-mail, "
        "message, tax id) was removed from `raw`, by the retention job "
        "(TIKTOK_BUYER_DATA_RETENTION_DAYS) or `tiktok-pipeline buyers purge`; later syncs of "
        "the order store it without them too. NULL while the order keeps them.",
    ),
    index("tiktok_orders", "shop_id", "update_time"),
    # Answers the loader's "which of these orders are purged?" from the index alone; holds
    # only purged orders.
    sa.Index(
        "ix_tiktok_orders_purged",
        "shop_id",
        "id",
        "_buyer_data_purged_at",
        sqlite_where=sa.text("_buyer_data_purged_at IS NOT NULL"),
        postgresql_where=sa.text("_buyer_data_purged_at IS NOT NULL"),
    ),
    index("tiktok_orders", "shop_id", "create_time"),
    comment="One row per TikTok Shop order (API 202309 order object); the newest version wins.",
)

order_line_items = sa.Table(
    "tiktok_order_line_items",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("id", "TikTok line item id (unique within the shop)."),
    text_column(
        "order_id", "The order this line item belongs to (tiktok_orders.id).", nullable=False
    ),
    text_column("product_id", "TikTok product id (tiktok_products.id)."),
    text_column("sku_id", "TikTok SKU id (tiktok_product_skus.id)."),
    long_text_column("product_name", "Product title at the time of the order."),
    long_text_column("sku_name", "SKU name (variant, e.g. `Red, XL`) at the time of the order."),
    text_column("seller_sku", "The seller's own SKU code."),
    int_column(
        "quantity",
        "Units on this line: 1, since TikTok sends one line item per unit (a `quantity` "
        "field, if TikTok ever sends one, is used instead).",
        nullable=False,
    ),
    currency_column(),
    money_column("sale_price", "Price the buyer paid for this unit, after discounts."),
    money_column("original_price", "Unit price before discounts."),
    money_column("platform_discount", "Discount on this unit funded by TikTok."),
    money_column("seller_discount", "Discount on this unit funded by the seller."),
    text_column(
        "display_status",
        "Line item status (order statuses without ON_HOLD and PARTIALLY_SHIPPING).",
    ),
    text_column("package_id", "TikTok package id the unit ships in."),
    text_column(
        "package_status",
        "Package status: TO_FULFILL, PROCESSING, FULFILLING, COMPLETED or CANCELLED.",
    ),
    long_text_column("cancel_reason", "Why this unit was cancelled."),
    text_column("cancel_user", "Who cancelled this unit: BUYER, SELLER, OPERATOR or SYSTEM."),
    flag_column("is_gift", "True for a free gift."),
    *time_columns("rts_time", "rts_at", "When this unit was marked ready to ship"),
    *sync_columns(),
    index("tiktok_order_line_items", "shop_id", "order_id"),
    comment="One row per order line item (one per unit sold); replaced whenever its order is."
    + raw_in_parent("line item", "order", "`tiktok_orders.raw -> 'line_items'`"),
)

products = sa.Table(
    "tiktok_products",
    metadata,
    key_column("shop_id", "TikTok shop id of the product's shop."),
    key_column("id", "TikTok product id."),
    long_text_column("title", "Product title."),
    text_column(
        "status",
        "Product status: DRAFT, PENDING, FAILED, ACTIVATE, SELLER_DEACTIVATED, "
        "PLATFORM_DEACTIVATED, FREEZE or DELETED.",
    ),
    *time_columns("create_time", "created_at", "When the product was created"),
    *time_columns(
        "update_time",
        "updated_at",
        "When the product last changed on TikTok",
        "A stored product is only replaced by a payload with the same or a newer update_time.",
    ),
    sa.Column(
        "sales_regions",
        sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
        comment='JSON array of the region codes the product is sold in, e.g. ["US"].',
    ),
    flag_column("is_not_for_sale", "True when the product is listed but not for sale."),
    flag_column("has_draft", "True when the product has an unpublished draft version."),
    text_column("listing_quality_tier", "TikTok's listing quality tier, e.g. POOR, FAIR or GOOD."),
    int_column("sku_count", "Number of SKUs (variants) of the product."),
    raw_column("product", "SKUs (`skus`, with `inventory`)"),
    row_hash_column("product"),
    *sync_columns(),
    index("tiktok_products", "shop_id", "update_time"),
    comment="One row per TikTok Shop product (API 202309/202502 product object).",
)

product_skus = sa.Table(
    "tiktok_product_skus",
    metadata,
    key_column("shop_id", "TikTok shop id of the product's shop."),
    key_column("id", "TikTok SKU id."),
    text_column("product_id", "The SKU's product (tiktok_products.id).", nullable=False),
    text_column("seller_sku", "The seller's own SKU code."),
    currency_column("`price.currency`"),
    money_column("sale_price", "Current sale price (`price.sale_price`)."),
    money_column(
        "tax_exclusive_price",
        "Sale price without tax, where TikTok reports it (`price.tax_exclusive_price`).",
    ),
    money_column("list_price", "List (strikethrough) price when TikTok sends one (`list_price`)."),
    int_column("total_quantity", "Stock over all warehouses: the sum of `inventory[].quantity`."),
    int_column("warehouse_count", "Number of warehouses that hold stock entries for the SKU."),
    *sync_columns(),
    index("tiktok_product_skus", "shop_id", "product_id"),
    comment="One row per product SKU (variant); replaced whenever its product is."
    + raw_in_parent("SKU", "product", "`tiktok_products.raw -> 'skus'`"),
)

product_sku_inventory = sa.Table(
    "tiktok_product_sku_inventory",
    metadata,
    key_column("shop_id", "TikTok shop id of the product's shop."),
    key_column("sku_id", "TikTok SKU id (tiktok_product_skus.id)."),
    key_column(
        "warehouse_id",
        "TikTok warehouse id; an empty string when TikTok sends none (single-warehouse shops).",
    ),
    text_column("product_id", "The SKU's product (tiktok_products.id).", nullable=False),
    int_column("quantity", "Stock of the SKU in this warehouse, in units."),
    int_column("available_quantity", "Units available to sell, when TikTok reports it."),
    int_column("committed_quantity", "Units reserved by open orders, when TikTok reports it."),
    *sync_columns(),
    index("tiktok_product_sku_inventory", "shop_id", "product_id"),
    comment="Stock per SKU and warehouse, as of the product's last sync; replaced with it.",
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

sync_ledger = sa.Table(
    "tiktok_sync_ledger",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
        comment="Row id (increasing).",
    ),
    text_column("shop_id", "TikTok shop id that was synced.", nullable=False),
    text_column("entity", "What was synced: `orders`, `products` or `returns`.", nullable=False),
    sa.Column(
        "window_start",
        UTCDateTime(),
        nullable=False,
        comment="Start of the synced update_time window, UTC, inclusive.",
    ),
    sa.Column(
        "window_end",
        UTCDateTime(),
        nullable=False,
        comment="End of the synced update_time window, UTC, exclusive.",
    ),
    text_column(
        "status", "`success` (data committed) or `failed` (data rolled back).", nullable=False
    ),
    sa.Column(
        "api_total_count",
        sa.BigInteger,
        comment="TikTok's `total_count` for the window, as the search endpoint reported it.",
    ),
    int_column("items_received", "Distinct entity ids received from TikTok for the window."),
    int_column("pages", "Number of pages fetched."),
    int_column("inserted", "Entities that were new to the warehouse."),
    int_column("updated", "Entities that replaced an older stored version."),
    int_column("unchanged", "Entities identical to the stored version (nothing written)."),
    int_column("stale", "Entities older than the stored version (ignored)."),
    text_column("run_id", "Dagster run id."),
    text_column("partition_key", "Dagster partition key of the run."),
    sa.Column("started_at", UTCDateTime(), comment="When the sync of the window started, UTC."),
    sa.Column("finished_at", UTCDateTime(), comment="When the sync of the window ended, UTC."),
    long_text_column("error", "What went wrong, for failed syncs."),
    sa.CheckConstraint("entity IN ('orders', 'products', 'returns')", name="entity"),
    sa.CheckConstraint("status IN ('success', 'failed')", name="status"),
    index("tiktok_sync_ledger", "shop_id", "entity", "window_start"),
    index("tiktok_sync_ledger", "entity", "finished_at"),
    comment="One row per sync attempt of a (shop, entity, time window): what TikTok reported "
    "and what the warehouse did with it. Used by freshness and completeness checks.",
)

TABLES: dict[str, sa.Table] = {table.name: table for table in metadata.sorted_tables}
VIEWS: dict[str, sa.Table] = {daily_sales.name: daily_sales}


def relation(name: str) -> sa.Table:
    """The Table (or view description) called ``name``; ValueError naming the known ones."""
    found = TABLES.get(name)
    if found is None:
        found = VIEWS.get(name)
    if found is None:
        known = ", ".join(sorted([*TABLES, *VIEWS]))
        raise ValueError(f"unknown warehouse table {name!r}; the tables are: {known}")
    return found


def type_name(column: sa.Column) -> str:
    """A short, backend-neutral name of a column's type for docs and Dagster."""
    column_type = column.type
    if isinstance(column_type, Money):
        return "decimal"
    if isinstance(column_type, UTCDateTime):
        return "timestamp (UTC)"
    if isinstance(column_type, RawJSON | sa.JSON):
        return "json"
    if isinstance(column_type, sa.BigInteger):
        return "bigint"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Date):
        return "date"
    return "text"


def describe(name: str) -> list[tuple[str, str, str]]:
    """``(column, type, description)`` for every column of a table or view, in order."""
    return [(c.name, type_name(c), c.comment or "") for c in relation(name).columns]
