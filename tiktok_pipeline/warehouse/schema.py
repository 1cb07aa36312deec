"""The warehouse tables and the daily sales view, with every column's description.

Descriptions live here only, as the columns' ``comment``: Postgres stores them (``\\d+`` and BI
tools show them), the data dictionary (docs/data-dictionary.md) and Dagster's column schema
are generated from them. Migrations must match these tables (a test compares them).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import Money, RawJSON

SOURCES = ("poll", "webhook")
#: ``Column.info`` key of a UTC timestamp column: the column holding the same time in Unix
#: seconds (``created_at`` -> ``create_time``).
EPOCH_SECONDS = "epoch_seconds"
ENTITIES = ("orders", "products", "returns")
SYNC_STATUSES = ("success", "failed")

#: Return statuses in which the buyer's refund has been granted (used by tiktok_daily_sales).
REFUND_SUCCESS_STATUSES = (
    "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "RETURN_OR_REFUND_REQUEST_COMPLETE",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
)

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    }
)

#: The view is not created from this metadata (the migration creates it); this Table only
#: describes its columns and lets code select from it.
view_metadata = sa.MetaData()


def _key(name: str, description: str) -> sa.Column:
    return sa.Column(name, sa.String, primary_key=True, nullable=False, comment=description)


def _text(name: str, description: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String, nullable=nullable, comment=description)


def _long_text(name: str, description: str) -> sa.Column:
    return sa.Column(name, sa.Text, comment=description)


def _int(name: str, description: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=nullable, comment=description)


def _flag(name: str, description: str) -> sa.Column:
    return sa.Column(name, sa.Boolean, comment=description)


def _money(name: str, description: str) -> sa.Column:
    return sa.Column(name, Money(), comment=f"{description} Exact decimal, in `currency`.")


def _currency(description: str = "") -> sa.Column:
    origin = f" ({description})" if description else ""
    return sa.Column(
        "currency",
        sa.String,
        comment=f"ISO 4217 currency code of every amount on this row{origin}.",
    )


def _times(time_name: str, at_name: str, what: str, note: str = "") -> list[sa.Column]:
    note = f" {note}" if note else ""
    return [
        sa.Column(
            time_name,
            sa.BigInteger,
            comment=f"{what}: Unix epoch seconds (UTC) exactly as TikTok sends them; "
            f"NULL when TikTok sends 0 or nothing.{note}",
        ),
        sa.Column(
            at_name,
            UTCDateTime(),
            comment=f"{what}: UTC timestamp (`{time_name}` converted).{note}",
            info={EPOCH_SECONDS: time_name},
        ),
    ]


def _raw(entity: str, children: str) -> sa.Column:
    return sa.Column(
        "raw",
        RawJSON(),
        nullable=False,
        comment=f"The {entity} exactly as TikTok sent it (JSON text with sorted keys; `json` on "
        f"Postgres), including fields that have no column of their own and its {children}.",
    )


def _raw_in_parent(child: str, parent: str, path: str) -> str:
    return (
        f" The {child}'s full JSON is not stored again here: it is an element of the "
        f"{parent}'s `raw` ({path})."
    )


def _row_hash(entity: str) -> sa.Column:
    return sa.Column(
        "_row_hash",
        sa.String(64),
        nullable=False,
        comment=f"sha256 (hex) of the {entity}'s canonical JSON (sorted keys). A payload with "
        "the same hash is not written again.",
    )


def _sync_columns() -> list[sa.Column | sa.CheckConstraint]:
    return [
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with "
            "identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time "
            "window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint("_source IN ('poll', 'webhook')", name="source"),
    ]


def _index(table_name: str, *columns: str) -> sa.Index:
    return sa.Index(f"ix_{table_name}_{'_'.join(columns)}", *columns)


ORDER_STATUSES = (
    "UNPAID, ON_HOLD, AWAITING_SHIPMENT, PARTIALLY_SHIPPING, AWAITING_COLLECTION, IN_TRANSIT, "
    "DELIVERED, COMPLETED or CANCELLED"
)

orders = sa.Table(
    "tiktok_orders",
    metadata,
    _key("shop_id", "TikTok shop id (a string of digits) of the shop that sold the order."),
    _key("id", "TikTok order id (a string of digits, e.g. `576461413038785752`)."),
    _text("status", f"Order status: {ORDER_STATUSES}."),
    *_times("create_time", "created_at", "When the buyer placed the order"),
    *_times(
        "update_time",
        "updated_at",
        "When the order last changed on TikTok",
        "A stored order is only replaced by a payload with the same or a newer update_time.",
    ),
    *_times("paid_time", "paid_at", "When the buyer paid"),
    *_times("rts_time", "rts_at", "When the seller marked the order ready to ship"),
    *_times("collection_time", "collected_at", "When the carrier collected the package"),
    *_times("delivery_time", "delivered_at", "When the order was delivered"),
    *_times("cancel_time", "cancelled_at", "When the order was cancelled"),
    _text("buyer_user_id", "TikTok's anonymous buyer id (the order's `user_id`)."),
    _currency("`payment.currency`"),
    _money(
        "sub_total",
        "Products after discounts: original_total_product_price - seller_discount - "
        "platform_discount (`payment.sub_total`).",
    ),
    _money(
        "shipping_fee",
        "Shipping the buyer pays: original_shipping_fee - shipping_fee_seller_discount - "
        "shipping_fee_platform_discount (`payment.shipping_fee`).",
    ),
    _money("seller_discount", "Product discount funded by the seller (`payment.seller_discount`)."),
    _money("platform_discount", "Product discount funded by TikTok (`payment.platform_discount`)."),
    _money(
        "total_amount",
        "What the buyer pays in total: sub_total + shipping_fee + taxes + fees "
        "(`payment.total_amount`).",
    ),
    _money(
        "original_total_product_price",
        "Products at their original price, before any discount: the gross merchandise value "
        "(`payment.original_total_product_price`).",
    ),
    _money("original_shipping_fee", "Shipping before discounts (`payment.original_shipping_fee`)."),
    _money(
        "shipping_fee_seller_discount",
        "Shipping discount funded by the seller (`payment.shipping_fee_seller_discount`).",
    ),
    _money(
        "shipping_fee_platform_discount",
        "Shipping discount funded by TikTok (`payment.shipping_fee_platform_discount`).",
    ),
    _money("tax", "All taxes charged to the buyer (`payment.tax`)."),
    _money("product_tax", "Tax on the products (`payment.product_tax`)."),
    _money("shipping_fee_tax", "Tax on shipping (`payment.shipping_fee_tax`)."),
    _money(
        "retail_delivery_fee",
        "Retail delivery fee, e.g. in Colorado (`payment.retail_delivery_fee`).",
    ),
    _money("small_order_fee", "Fee for orders under the minimum (`payment.small_order_fee`)."),
    _money("buyer_service_fee", "Service fee charged to the buyer (`payment.buyer_service_fee`)."),
    _money("handling_fee", "Handling fee (`payment.handling_fee`)."),
    _text(
        "fulfillment_type",
        "Who fulfils the order: FULFILLMENT_BY_SELLER, FULFILLMENT_BY_TIKTOK or "
        "FULFILLMENT_BY_DILAYANI_TOKOPEDIA.",
    ),
    _text("shipping_type", "Who arranges shipping: TIKTOK or SELLER."),
    _text("delivery_type", "HOME_DELIVERY or COLLECTION_POINT."),
    _text("payment_method_name", "Payment method shown to the buyer, e.g. `CARD`."),
    _text(
        "order_type",
        "NORMAL, ZERO_LOTTERY, PRE_ORDER, MADE_TO_ORDER or BACK_ORDER (US); may be empty.",
    ),
    _text("warehouse_id", "TikTok id of the seller warehouse that ships the order."),
    _text("shipping_provider", "Name of the carrier."),
    _text("tracking_number", "The carrier's tracking number."),
    _long_text("cancel_reason", "Why the order was cancelled (free text from TikTok)."),
    _text("cancellation_initiator", "Who cancelled the order: SELLER, BUYER or SYSTEM."),
    _flag("is_cod", "True for cash on delivery."),
    _flag("is_sample_order", "True for a free sample order (e.g. for creators)."),
    _flag("is_on_hold_order", "True while the order is in TikTok's on-hold period."),
    _flag("is_replacement_order", "True when the order replaces another one."),
    _flag("is_exchange_order", "True when the order is an exchange."),
    _flag("is_buyer_request_cancel", "True when the buyer has asked to cancel."),
    _text(
        "region_code",
        "Country/region of the delivery address (`recipient_address.region_code`, e.g. US, GB).",
    ),
    _int(
        "line_item_count",
        "Number of line items. TikTok sends one line item per unit, so this is the units sold.",
    ),
    _raw("order", "line items (`line_items`)"),
    _row_hash("order"),
    *_sync_columns(),
    _index("tiktok_orders", "shop_id", "update_time"),
    _index("tiktok_orders", "shop_id", "create_time"),
    comment="One row per TikTok Shop order (API 202309 order object); the newest version wins.",
)

order_line_items = sa.Table(
    "tiktok_order_line_items",
    metadata,
    _key("shop_id", "TikTok shop id of the order's shop."),
    _key("id", "TikTok line item id (unique within the shop)."),
    _text("order_id", "The order this line item belongs to (tiktok_orders.id).", nullable=False),
    _text("product_id", "TikTok product id (tiktok_products.id)."),
    _text("sku_id", "TikTok SKU id (tiktok_product_skus.id)."),
    _long_text("product_name", "Product title at the time of the order."),
    _long_text("sku_name", "SKU name (variant, e.g. `Red, XL`) at the time of the order."),
    _text("seller_sku", "The seller's own SKU code."),
    _int(
        "quantity",
        "Units on this line: 1, since TikTok sends one line item per unit (a `quantity` "
        "field, if TikTok ever sends one, is used instead).",
        nullable=False,
    ),
    _currency(),
    _money("sale_price", "Price the buyer paid for this unit, after discounts."),
    _money("original_price", "Unit price before discounts."),
    _money("platform_discount", "Discount on this unit funded by TikTok."),
    _money("seller_discount", "Discount on this unit funded by the seller."),
    _text(
        "display_status",
        "Line item status (order statuses without ON_HOLD and PARTIALLY_SHIPPING).",
    ),
    _text("package_id", "TikTok package id the unit ships in."),
    _text(
        "package_status",
        "Package status: TO_FULFILL, PROCESSING, FULFILLING, COMPLETED or CANCELLED.",
    ),
    _long_text("cancel_reason", "Why this unit was cancelled."),
    _text("cancel_user", "Who cancelled this unit: BUYER, SELLER, OPERATOR or SYSTEM."),
    _flag("is_gift", "True for a free gift."),
    *_times("rts_time", "rts_at", "When this unit was marked ready to ship"),
    *_sync_columns(),
    _index("tiktok_order_line_items", "shop_id", "order_id"),
    comment="One row per order line item (one per unit sold); replaced whenever its order is."
    + _raw_in_parent("line item", "order", "`tiktok_orders.raw -> 'line_items'`"),
)

products = sa.Table(
    "tiktok_products",
    metadata,
    _key("shop_id", "TikTok shop id of the product's shop."),
    _key("id", "TikTok product id."),
    _long_text("title", "Product title."),
    _text(
        "status",
        "Product status: DRAFT, PENDING, FAILED, ACTIVATE, SELLER_DEACTIVATED, "
        "PLATFORM_DEACTIVATED, FREEZE or DELETED.",
    ),
    *_times("create_time", "created_at", "When the product was created"),
    *_times(
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
    _flag("is_not_for_sale", "True when the product is listed but not for sale."),
    _flag("has_draft", "True when the product has an unpublished draft version."),
    _text("listing_quality_tier", "TikTok's listing quality tier, e.g. POOR, FAIR or GOOD."),
    _int("sku_count", "Number of SKUs (variants) of the product."),
    _raw("product", "SKUs (`skus`, with `inventory`)"),
    _row_hash("product"),
    *_sync_columns(),
    _index("tiktok_products", "shop_id", "update_time"),
    comment="One row per TikTok Shop product (API 202309/202502 product object).",
)

product_skus = sa.Table(
    "tiktok_product_skus",
    metadata,
    _key("shop_id", "TikTok shop id of the product's shop."),
    _key("id", "TikTok SKU id."),
    _text("product_id", "The SKU's product (tiktok_products.id).", nullable=False),
    _text("seller_sku", "The seller's own SKU code."),
    _currency("`price.currency`"),
    _money("sale_price", "Current sale price (`price.sale_price`)."),
    _money(
        "tax_exclusive_price",
        "Sale price without tax, where TikTok reports it (`price.tax_exclusive_price`).",
    ),
    _money("list_price", "List (strikethrough) price when TikTok sends one (`list_price`)."),
    _int("total_quantity", "Stock over all warehouses: the sum of `inventory[].quantity`."),
    _int("warehouse_count", "Number of warehouses that hold stock entries for the SKU."),
    *_sync_columns(),
    _index("tiktok_product_skus", "shop_id", "product_id"),
    comment="One row per product SKU (variant); replaced whenever its product is."
    + _raw_in_parent("SKU", "product", "`tiktok_products.raw -> 'skus'`"),
)

product_sku_inventory = sa.Table(
    "tiktok_product_sku_inventory",
    metadata,
    _key("shop_id", "TikTok shop id of the product's shop."),
    _key("sku_id", "TikTok SKU id (tiktok_product_skus.id)."),
    _key(
        "warehouse_id",
        "TikTok warehouse id; an empty string when TikTok sends none (single-warehouse shops).",
    ),
    _text("product_id", "The SKU's product (tiktok_products.id).", nullable=False),
    _int("quantity", "Stock of the SKU in this warehouse, in units."),
    _int("available_quantity", "Units available to sell, when TikTok reports it."),
    _int("committed_quantity", "Units reserved by open orders, when TikTok reports it."),
    *_sync_columns(),
    _index("tiktok_product_sku_inventory", "shop_id", "product_id"),
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
    _key("shop_id", "TikTok shop id of the order's shop."),
    _key("return_id", "TikTok return (after-sales request) id."),
    _text("order_id", "The order the return is about (tiktok_orders.id)."),
    _text("return_type", "REFUND, RETURN_AND_REFUND or REPLACEMENT."),
    _text("return_status", f"Return status: {RETURN_STATUSES}."),
    _text("role", "Who opened the request: BUYER, SELLER, OPERATOR or SYSTEM."),
    _text(
        "arbitration_status",
        "TikTok arbitration: IN_PROGRESS, SUPPORT_BUYER, SUPPORT_SELLER or CLOSED; NULL if none.",
    ),
    _text("return_reason", "Reason code chosen by the buyer."),
    _long_text("return_reason_text", "The reason in words."),
    _text("shipment_type", "Who arranges the return shipment: PLATFORM or BUYER_ARRANGE."),
    _text("handover_method", "How the buyer hands the parcel over: DROP_OFF or PICKUP."),
    _text("return_method", "Return method as TikTok names it."),
    *_times("create_time", "created_at", "When the return was requested"),
    *_times(
        "update_time",
        "updated_at",
        "When the return last changed on TikTok",
        "A stored return is only replaced by a payload with the same or a newer update_time.",
    ),
    _currency("`refund_amount.currency`"),
    _money("refund_total", "Total refund to the buyer (`refund_amount.refund_total`)."),
    _money("refund_subtotal", "Refund for the products (`refund_amount.refund_subtotal`)."),
    _money("refund_shipping_fee", "Refunded shipping (`refund_amount.refund_shipping_fee`)."),
    _money("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    _money(
        "retail_delivery_fee",
        "Refunded retail delivery fee (`refund_amount.retail_delivery_fee`).",
    ),
    _money(
        "buyer_service_fee",
        "Refunded buyer service fee (`refund_amount.buyer_service_fee`).",
    ),
    _flag("can_buyer_keep_item", "True when the buyer keeps the item (refund without return)."),
    _flag("is_combined_return", "True when several returns were combined into one."),
    _text("combined_return_id", "Id of the combined return this one belongs to."),
    _int("line_item_count", "Number of return line items."),
    _raw("return", "line items (`return_line_items`)"),
    _row_hash("return"),
    *_sync_columns(),
    _index("tiktok_returns", "shop_id", "update_time"),
    _index("tiktok_returns", "shop_id", "order_id"),
    comment="One row per return, refund or replacement request (API 202309 return object).",
)

return_line_items = sa.Table(
    "tiktok_return_line_items",
    metadata,
    _key("shop_id", "TikTok shop id of the order's shop."),
    _key("return_line_item_id", "TikTok return line item id."),
    _text(
        "return_id", "The return this line belongs to (tiktok_returns.return_id).", nullable=False
    ),
    _text("order_id", "The order of the return (tiktok_orders.id)."),
    _text(
        "order_line_item_id",
        "The order line item that is returned (tiktok_order_line_items.id).",
    ),
    _text("sku_id", "TikTok SKU id."),
    _long_text("sku_name", "SKU name (variant)."),
    _long_text("product_name", "Product title."),
    _text("seller_sku", "The seller's own SKU code."),
    _currency("`refund_amount.currency`"),
    _money("refund_total", "Total refund for this line (`refund_amount.refund_total`)."),
    _money("refund_subtotal", "Refund for the product (`refund_amount.refund_subtotal`)."),
    _money("refund_shipping_fee", "Refunded shipping (`refund_amount.refund_shipping_fee`)."),
    _money("refund_tax", "Refunded tax (`refund_amount.refund_tax`)."),
    *_sync_columns(),
    _index("tiktok_return_line_items", "shop_id", "return_id"),
    comment="One row per returned order line item; replaced whenever its return is."
    + _raw_in_parent("return line item", "return", "`tiktok_returns.raw -> 'return_line_items'`"),
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
    _text("shop_id", "TikTok shop id that was synced.", nullable=False),
    _text("entity", "What was synced: `orders`, `products` or `returns`.", nullable=False),
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
    _text("status", "`success` (data committed) or `failed` (data rolled back).", nullable=False),
    sa.Column(
        "api_total_count",
        sa.BigInteger,
        comment="TikTok's `total_count` for the window, as the search endpoint reported it.",
    ),
    _int("items_received", "Distinct entity ids received from TikTok for the window."),
    _int("pages", "Number of pages fetched."),
    _int("inserted", "Entities that were new to the warehouse."),
    _int("updated", "Entities that replaced an older stored version."),
    _int("unchanged", "Entities identical to the stored version (nothing written)."),
    _int("stale", "Entities older than the stored version (ignored)."),
    _text("run_id", "Dagster run id."),
    _text("partition_key", "Dagster partition key of the run."),
    sa.Column("started_at", UTCDateTime(), comment="When the sync of the window started, UTC."),
    sa.Column("finished_at", UTCDateTime(), comment="When the sync of the window ended, UTC."),
    _long_text("error", "What went wrong, for failed syncs."),
    sa.CheckConstraint("entity IN ('orders', 'products', 'returns')", name="entity"),
    sa.CheckConstraint("status IN ('success', 'failed')", name="status"),
    _index("tiktok_sync_ledger", "shop_id", "entity", "window_start"),
    _index("tiktok_sync_ledger", "entity", "finished_at"),
    comment="One row per sync attempt of a (shop, entity, time window): what TikTok reported "
    "and what the warehouse did with it. Used by freshness and completeness checks.",
)

daily_sales = sa.Table(
    "tiktok_daily_sales",
    view_metadata,
    sa.Column("shop_id", sa.String, comment="TikTok shop id."),
    sa.Column(
        "day",
        sa.Date,
        comment="UTC calendar day of the orders' created_at and of the returns' created_at "
        "(a date on Postgres, `YYYY-MM-DD` text on SQLite).",
    ),
    sa.Column("currency", sa.String, comment="ISO 4217 currency of every amount on this row."),
    sa.Column(
        "orders",
        sa.Integer,
        comment="Orders created that day, excluding UNPAID and CANCELLED ones (counted orders).",
    ),
    sa.Column("cancelled_orders", sa.Integer, comment="Orders created that day now CANCELLED."),
    sa.Column(
        "units",
        sa.Integer,
        comment="Line items (= units) of the counted orders (sum of line_item_count).",
    ),
    sa.Column(
        "gross_merchandise_value",
        Money(),
        comment="Sum of original_total_product_price of the counted orders (before discounts).",
    ),
    sa.Column(
        "seller_discounts",
        Money(),
        comment="Sum of seller_discount (product discounts funded by the seller), counted orders.",
    ),
    sa.Column(
        "platform_discounts",
        Money(),
        comment="Sum of platform_discount (product discounts funded by TikTok), counted orders.",
    ),
    sa.Column(
        "net_sales",
        Money(),
        comment="Sum of sub_total of the counted orders: products after all discounts, "
        "without shipping and tax.",
    ),
    sa.Column("shipping_fees", Money(), comment="Sum of shipping_fee of the counted orders."),
    sa.Column("taxes", Money(), comment="Sum of tax of the counted orders."),
    sa.Column(
        "refunds",
        Money(),
        comment="Sum of refund_total of returns created that day whose return_status is a "
        "refund-success state (" + ", ".join(REFUND_SUCCESS_STATUSES) + "). Attributed to "
        "the day the return was requested, not the order's day.",
    ),
    comment="VIEW. Daily sales per shop, UTC day and currency, from tiktok_orders and "
    "tiktok_returns. A day with only refunds appears with zero orders.",
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
