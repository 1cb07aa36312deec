"""The warehouse tables (and the views of ``views.py``), with every column's description.

Descriptions live here only, as the columns' ``comment``: Postgres stores them (``\\d+`` and BI
tools show them), the data dictionary (docs/data-dictionary.md) and Dagster's column schema
are generated from them. Migrations must match these tables (a test compares them). The
after-sales and finance tables are defined in ``after_sales_schema.py`` and
``finance_schema.py`` and are reachable from here too (``schema.returns``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.after_sales_schema import (  # noqa: F401 (registers the tables)
    cancellation_line_items,
    cancellations,
    return_line_items,
    returns,
)
from tiktok_pipeline.warehouse.columns import (
    currency_column,
    decimal_column,
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
from tiktok_pipeline.warehouse.finance_schema import (  # noqa: F401 (registers the tables)
    payments,
    statement_transactions,
    statements,
    unsettled_transactions,
    withdrawals,
)
from tiktok_pipeline.warehouse.types import Money, RawJSON
from tiktok_pipeline.warehouse.views import daily_sales, order_settlements

#: What the sync ledger's ``entity`` may be (the ObjectTables' names).
SYNC_ENTITIES = (
    "orders",
    "products",
    "returns",
    "cancellations",
    "statements",
    "statement_transactions",
    "payments",
    "withdrawals",
    "unsettled_transactions",
)
SYNC_ENTITIES_SQL = ", ".join(f"'{entity}'" for entity in SYNC_ENTITIES)
SYNC_ENTITIES_TEXT = ", ".join(f"`{entity}`" for entity in SYNC_ENTITIES)

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
    money_column(
        "payment_platform_discount",
        "Discount funded by the payment provider (e.g. a card or wallet promotion) "
        "(`payment.payment_platform_discount`). Reported beside the order's amounts: "
        "total_amount neither includes nor subtracts it.",
    ),
    money_column(
        "payment_discount_service_fee",
        "Service fee charged for the payment provider's discount "
        "(`payment.payment_discount_service_fee`).",
    ),
    money_column(
        "distance_fee", "Delivery fee for the distance to the buyer (`payment.distance_fee`)."
    ),
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
        "Number of line items. TikTok's 202309 line item has no quantity field and each line "
        "is, in practice, one unit, so this is normally the units sold (SUM of "
        "tiktok_order_line_items.quantity is exact either way).",
    ),
    raw_column("order", "line items (`line_items`)"),
    row_hash_column("order"),
    *sync_columns(),
    sa.Column(
        "_buyer_data_purged_at",
        UTCDateTime(),
        comment="UTC time when the buyer's personal data (name, nickname, avatar, address, "
        "phone, e-mail, message, tax id) was removed from `raw`, by the retention job "
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
        "Units on this line: 1, since TikTok's 202309 line item has no quantity field (in "
        "practice each line is one unit); a `quantity` field, if TikTok sends one, is used "
        "instead.",
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
    money_column(
        "shipping_vat_amount",
        "VAT included in this line's share of the order's shipping fee "
        "(`line_items[].shipping_vat_amount`); 0 where shipping bears no VAT.",
    ),
    decimal_column(
        "shipping_vat_rate",
        "VAT rate applied to the shipping fee, as a fraction (0.2000 = 20 %) "
        "(`line_items[].shipping_vat_rate`).",
    ),
    *sync_columns(),
    index("tiktok_order_line_items", "shop_id", "order_id"),
    comment="One row per order line item (in practice one per unit sold); replaced whenever "
    "its order is." + raw_in_parent("line item", "order", "`tiktok_orders.raw -> 'line_items'`"),
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
    text_column(
        "product_status",
        "Product status as Get Product's `product_status` gives it, which TikTok's reference "
        "lists beside `status`; NULL when TikTok does not send it.",
    ),
    text_column(
        "audit_status",
        "State of TikTok's listing review (`audit.status`), e.g. AUDITING, APPROVED or FAILED; "
        "NULL when TikTok sends no `audit`.",
    ),
    sa.Column(
        "audit_failed_reasons",
        sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
        comment="JSON array of why TikTok's review failed, as Get Product sends it "
        "(`audit_failed_reasons`: objects with `position`, `reasons`, `suggestions`, "
        "`listing_platform`); [] when none, NULL when the payload has no such field (Search "
        "Products does not send it).",
    ),
    int_column("sku_count", "Number of SKUs (variants) of the product."),
    sa.Column(
        "deleted_at",
        UTCDateTime(),
        comment="UTC time when the pipeline saw TikTok report the product deleted (status "
        "DELETED, or Get Product or the inventory endpoint answering that the product is "
        "gone). NULL while the product exists.",
    ),
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
    sa.Column(
        "deleted_at",
        UTCDateTime(),
        comment="UTC time when the pipeline saw TikTok report the SKU's product deleted (status "
        "DELETED, or Get Product or the inventory endpoint answering that the product is "
        "gone). NULL while the product exists.",
    ),
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
    text_column("entity", f"What was synced: {SYNC_ENTITIES_TEXT}.", nullable=False),
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
    sa.CheckConstraint(f"entity IN ({SYNC_ENTITIES_SQL})", name="entity"),
    sa.CheckConstraint("status IN ('success', 'failed')", name="status"),
    index("tiktok_sync_ledger", "shop_id", "entity", "window_start"),
    index("tiktok_sync_ledger", "entity", "finished_at"),
    comment="One row per sync attempt of a (shop, entity, time window): what TikTok reported "
    "and what the warehouse did with it. Used by freshness and completeness checks.",
)

TABLES: dict[str, sa.Table] = {table.name: table for table in metadata.sorted_tables}
VIEWS: dict[str, sa.Table] = {view.name: view for view in (daily_sales, order_settlements)}


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
