"""Initial warehouse schema: orders, products, returns, their children, the sync ledger
and the tiktok_daily_sales view.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00

Written to match tiktok_pipeline/warehouse/schema.py at the time (a test compares a migrated
database with the metadata); later schema changes get migrations of their own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import Money, RawJSON

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Return statuses whose refund counts in tiktok_daily_sales.refunds (frozen here).
_REFUND_SUCCESS = (
    "'RETURN_OR_REFUND_REQUEST_SUCCESS', 'RETURN_OR_REFUND_REQUEST_COMPLETE', "
    "'REPLACEMENT_REQUEST_REFUND_SUCCESS'"
)

# Each fact row is an order or a refunded return; the view sums them per shop, UTC day and
# currency, so a day with only refunds still appears. {day} is the dialect's UTC-date
# expression and {money} wraps a money sum (SQLite rounds away float noise).
_DAILY_SALES = """
CREATE VIEW tiktok_daily_sales AS
SELECT
    shop_id,
    day,
    currency,
    SUM(orders) AS orders,
    SUM(cancelled_orders) AS cancelled_orders,
    SUM(units) AS units,
    {money_gmv} AS gross_merchandise_value,
    {money_seller} AS seller_discounts,
    {money_platform} AS platform_discounts,
    {money_net} AS net_sales,
    {money_shipping} AS shipping_fees,
    {money_taxes} AS taxes,
    {money_refunds} AS refunds
FROM (
    SELECT
        o.shop_id AS shop_id,
        {order_day} AS day,
        o.currency AS currency,
        CASE WHEN o.counted = 1 THEN 1 ELSE 0 END AS orders,
        CASE WHEN o.status = 'CANCELLED' THEN 1 ELSE 0 END AS cancelled_orders,
        CASE WHEN o.counted = 1 THEN COALESCE(o.line_item_count, 0) ELSE 0 END AS units,
        CASE WHEN o.counted = 1 THEN o.original_total_product_price END AS gmv,
        CASE WHEN o.counted = 1 THEN o.seller_discount END AS seller_discount,
        CASE WHEN o.counted = 1 THEN o.platform_discount END AS platform_discount,
        CASE WHEN o.counted = 1 THEN o.sub_total END AS net_sales,
        CASE WHEN o.counted = 1 THEN o.shipping_fee END AS shipping_fee,
        CASE WHEN o.counted = 1 THEN o.tax END AS tax,
        NULL AS refund
    FROM (
        SELECT
            tiktok_orders.*,
            CASE WHEN COALESCE(status, '') IN ('UNPAID', 'CANCELLED') THEN 0 ELSE 1 END
                AS counted
        FROM tiktok_orders
    ) AS o
    UNION ALL
    SELECT
        r.shop_id,
        {return_day},
        r.currency,
        0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL,
        r.refund_total
    FROM tiktok_returns AS r
    WHERE r.return_status IN ({refund_success})
) AS facts
GROUP BY shop_id, day, currency
"""

_MONEY = {
    "money_gmv": "gmv",
    "money_seller": "seller_discount",
    "money_platform": "platform_discount",
    "money_net": "net_sales",
    "money_shipping": "shipping_fee",
    "money_taxes": "tax",
    "money_refunds": "refund",
}


def _daily_sales_sql(dialect: str) -> str:
    if dialect == "postgresql":
        day = "({alias}.created_at AT TIME ZONE 'UTC')::date"
        money = "COALESCE(SUM({column}), 0)"
    else:
        day = "date({alias}.created_at)"
        money = "ROUND(COALESCE(SUM({column}), 0), 6)"
    sums = {name: money.format(column=column) for name, column in _MONEY.items()}
    return _DAILY_SALES.format(
        order_day=day.format(alias="o"),
        return_day=day.format(alias="r"),
        refund_success=_REFUND_SUCCESS,
        **sums,
    )


#: lz4 TOAST compression for the ``raw`` JSON columns on Postgres 14+ (when the server has
#: it): several times faster to write and to read than the default pglz.
_LZ4_RAW = (
    "ALTER TABLE tiktok_orders ALTER COLUMN raw SET COMPRESSION lz4",
    "ALTER TABLE tiktok_products ALTER COLUMN raw SET COMPRESSION lz4",
    "ALTER TABLE tiktok_returns ALTER COLUMN raw SET COMPRESSION lz4",
)


def _use_lz4(bind) -> None:
    has_lz4 = bind.execute(
        sa.text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'"
        )
    ).scalar()
    if has_lz4:
        for statement in _LZ4_RAW:
            op.execute(statement)


def upgrade() -> None:
    op.create_table('tiktok_order_line_items',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the order's shop."),
    sa.Column('id', sa.String(), nullable=False, comment='TikTok line item id (unique within the shop).'),
    sa.Column('order_id', sa.String(), nullable=False, comment='The order this line item belongs to (tiktok_orders.id).'),
    sa.Column('product_id', sa.String(), nullable=True, comment='TikTok product id (tiktok_products.id).'),
    sa.Column('sku_id', sa.String(), nullable=True, comment='TikTok SKU id (tiktok_product_skus.id).'),
    sa.Column('product_name', sa.Text(), nullable=True, comment='Product title at the time of the order.'),
    sa.Column('sku_name', sa.Text(), nullable=True, comment='SKU name (variant, e.g. `Red, XL`) at the time of the order.'),
    sa.Column('seller_sku', sa.String(), nullable=True, comment="The seller's own SKU code."),
    sa.Column('quantity', sa.Integer(), nullable=False, comment='Units on this line: 1, since TikTok sends one line item per unit (a `quantity` field, if TikTok ever sends one, is used instead).'),
    sa.Column('currency', sa.String(), nullable=True, comment='ISO 4217 currency code of every amount on this row.'),
    sa.Column('sale_price', Money(), nullable=True, comment='Price the buyer paid for this unit, after discounts. Exact decimal, in `currency`.'),
    sa.Column('original_price', Money(), nullable=True, comment='Unit price before discounts. Exact decimal, in `currency`.'),
    sa.Column('platform_discount', Money(), nullable=True, comment='Discount on this unit funded by TikTok. Exact decimal, in `currency`.'),
    sa.Column('seller_discount', Money(), nullable=True, comment='Discount on this unit funded by the seller. Exact decimal, in `currency`.'),
    sa.Column('display_status', sa.String(), nullable=True, comment='Line item status (order statuses without ON_HOLD and PARTIALLY_SHIPPING).'),
    sa.Column('package_id', sa.String(), nullable=True, comment='TikTok package id the unit ships in.'),
    sa.Column('package_status', sa.String(), nullable=True, comment='Package status: TO_FULFILL, PROCESSING, FULFILLING, COMPLETED or CANCELLED.'),
    sa.Column('cancel_reason', sa.Text(), nullable=True, comment='Why this unit was cancelled.'),
    sa.Column('cancel_user', sa.String(), nullable=True, comment='Who cancelled this unit: BUYER, SELLER, OPERATOR or SYSTEM.'),
    sa.Column('is_gift', sa.Boolean(), nullable=True, comment='True for a free gift.'),
    sa.Column('rts_time', sa.BigInteger(), nullable=True, comment='When this unit was marked ready to ship: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('rts_at', UTCDateTime(timezone=True), nullable=True, comment='When this unit was marked ready to ship: UTC timestamp (`rts_time` converted).'),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_order_line_items_source')),
    sa.PrimaryKeyConstraint('shop_id', 'id', name=op.f('pk_tiktok_order_line_items')),
    comment="One row per order line item (one per unit sold); replaced whenever its order is. The line item's full JSON is not stored again here: it is an element of the order's `raw` (`tiktok_orders.raw -> 'line_items'`)."
    )
    op.create_index('ix_tiktok_order_line_items_shop_id_order_id', 'tiktok_order_line_items', ['shop_id', 'order_id'], unique=False)
    op.create_table('tiktok_orders',
    sa.Column('shop_id', sa.String(), nullable=False, comment='TikTok shop id (a string of digits) of the shop that sold the order.'),
    sa.Column('id', sa.String(), nullable=False, comment='TikTok order id (a string of digits, e.g. `576461413038785752`).'),
    sa.Column('status', sa.String(), nullable=True, comment='Order status: UNPAID, ON_HOLD, AWAITING_SHIPMENT, PARTIALLY_SHIPPING, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED, COMPLETED or CANCELLED.'),
    sa.Column('create_time', sa.BigInteger(), nullable=True, comment='When the buyer placed the order: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=True, comment='When the buyer placed the order: UTC timestamp (`create_time` converted).'),
    sa.Column('update_time', sa.BigInteger(), nullable=True, comment='When the order last changed on TikTok: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing. A stored order is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=True, comment='When the order last changed on TikTok: UTC timestamp (`update_time` converted). A stored order is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('paid_time', sa.BigInteger(), nullable=True, comment='When the buyer paid: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('paid_at', UTCDateTime(timezone=True), nullable=True, comment='When the buyer paid: UTC timestamp (`paid_time` converted).'),
    sa.Column('rts_time', sa.BigInteger(), nullable=True, comment='When the seller marked the order ready to ship: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('rts_at', UTCDateTime(timezone=True), nullable=True, comment='When the seller marked the order ready to ship: UTC timestamp (`rts_time` converted).'),
    sa.Column('collection_time', sa.BigInteger(), nullable=True, comment='When the carrier collected the package: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('collected_at', UTCDateTime(timezone=True), nullable=True, comment='When the carrier collected the package: UTC timestamp (`collection_time` converted).'),
    sa.Column('delivery_time', sa.BigInteger(), nullable=True, comment='When the order was delivered: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('delivered_at', UTCDateTime(timezone=True), nullable=True, comment='When the order was delivered: UTC timestamp (`delivery_time` converted).'),
    sa.Column('cancel_time', sa.BigInteger(), nullable=True, comment='When the order was cancelled: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('cancelled_at', UTCDateTime(timezone=True), nullable=True, comment='When the order was cancelled: UTC timestamp (`cancel_time` converted).'),
    sa.Column('buyer_user_id', sa.String(), nullable=True, comment="TikTok's anonymous buyer id (the order's `user_id`)."),
    sa.Column('currency', sa.String(), nullable=True, comment='ISO 4217 currency code of every amount on this row (`payment.currency`).'),
    sa.Column('sub_total', Money(), nullable=True, comment='Products after discounts: original_total_product_price - seller_discount - platform_discount (`payment.sub_total`). Exact decimal, in `currency`.'),
    sa.Column('shipping_fee', Money(), nullable=True, comment='Shipping the buyer pays: original_shipping_fee - shipping_fee_seller_discount - shipping_fee_platform_discount (`payment.shipping_fee`). Exact decimal, in `currency`.'),
    sa.Column('seller_discount', Money(), nullable=True, comment='Product discount funded by the seller (`payment.seller_discount`). Exact decimal, in `currency`.'),
    sa.Column('platform_discount', Money(), nullable=True, comment='Product discount funded by TikTok (`payment.platform_discount`). Exact decimal, in `currency`.'),
    sa.Column('total_amount', Money(), nullable=True, comment='What the buyer pays in total: sub_total + shipping_fee + taxes + fees (`payment.total_amount`). Exact decimal, in `currency`.'),
    sa.Column('original_total_product_price', Money(), nullable=True, comment='Products at their original price, before any discount: the gross merchandise value (`payment.original_total_product_price`). Exact decimal, in `currency`.'),
    sa.Column('original_shipping_fee', Money(), nullable=True, comment='Shipping before discounts (`payment.original_shipping_fee`). Exact decimal, in `currency`.'),
    sa.Column('shipping_fee_seller_discount', Money(), nullable=True, comment='Shipping discount funded by the seller (`payment.shipping_fee_seller_discount`). Exact decimal, in `currency`.'),
    sa.Column('shipping_fee_platform_discount', Money(), nullable=True, comment='Shipping discount funded by TikTok (`payment.shipping_fee_platform_discount`). Exact decimal, in `currency`.'),
    sa.Column('tax', Money(), nullable=True, comment='All taxes charged to the buyer (`payment.tax`). Exact decimal, in `currency`.'),
    sa.Column('product_tax', Money(), nullable=True, comment='Tax on the products (`payment.product_tax`). Exact decimal, in `currency`.'),
    sa.Column('shipping_fee_tax', Money(), nullable=True, comment='Tax on shipping (`payment.shipping_fee_tax`). Exact decimal, in `currency`.'),
    sa.Column('retail_delivery_fee', Money(), nullable=True, comment='Retail delivery fee, e.g. in Colorado (`payment.retail_delivery_fee`). Exact decimal, in `currency`.'),
    sa.Column('small_order_fee', Money(), nullable=True, comment='Fee for orders under the minimum (`payment.small_order_fee`). Exact decimal, in `currency`.'),
    sa.Column('buyer_service_fee', Money(), nullable=True, comment='Service fee charged to the buyer (`payment.buyer_service_fee`). Exact decimal, in `currency`.'),
    sa.Column('handling_fee', Money(), nullable=True, comment='Handling fee (`payment.handling_fee`). Exact decimal, in `currency`.'),
    sa.Column('fulfillment_type', sa.String(), nullable=True, comment='Who fulfils the order: FULFILLMENT_BY_SELLER, FULFILLMENT_BY_TIKTOK or FULFILLMENT_BY_DILAYANI_TOKOPEDIA.'),
    sa.Column('shipping_type', sa.String(), nullable=True, comment='Who arranges shipping: TIKTOK or SELLER.'),
    sa.Column('delivery_type', sa.String(), nullable=True, comment='HOME_DELIVERY or COLLECTION_POINT.'),
    sa.Column('payment_method_name', sa.String(), nullable=True, comment='Payment method shown to the buyer, e.g. `CARD`.'),
    sa.Column('order_type', sa.String(), nullable=True, comment='NORMAL, ZERO_LOTTERY, PRE_ORDER, MADE_TO_ORDER or BACK_ORDER (US); may be empty.'),
    sa.Column('warehouse_id', sa.String(), nullable=True, comment='TikTok id of the seller warehouse that ships the order.'),
    sa.Column('shipping_provider', sa.String(), nullable=True, comment='Name of the carrier.'),
    sa.Column('tracking_number', sa.String(), nullable=True, comment="The carrier's tracking number."),
    sa.Column('cancel_reason', sa.Text(), nullable=True, comment='Why the order was cancelled (free text from TikTok).'),
    sa.Column('cancellation_initiator', sa.String(), nullable=True, comment='Who cancelled the order: SELLER, BUYER or SYSTEM.'),
    sa.Column('is_cod', sa.Boolean(), nullable=True, comment='True for cash on delivery.'),
    sa.Column('is_sample_order', sa.Boolean(), nullable=True, comment='True for a free sample order (e.g. for creators).'),
    sa.Column('is_on_hold_order', sa.Boolean(), nullable=True, comment="True while the order is in TikTok's on-hold period."),
    sa.Column('is_replacement_order', sa.Boolean(), nullable=True, comment='True when the order replaces another one.'),
    sa.Column('is_exchange_order', sa.Boolean(), nullable=True, comment='True when the order is an exchange.'),
    sa.Column('is_buyer_request_cancel', sa.Boolean(), nullable=True, comment='True when the buyer has asked to cancel.'),
    sa.Column('region_code', sa.String(), nullable=True, comment='Country/region of the delivery address (`recipient_address.region_code`, e.g. US, GB).'),
    sa.Column('line_item_count', sa.Integer(), nullable=True, comment='Number of line items. TikTok sends one line item per unit, so this is the units sold.'),
    sa.Column('raw', RawJSON(), nullable=False, comment='The order exactly as TikTok sent it (JSON text with sorted keys; `json` on Postgres), including fields that have no column of their own and its line items (`line_items`).'),
    sa.Column('_row_hash', sa.String(length=64), nullable=False, comment="sha256 (hex) of the order's canonical JSON (sorted keys). A payload with the same hash is not written again."),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_orders_source')),
    sa.PrimaryKeyConstraint('shop_id', 'id', name=op.f('pk_tiktok_orders')),
    comment='One row per TikTok Shop order (API 202309 order object); the newest version wins.'
    )
    op.create_index('ix_tiktok_orders_shop_id_create_time', 'tiktok_orders', ['shop_id', 'create_time'], unique=False)
    op.create_index('ix_tiktok_orders_shop_id_update_time', 'tiktok_orders', ['shop_id', 'update_time'], unique=False)
    op.create_table('tiktok_product_sku_inventory',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the product's shop."),
    sa.Column('sku_id', sa.String(), nullable=False, comment='TikTok SKU id (tiktok_product_skus.id).'),
    sa.Column('warehouse_id', sa.String(), nullable=False, comment='TikTok warehouse id; an empty string when TikTok sends none (single-warehouse shops).'),
    sa.Column('product_id', sa.String(), nullable=False, comment="The SKU's product (tiktok_products.id)."),
    sa.Column('quantity', sa.Integer(), nullable=True, comment='Stock of the SKU in this warehouse, in units.'),
    sa.Column('available_quantity', sa.Integer(), nullable=True, comment='Units available to sell, when TikTok reports it.'),
    sa.Column('committed_quantity', sa.Integer(), nullable=True, comment='Units reserved by open orders, when TikTok reports it.'),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_product_sku_inventory_source')),
    sa.PrimaryKeyConstraint('shop_id', 'sku_id', 'warehouse_id', name=op.f('pk_tiktok_product_sku_inventory')),
    comment="Stock per SKU and warehouse, as of the product's last sync; replaced with it."
    )
    op.create_index('ix_tiktok_product_sku_inventory_shop_id_product_id', 'tiktok_product_sku_inventory', ['shop_id', 'product_id'], unique=False)
    op.create_table('tiktok_product_skus',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the product's shop."),
    sa.Column('id', sa.String(), nullable=False, comment='TikTok SKU id.'),
    sa.Column('product_id', sa.String(), nullable=False, comment="The SKU's product (tiktok_products.id)."),
    sa.Column('seller_sku', sa.String(), nullable=True, comment="The seller's own SKU code."),
    sa.Column('currency', sa.String(), nullable=True, comment='ISO 4217 currency code of every amount on this row (`price.currency`).'),
    sa.Column('sale_price', Money(), nullable=True, comment='Current sale price (`price.sale_price`). Exact decimal, in `currency`.'),
    sa.Column('tax_exclusive_price', Money(), nullable=True, comment='Sale price without tax, where TikTok reports it (`price.tax_exclusive_price`). Exact decimal, in `currency`.'),
    sa.Column('list_price', Money(), nullable=True, comment='List (strikethrough) price when TikTok sends one (`list_price`). Exact decimal, in `currency`.'),
    sa.Column('total_quantity', sa.Integer(), nullable=True, comment='Stock over all warehouses: the sum of `inventory[].quantity`.'),
    sa.Column('warehouse_count', sa.Integer(), nullable=True, comment='Number of warehouses that hold stock entries for the SKU.'),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_product_skus_source')),
    sa.PrimaryKeyConstraint('shop_id', 'id', name=op.f('pk_tiktok_product_skus')),
    comment="One row per product SKU (variant); replaced whenever its product is. The SKU's full JSON is not stored again here: it is an element of the product's `raw` (`tiktok_products.raw -> 'skus'`)."
    )
    op.create_index('ix_tiktok_product_skus_shop_id_product_id', 'tiktok_product_skus', ['shop_id', 'product_id'], unique=False)
    op.create_table('tiktok_products',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the product's shop."),
    sa.Column('id', sa.String(), nullable=False, comment='TikTok product id.'),
    sa.Column('title', sa.Text(), nullable=True, comment='Product title.'),
    sa.Column('status', sa.String(), nullable=True, comment='Product status: DRAFT, PENDING, FAILED, ACTIVATE, SELLER_DEACTIVATED, PLATFORM_DEACTIVATED, FREEZE or DELETED.'),
    sa.Column('create_time', sa.BigInteger(), nullable=True, comment='When the product was created: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=True, comment='When the product was created: UTC timestamp (`create_time` converted).'),
    sa.Column('update_time', sa.BigInteger(), nullable=True, comment='When the product last changed on TikTok: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing. A stored product is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=True, comment='When the product last changed on TikTok: UTC timestamp (`update_time` converted). A stored product is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('sales_regions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True, comment='JSON array of the region codes the product is sold in, e.g. ["US"].'),
    sa.Column('is_not_for_sale', sa.Boolean(), nullable=True, comment='True when the product is listed but not for sale.'),
    sa.Column('has_draft', sa.Boolean(), nullable=True, comment='True when the product has an unpublished draft version.'),
    sa.Column('listing_quality_tier', sa.String(), nullable=True, comment="TikTok's listing quality tier, e.g. POOR, FAIR or GOOD."),
    sa.Column('sku_count', sa.Integer(), nullable=True, comment='Number of SKUs (variants) of the product.'),
    sa.Column('raw', RawJSON(), nullable=False, comment='The product exactly as TikTok sent it (JSON text with sorted keys; `json` on Postgres), including fields that have no column of their own and its SKUs (`skus`, with `inventory`).'),
    sa.Column('_row_hash', sa.String(length=64), nullable=False, comment="sha256 (hex) of the product's canonical JSON (sorted keys). A payload with the same hash is not written again."),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_products_source')),
    sa.PrimaryKeyConstraint('shop_id', 'id', name=op.f('pk_tiktok_products')),
    comment='One row per TikTok Shop product (API 202309/202502 product object).'
    )
    op.create_index('ix_tiktok_products_shop_id_update_time', 'tiktok_products', ['shop_id', 'update_time'], unique=False)
    op.create_table('tiktok_return_line_items',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the order's shop."),
    sa.Column('return_line_item_id', sa.String(), nullable=False, comment='TikTok return line item id.'),
    sa.Column('return_id', sa.String(), nullable=False, comment='The return this line belongs to (tiktok_returns.return_id).'),
    sa.Column('order_id', sa.String(), nullable=True, comment='The order of the return (tiktok_orders.id).'),
    sa.Column('order_line_item_id', sa.String(), nullable=True, comment='The order line item that is returned (tiktok_order_line_items.id).'),
    sa.Column('sku_id', sa.String(), nullable=True, comment='TikTok SKU id.'),
    sa.Column('sku_name', sa.Text(), nullable=True, comment='SKU name (variant).'),
    sa.Column('product_name', sa.Text(), nullable=True, comment='Product title.'),
    sa.Column('seller_sku', sa.String(), nullable=True, comment="The seller's own SKU code."),
    sa.Column('currency', sa.String(), nullable=True, comment='ISO 4217 currency code of every amount on this row (`refund_amount.currency`).'),
    sa.Column('refund_total', Money(), nullable=True, comment='Total refund for this line (`refund_amount.refund_total`). Exact decimal, in `currency`.'),
    sa.Column('refund_subtotal', Money(), nullable=True, comment='Refund for the product (`refund_amount.refund_subtotal`). Exact decimal, in `currency`.'),
    sa.Column('refund_shipping_fee', Money(), nullable=True, comment='Refunded shipping (`refund_amount.refund_shipping_fee`). Exact decimal, in `currency`.'),
    sa.Column('refund_tax', Money(), nullable=True, comment='Refunded tax (`refund_amount.refund_tax`). Exact decimal, in `currency`.'),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_return_line_items_source')),
    sa.PrimaryKeyConstraint('shop_id', 'return_line_item_id', name=op.f('pk_tiktok_return_line_items')),
    comment="One row per returned order line item; replaced whenever its return is. The return line item's full JSON is not stored again here: it is an element of the return's `raw` (`tiktok_returns.raw -> 'return_line_items'`)."
    )
    op.create_index('ix_tiktok_return_line_items_shop_id_return_id', 'tiktok_return_line_items', ['shop_id', 'return_id'], unique=False)
    op.create_table('tiktok_returns',
    sa.Column('shop_id', sa.String(), nullable=False, comment="TikTok shop id of the order's shop."),
    sa.Column('return_id', sa.String(), nullable=False, comment='TikTok return (after-sales request) id.'),
    sa.Column('order_id', sa.String(), nullable=True, comment='The order the return is about (tiktok_orders.id).'),
    sa.Column('return_type', sa.String(), nullable=True, comment='REFUND, RETURN_AND_REFUND or REPLACEMENT.'),
    sa.Column('return_status', sa.String(), nullable=True, comment='Return status: RETURN_OR_REFUND_REQUEST_PENDING, REFUND_OR_RETURN_REQUEST_REJECT, AWAITING_BUYER_SHIP, BUYER_SHIPPED_ITEM, REJECT_RECEIVE_PACKAGE, RETURN_OR_REFUND_REQUEST_SUCCESS, RETURN_OR_REFUND_REQUEST_CANCEL, RETURN_OR_REFUND_REQUEST_COMPLETE, REPLACEMENT_REQUEST_PENDING, REPLACEMENT_REQUEST_REJECT, REPLACEMENT_REQUEST_REFUND_SUCCESS, REPLACEMENT_REQUEST_CANCEL, REPLACEMENT_REQUEST_COMPLETE or AWAITING_BUYER_RESPONSE.'),
    sa.Column('role', sa.String(), nullable=True, comment='Who opened the request: BUYER, SELLER, OPERATOR or SYSTEM.'),
    sa.Column('arbitration_status', sa.String(), nullable=True, comment='TikTok arbitration: IN_PROGRESS, SUPPORT_BUYER, SUPPORT_SELLER or CLOSED; NULL if none.'),
    sa.Column('return_reason', sa.String(), nullable=True, comment='Reason code chosen by the buyer.'),
    sa.Column('return_reason_text', sa.Text(), nullable=True, comment='The reason in words.'),
    sa.Column('shipment_type', sa.String(), nullable=True, comment='Who arranges the return shipment: PLATFORM or BUYER_ARRANGE.'),
    sa.Column('handover_method', sa.String(), nullable=True, comment='How the buyer hands the parcel over: DROP_OFF or PICKUP.'),
    sa.Column('return_method', sa.String(), nullable=True, comment='Return method as TikTok names it.'),
    sa.Column('create_time', sa.BigInteger(), nullable=True, comment='When the return was requested: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.'),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=True, comment='When the return was requested: UTC timestamp (`create_time` converted).'),
    sa.Column('update_time', sa.BigInteger(), nullable=True, comment='When the return last changed on TikTok: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing. A stored return is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=True, comment='When the return last changed on TikTok: UTC timestamp (`update_time` converted). A stored return is only replaced by a payload with the same or a newer update_time.'),
    sa.Column('currency', sa.String(), nullable=True, comment='ISO 4217 currency code of every amount on this row (`refund_amount.currency`).'),
    sa.Column('refund_total', Money(), nullable=True, comment='Total refund to the buyer (`refund_amount.refund_total`). Exact decimal, in `currency`.'),
    sa.Column('refund_subtotal', Money(), nullable=True, comment='Refund for the products (`refund_amount.refund_subtotal`). Exact decimal, in `currency`.'),
    sa.Column('refund_shipping_fee', Money(), nullable=True, comment='Refunded shipping (`refund_amount.refund_shipping_fee`). Exact decimal, in `currency`.'),
    sa.Column('refund_tax', Money(), nullable=True, comment='Refunded tax (`refund_amount.refund_tax`). Exact decimal, in `currency`.'),
    sa.Column('retail_delivery_fee', Money(), nullable=True, comment='Refunded retail delivery fee (`refund_amount.retail_delivery_fee`). Exact decimal, in `currency`.'),
    sa.Column('buyer_service_fee', Money(), nullable=True, comment='Refunded buyer service fee (`refund_amount.buyer_service_fee`). Exact decimal, in `currency`.'),
    sa.Column('can_buyer_keep_item', sa.Boolean(), nullable=True, comment='True when the buyer keeps the item (refund without return).'),
    sa.Column('is_combined_return', sa.Boolean(), nullable=True, comment='True when several returns were combined into one.'),
    sa.Column('combined_return_id', sa.String(), nullable=True, comment='Id of the combined return this one belongs to.'),
    sa.Column('line_item_count', sa.Integer(), nullable=True, comment='Number of return line items.'),
    sa.Column('raw', RawJSON(), nullable=False, comment='The return exactly as TikTok sent it (JSON text with sorted keys; `json` on Postgres), including fields that have no column of their own and its line items (`return_line_items`).'),
    sa.Column('_row_hash', sa.String(length=64), nullable=False, comment="sha256 (hex) of the return's canonical JSON (sorted keys). A payload with the same hash is not written again."),
    sa.Column('_synced_at', UTCDateTime(timezone=True), nullable=False, comment='UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.'),
    sa.Column('_source', sa.String(length=16), nullable=False, comment='What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).'),
    sa.CheckConstraint("_source IN ('poll', 'webhook')", name=op.f('ck_tiktok_returns_source')),
    sa.PrimaryKeyConstraint('shop_id', 'return_id', name=op.f('pk_tiktok_returns')),
    comment='One row per return, refund or replacement request (API 202309 return object).'
    )
    op.create_index('ix_tiktok_returns_shop_id_order_id', 'tiktok_returns', ['shop_id', 'order_id'], unique=False)
    op.create_index('ix_tiktok_returns_shop_id_update_time', 'tiktok_returns', ['shop_id', 'update_time'], unique=False)
    op.create_table('tiktok_sync_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False, comment='Row id (increasing).'),
    sa.Column('shop_id', sa.String(), nullable=False, comment='TikTok shop id that was synced.'),
    sa.Column('entity', sa.String(), nullable=False, comment='What was synced: `orders`, `products` or `returns`.'),
    sa.Column('window_start', UTCDateTime(timezone=True), nullable=False, comment='Start of the synced update_time window, UTC, inclusive.'),
    sa.Column('window_end', UTCDateTime(timezone=True), nullable=False, comment='End of the synced update_time window, UTC, exclusive.'),
    sa.Column('status', sa.String(), nullable=False, comment='`success` (data committed) or `failed` (data rolled back).'),
    sa.Column('api_total_count', sa.BigInteger(), nullable=True, comment="TikTok's `total_count` for the window, as the search endpoint reported it."),
    sa.Column('items_received', sa.Integer(), nullable=True, comment='Distinct entity ids received from TikTok for the window.'),
    sa.Column('pages', sa.Integer(), nullable=True, comment='Number of pages fetched.'),
    sa.Column('inserted', sa.Integer(), nullable=True, comment='Entities that were new to the warehouse.'),
    sa.Column('updated', sa.Integer(), nullable=True, comment='Entities that replaced an older stored version.'),
    sa.Column('unchanged', sa.Integer(), nullable=True, comment='Entities identical to the stored version (nothing written).'),
    sa.Column('stale', sa.Integer(), nullable=True, comment='Entities older than the stored version (ignored).'),
    sa.Column('run_id', sa.String(), nullable=True, comment='Dagster run id.'),
    sa.Column('partition_key', sa.String(), nullable=True, comment='Dagster partition key of the run.'),
    sa.Column('started_at', UTCDateTime(timezone=True), nullable=True, comment='When the sync of the window started, UTC.'),
    sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True, comment='When the sync of the window ended, UTC.'),
    sa.Column('error', sa.Text(), nullable=True, comment='What went wrong, for failed syncs.'),
    sa.CheckConstraint("entity IN ('orders', 'products', 'returns')", name=op.f('ck_tiktok_sync_ledger_entity')),
    sa.CheckConstraint("status IN ('success', 'failed')", name=op.f('ck_tiktok_sync_ledger_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_sync_ledger')),
    comment='One row per sync attempt of a (shop, entity, time window): what TikTok reported and what the warehouse did with it. Used by freshness and completeness checks.'
    )
    op.create_index('ix_tiktok_sync_ledger_entity_finished_at', 'tiktok_sync_ledger', ['entity', 'finished_at'], unique=False)
    op.create_index('ix_tiktok_sync_ledger_shop_id_entity_window_start', 'tiktok_sync_ledger', ['shop_id', 'entity', 'window_start'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _use_lz4(bind)
    op.execute(_daily_sales_sql(bind.dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS tiktok_daily_sales")
    op.drop_index('ix_tiktok_sync_ledger_shop_id_entity_window_start', table_name='tiktok_sync_ledger')
    op.drop_index('ix_tiktok_sync_ledger_entity_finished_at', table_name='tiktok_sync_ledger')
    op.drop_table('tiktok_sync_ledger')
    op.drop_index('ix_tiktok_returns_shop_id_update_time', table_name='tiktok_returns')
    op.drop_index('ix_tiktok_returns_shop_id_order_id', table_name='tiktok_returns')
    op.drop_table('tiktok_returns')
    op.drop_index('ix_tiktok_return_line_items_shop_id_return_id', table_name='tiktok_return_line_items')
    op.drop_table('tiktok_return_line_items')
    op.drop_index('ix_tiktok_products_shop_id_update_time', table_name='tiktok_products')
    op.drop_table('tiktok_products')
    op.drop_index('ix_tiktok_product_skus_shop_id_product_id', table_name='tiktok_product_skus')
    op.drop_table('tiktok_product_skus')
    op.drop_index('ix_tiktok_product_sku_inventory_shop_id_product_id', table_name='tiktok_product_sku_inventory')
    op.drop_table('tiktok_product_sku_inventory')
    op.drop_index('ix_tiktok_orders_shop_id_update_time', table_name='tiktok_orders')
    op.drop_index('ix_tiktok_orders_shop_id_create_time', table_name='tiktok_orders')
    op.drop_table('tiktok_orders')
    op.drop_index('ix_tiktok_order_line_items_shop_id_order_id', table_name='tiktok_order_line_items')
    op.drop_table('tiktok_order_line_items')
