"""Finance (statements, statement transactions, payments, withdrawals, unsettled
transactions), cancellations and their line items, products' deleted_at, the new sync ledger
entities and the tiktok_order_settlements view.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 00:00:00

Written to match tiktok_pipeline/warehouse/schema.py (and finance_schema.py) at the time.
The view sums whole millionths on SQLite, like tiktok_daily_sales (migration 0002), so its
amounts are exact whatever client reads it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import Money, RawJSON

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ENTITIES = "'orders', 'products', 'returns'"
_NEW_ENTITIES = (
    "'orders', 'products', 'returns', 'cancellations', 'statements', 'statement_transactions', "
    "'payments', 'withdrawals', 'unsettled_transactions'"
)
_OLD_ENTITY_COMMENT = "What was synced: `orders`, `products` or `returns`."
_NEW_ENTITY_COMMENT = (
    "What was synced: `orders`, `products`, `returns`, `cancellations`, `statements`, "
    "`statement_transactions`, `payments`, `withdrawals`, `unsettled_transactions`."
)


def _create_tables() -> None:
    op.create_table(
        "tiktok_cancellation_line_items",
        sa.Column(
            "shop_id", sa.String(), nullable=False, comment="TikTok shop id of the order's shop."
        ),
        sa.Column(
            "id",
            sa.String(),
            nullable=False,
            comment="TikTok cancellation line item id (`cancel_line_item_id`).",
        ),
        sa.Column(
            "cancel_id",
            sa.String(),
            nullable=False,
            comment="The cancellation this line belongs to (tiktok_cancellations.id).",
        ),
        sa.Column(
            "order_id",
            sa.String(),
            nullable=True,
            comment="The order of the cancellation (tiktok_orders.id).",
        ),
        sa.Column(
            "order_line_item_id",
            sa.String(),
            nullable=True,
            comment="The order line item that is cancelled (tiktok_order_line_items.id).",
        ),
        sa.Column("sku_id", sa.String(), nullable=True, comment="TikTok SKU id."),
        sa.Column("sku_name", sa.Text(), nullable=True, comment="SKU name (variant)."),
        sa.Column("product_name", sa.Text(), nullable=True, comment="Product title."),
        sa.Column("seller_sku", sa.String(), nullable=True, comment="The seller's own SKU code."),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row (`refund_amount.currency`).",
        ),
        sa.Column(
            "refund_total",
            Money(),
            nullable=True,
            comment="Total refund for this line (`refund_amount.refund_total`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_subtotal",
            Money(),
            nullable=True,
            comment="Refund for the product (`refund_amount.refund_subtotal`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_tax",
            Money(),
            nullable=True,
            comment="Refunded tax (`refund_amount.refund_tax`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_cancellation_line_items_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_cancellation_line_items")),
        comment="One row per cancelled order line item; replaced whenever its cancellation is. The cancellation line item's full JSON is not stored again here: it is an element of the cancellation's `raw` (`tiktok_cancellations.raw -> 'cancel_line_items'`).",
    )
    op.create_index(
        "ix_tiktok_cancellation_line_items_shop_id_cancel_id",
        "tiktok_cancellation_line_items",
        ["shop_id", "cancel_id"],
        unique=False,
    )
    op.create_table(
        "tiktok_cancellations",
        sa.Column(
            "shop_id", sa.String(), nullable=False, comment="TikTok shop id of the order's shop."
        ),
        sa.Column(
            "id", sa.String(), nullable=False, comment="TikTok cancellation id (`cancel_id`)."
        ),
        sa.Column(
            "order_id",
            sa.String(),
            nullable=True,
            comment="The order being cancelled (tiktok_orders.id).",
        ),
        sa.Column(
            "cancel_type",
            sa.String(),
            nullable=True,
            comment="CANCEL (by the seller or system) or BUYER_CANCEL.",
        ),
        sa.Column(
            "cancel_status",
            sa.String(),
            nullable=True,
            comment="Cancellation status, e.g. CANCELLATION_REQUEST_PENDING, CANCELLATION_REQUEST_SUCCESS, CANCELLATION_REQUEST_CANCEL or CANCELLATION_REQUEST_COMPLETE.",
        ),
        sa.Column(
            "role",
            sa.String(),
            nullable=True,
            comment="Who asked to cancel: BUYER, SELLER, OPERATOR or SYSTEM.",
        ),
        sa.Column(
            "create_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the cancellation was requested: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "created_at",
            UTCDateTime(),
            nullable=True,
            comment="When the cancellation was requested: UTC timestamp (`create_time` converted).",
        ),
        sa.Column(
            "update_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the cancellation last changed on TikTok: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing. A stored cancellation is only replaced by a payload with the same or a newer update_time.",
        ),
        sa.Column(
            "updated_at",
            UTCDateTime(),
            nullable=True,
            comment="When the cancellation last changed on TikTok: UTC timestamp (`update_time` converted). A stored cancellation is only replaced by a payload with the same or a newer update_time.",
        ),
        sa.Column(
            "cancel_reason", sa.String(), nullable=True, comment="Reason code of the cancellation."
        ),
        sa.Column("cancel_reason_text", sa.Text(), nullable=True, comment="The reason in words."),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row (`refund_amount.currency`).",
        ),
        sa.Column(
            "refund_total",
            Money(),
            nullable=True,
            comment="Total refund to the buyer (`refund_amount.refund_total`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_subtotal",
            Money(),
            nullable=True,
            comment="Refund for the products (`refund_amount.refund_subtotal`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_shipping_fee",
            Money(),
            nullable=True,
            comment="Refunded shipping (`refund_amount.refund_shipping_fee`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_tax",
            Money(),
            nullable=True,
            comment="Refunded tax (`refund_amount.refund_tax`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "retail_delivery_fee",
            Money(),
            nullable=True,
            comment="Refunded retail delivery fee (`refund_amount.retail_delivery_fee`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "buyer_service_fee",
            Money(),
            nullable=True,
            comment="Refunded buyer service fee (`refund_amount.buyer_service_fee`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "line_item_count",
            sa.Integer(),
            nullable=True,
            comment="Number of cancelled line items (`cancel_line_items`).",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the cancellation TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its line items (`cancel_line_items`).",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the cancellation's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_cancellations_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_cancellations")),
        comment="One row per order cancellation request (API 202309 cancellation object); the newest version wins.",
    )
    op.create_index(
        "ix_tiktok_cancellations_shop_id_order_id",
        "tiktok_cancellations",
        ["shop_id", "order_id"],
        unique=False,
    )
    op.create_index(
        "ix_tiktok_cancellations_shop_id_update_time",
        "tiktok_cancellations",
        ["shop_id", "update_time"],
        unique=False,
    )
    op.create_table(
        "tiktok_payments",
        sa.Column(
            "shop_id", sa.String(), nullable=False, comment="TikTok shop id of the payment's shop."
        ),
        sa.Column("id", sa.String(), nullable=False, comment="TikTok payment id."),
        sa.Column(
            "create_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the payment was created: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "created_at",
            UTCDateTime(),
            nullable=True,
            comment="When the payment was created: UTC timestamp (`create_time` converted).",
        ),
        sa.Column(
            "paid_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the payment reached the seller's bank: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "paid_at",
            UTCDateTime(),
            nullable=True,
            comment="When the payment reached the seller's bank: UTC timestamp (`paid_time` converted).",
        ),
        sa.Column(
            "status",
            sa.String(),
            nullable=True,
            comment="Payment status: PAID, FAILED or PROCESSING.",
        ),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row (`amount.currency`).",
        ),
        sa.Column(
            "amount",
            Money(),
            nullable=True,
            comment="What is paid to the bank account (`amount.value`): the statements' settlements minus the reserve. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "settlement_amount",
            Money(),
            nullable=True,
            comment="The settlements of the statements paid out (`settlement_amount.value`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "reserve_amount",
            Money(),
            nullable=True,
            comment="Amount held back in reserve (`reserve_amount.value`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "payment_amount_before_exchange",
            Money(),
            nullable=True,
            comment="The amount before currency conversion (`payment_amount_before_exchange.value`), in `payment_amount_before_exchange_currency`. Exact decimal.",
        ),
        sa.Column(
            "payment_amount_before_exchange_currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency of payment_amount_before_exchange.",
        ),
        sa.Column(
            "exchange_rate",
            Money(),
            nullable=True,
            comment="Exchange rate applied (`exchange_rate`). Exact decimal.",
        ),
        sa.Column(
            "bank_account",
            sa.String(),
            nullable=True,
            comment="The receiving bank account, masked as TikTok sends it.",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the payment TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its amounts.",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the payment's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_payments_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_payments")),
        comment="One row per payout to the seller's bank account (API 202309 payment object).",
    )
    op.create_index(
        "ix_tiktok_payments_shop_id_create_time",
        "tiktok_payments",
        ["shop_id", "create_time"],
        unique=False,
    )
    op.create_table(
        "tiktok_statement_transactions",
        sa.Column(
            "shop_id",
            sa.String(),
            nullable=False,
            comment="TikTok shop id of the statement's shop.",
        ),
        sa.Column("id", sa.String(), nullable=False, comment="TikTok statement transaction id."),
        sa.Column(
            "statement_id",
            sa.String(),
            nullable=False,
            comment="The statement the transaction belongs to (tiktok_statements.id). TikTok's list does not repeat it on each transaction: the pipeline adds `statement_id` to the object it fetched under that statement (it is in `raw` too).",
        ),
        sa.Column(
            "type",
            sa.String(),
            nullable=True,
            comment="ORDER for an order's settlement; adjustments: e.g. LOGISTICS_REIMBURSEMENT, PLATFORM_REIMBURSEMENT, SHIPPING_FEE_ADJUSTMENT, CHARGE_BACK.",
        ),
        sa.Column(
            "order_id",
            sa.String(),
            nullable=True,
            comment="The order settled (tiktok_orders.id); NULL for an adjustment.",
        ),
        sa.Column(
            "order_create_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the order was placed: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "order_created_at",
            UTCDateTime(),
            nullable=True,
            comment="When the order was placed: UTC timestamp (`order_create_time` converted).",
        ),
        sa.Column(
            "adjustment_id",
            sa.String(),
            nullable=True,
            comment="TikTok adjustment id; NULL for ORDER transactions.",
        ),
        sa.Column(
            "associated_order_id",
            sa.String(),
            nullable=True,
            comment="The order an adjustment concerns (tiktok_orders.id); NULL when none.",
        ),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row.",
        ),
        sa.Column(
            "settlement_amount",
            Money(),
            nullable=True,
            comment="What the transaction pays the seller: revenue + fee_tax + shipping_cost + adjustment. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "revenue_amount",
            Money(),
            nullable=True,
            comment="Revenue: the revenue breakdown columns added up. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "fee_tax_amount",
            Money(),
            nullable=True,
            comment="Fees and taxes (negative): the fee columns + other_fees_amount + tax_amount. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "shipping_cost_amount",
            Money(),
            nullable=True,
            comment="Shipping cost: the shipping breakdown columns added up. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "adjustment_amount",
            Money(),
            nullable=True,
            comment="Adjustment amount (0 for ORDER transactions). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "subtotal_before_discount_amount",
            Money(),
            nullable=True,
            comment="Products at their original price, before discounts (`revenue_breakdown.subtotal_before_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "seller_discount_amount",
            Money(),
            nullable=True,
            comment="Product discounts funded by the seller (negative) (`revenue_breakdown.seller_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_subtotal_before_discount_amount",
            Money(),
            nullable=True,
            comment="Products refunded to the buyer, at their original price (negative) (`revenue_breakdown.refund_subtotal_before_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "seller_discount_refund_amount",
            Money(),
            nullable=True,
            comment="Seller discounts given back on refunded products (`revenue_breakdown.seller_discount_refund_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "cod_service_fee_amount",
            Money(),
            nullable=True,
            comment="Cash-on-delivery service fee paid by the buyer (`revenue_breakdown.cod_service_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_revenue_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `revenue_breakdown` (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "platform_commission_amount",
            Money(),
            nullable=True,
            comment="TikTok's platform commission (negative) (`fee_tax_breakdown.fee.platform_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "referral_fee_amount",
            Money(),
            nullable=True,
            comment="Referral fee (negative) (`fee_tax_breakdown.fee.referral_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "transaction_fee_amount",
            Money(),
            nullable=True,
            comment="Payment transaction fee (negative) (`fee_tax_breakdown.fee.transaction_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "affiliate_commission_amount",
            Money(),
            nullable=True,
            comment="Commission paid to affiliate creators (negative) (`fee_tax_breakdown.fee.affiliate_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "affiliate_partner_commission_amount",
            Money(),
            nullable=True,
            comment="Commission paid to affiliate partners (negative) (`fee_tax_breakdown.fee.affiliate_partner_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "sfp_service_fee_amount",
            Money(),
            nullable=True,
            comment="Seller Fulfilled Prime / SFP service fee (negative) (`fee_tax_breakdown.fee.sfp_service_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "fee_per_item_sold_amount",
            Money(),
            nullable=True,
            comment="Fixed fee per item sold (negative) (`fee_tax_breakdown.fee.fee_per_item_sold_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_fees_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `fee_tax_breakdown.fee`: fees TikTok adds that have no column (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "vat_amount",
            Money(),
            nullable=True,
            comment="VAT withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.vat_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "gst_amount",
            Money(),
            nullable=True,
            comment="GST withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.gst_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "sst_amount",
            Money(),
            nullable=True,
            comment="SST withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.sst_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "tax_amount",
            Money(),
            nullable=True,
            comment="Sum of every key of `fee_tax_breakdown.tax` (vat, gst, sst and any other tax); NULL without a breakdown. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "actual_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="What the shipping actually cost (negative) (`shipping_cost_breakdown.actual_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "customer_paid_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="Shipping fee the buyer paid (`shipping_cost_breakdown.customer_paid_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "platform_shipping_fee_discount_amount",
            Money(),
            nullable=True,
            comment="Shipping discount funded by TikTok (`shipping_cost_breakdown.platform_shipping_fee_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "return_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="Cost of the return shipping (negative) (`shipping_cost_breakdown.return_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "shipping_fee_subsidy_amount",
            Money(),
            nullable=True,
            comment="Shipping subsidy from TikTok (`shipping_cost_breakdown.shipping_fee_subsidy_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_shipping_cost_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `shipping_cost_breakdown` (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the statement transaction TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its breakdowns, with the added `statement_id`.",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the statement transaction's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_statement_transactions_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_statement_transactions")),
        comment="One row per transaction of a statement (API 202501): an order's settlement or an adjustment, with its revenue, fee/tax and shipping breakdowns as columns.",
    )
    op.create_index(
        "ix_tiktok_statement_transactions_shop_id_associated_order_id",
        "tiktok_statement_transactions",
        ["shop_id", "associated_order_id"],
        unique=False,
    )
    op.create_index(
        "ix_tiktok_statement_transactions_shop_id_order_id",
        "tiktok_statement_transactions",
        ["shop_id", "order_id"],
        unique=False,
    )
    op.create_index(
        "ix_tiktok_statement_transactions_shop_id_statement_id",
        "tiktok_statement_transactions",
        ["shop_id", "statement_id"],
        unique=False,
    )
    op.create_table(
        "tiktok_statements",
        sa.Column(
            "shop_id",
            sa.String(),
            nullable=False,
            comment="TikTok shop id of the statement's shop.",
        ),
        sa.Column("id", sa.String(), nullable=False, comment="TikTok statement id."),
        sa.Column(
            "statement_time",
            sa.BigInteger(),
            nullable=True,
            comment="When TikTok generated the statement (daily, for the transactions settled the day before): Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "statement_at",
            UTCDateTime(),
            nullable=True,
            comment="When TikTok generated the statement (daily, for the transactions settled the day before): UTC timestamp (`statement_time` converted).",
        ),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row.",
        ),
        sa.Column(
            "settlement_amount",
            Money(),
            nullable=True,
            comment="What the statement pays the seller: revenue + fee + shipping_cost + adjustment; equals the sum of its transactions' settlement_amount. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "revenue_amount",
            Money(),
            nullable=True,
            comment="Revenue of the statement's transactions. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "fee_amount",
            Money(),
            nullable=True,
            comment="Fees and taxes of the statement's transactions (negative). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "adjustment_amount",
            Money(),
            nullable=True,
            comment="Adjustments (reimbursements, chargebacks...). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "shipping_cost_amount",
            Money(),
            nullable=True,
            comment="Shipping costs of the statement (usually negative). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "net_sales_amount",
            Money(),
            nullable=True,
            comment="Net sales of the statement's orders. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "payment_status",
            sa.String(),
            nullable=True,
            comment="Payout status: PAID, FAILED or PROCESSING.",
        ),
        sa.Column(
            "payment_id",
            sa.String(),
            nullable=True,
            comment="The payment that pays the statement out (tiktok_payments.id).",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the statement TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its amounts.",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the statement's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_statements_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_statements")),
        comment="One row per daily settlement statement (API 202309 statement object); a changed statement (e.g. its payment_status) replaces the stored row.",
    )
    op.create_index(
        "ix_tiktok_statements_shop_id_payment_id",
        "tiktok_statements",
        ["shop_id", "payment_id"],
        unique=False,
    )
    op.create_index(
        "ix_tiktok_statements_shop_id_statement_time",
        "tiktok_statements",
        ["shop_id", "statement_time"],
        unique=False,
    )
    op.create_table(
        "tiktok_unsettled_transactions",
        sa.Column(
            "shop_id", sa.String(), nullable=False, comment="TikTok shop id of the order's shop."
        ),
        sa.Column("id", sa.String(), nullable=False, comment="TikTok transaction id."),
        sa.Column(
            "order_id",
            sa.String(),
            nullable=True,
            comment="The order not settled yet (tiktok_orders.id).",
        ),
        sa.Column(
            "order_create_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the order was placed: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "order_created_at",
            UTCDateTime(),
            nullable=True,
            comment="When the order was placed: UTC timestamp (`order_create_time` converted).",
        ),
        sa.Column("type", sa.String(), nullable=True, comment="Transaction type: ORDER."),
        sa.Column("status", sa.String(), nullable=True, comment="UNSETTLED."),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row.",
        ),
        sa.Column(
            "est_revenue_amount",
            Money(),
            nullable=True,
            comment="Estimated revenue. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "est_fee_tax_amount",
            Money(),
            nullable=True,
            comment="Estimated fees and taxes (negative). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "est_shipping_cost_amount",
            Money(),
            nullable=True,
            comment="Estimated shipping cost. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "est_adjustment_amount",
            Money(),
            nullable=True,
            comment="Estimated adjustments. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "est_settlement_amount",
            Money(),
            nullable=True,
            comment="Estimated settlement: est revenue + fee_tax + shipping_cost + adjustment. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "subtotal_before_discount_amount",
            Money(),
            nullable=True,
            comment="Products at their original price, before discounts (`revenue_breakdown.subtotal_before_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "seller_discount_amount",
            Money(),
            nullable=True,
            comment="Product discounts funded by the seller (negative) (`revenue_breakdown.seller_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "refund_subtotal_before_discount_amount",
            Money(),
            nullable=True,
            comment="Products refunded to the buyer, at their original price (negative) (`revenue_breakdown.refund_subtotal_before_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "seller_discount_refund_amount",
            Money(),
            nullable=True,
            comment="Seller discounts given back on refunded products (`revenue_breakdown.seller_discount_refund_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "cod_service_fee_amount",
            Money(),
            nullable=True,
            comment="Cash-on-delivery service fee paid by the buyer (`revenue_breakdown.cod_service_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_revenue_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `revenue_breakdown` (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "platform_commission_amount",
            Money(),
            nullable=True,
            comment="TikTok's platform commission (negative) (`fee_tax_breakdown.fee.platform_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "referral_fee_amount",
            Money(),
            nullable=True,
            comment="Referral fee (negative) (`fee_tax_breakdown.fee.referral_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "transaction_fee_amount",
            Money(),
            nullable=True,
            comment="Payment transaction fee (negative) (`fee_tax_breakdown.fee.transaction_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "affiliate_commission_amount",
            Money(),
            nullable=True,
            comment="Commission paid to affiliate creators (negative) (`fee_tax_breakdown.fee.affiliate_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "affiliate_partner_commission_amount",
            Money(),
            nullable=True,
            comment="Commission paid to affiliate partners (negative) (`fee_tax_breakdown.fee.affiliate_partner_commission_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "sfp_service_fee_amount",
            Money(),
            nullable=True,
            comment="Seller Fulfilled Prime / SFP service fee (negative) (`fee_tax_breakdown.fee.sfp_service_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "fee_per_item_sold_amount",
            Money(),
            nullable=True,
            comment="Fixed fee per item sold (negative) (`fee_tax_breakdown.fee.fee_per_item_sold_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_fees_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `fee_tax_breakdown.fee`: fees TikTok adds that have no column (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "vat_amount",
            Money(),
            nullable=True,
            comment="VAT withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.vat_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "gst_amount",
            Money(),
            nullable=True,
            comment="GST withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.gst_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "sst_amount",
            Money(),
            nullable=True,
            comment="SST withheld (negative); part of `tax_amount` (`fee_tax_breakdown.tax.sst_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "tax_amount",
            Money(),
            nullable=True,
            comment="Sum of every key of `fee_tax_breakdown.tax` (vat, gst, sst and any other tax); NULL without a breakdown. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "actual_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="What the shipping actually cost (negative) (`shipping_cost_breakdown.actual_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "customer_paid_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="Shipping fee the buyer paid (`shipping_cost_breakdown.customer_paid_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "platform_shipping_fee_discount_amount",
            Money(),
            nullable=True,
            comment="Shipping discount funded by TikTok (`shipping_cost_breakdown.platform_shipping_fee_discount_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "return_shipping_fee_amount",
            Money(),
            nullable=True,
            comment="Cost of the return shipping (negative) (`shipping_cost_breakdown.return_shipping_fee_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "shipping_fee_subsidy_amount",
            Money(),
            nullable=True,
            comment="Shipping subsidy from TikTok (`shipping_cost_breakdown.shipping_fee_subsidy_amount`). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "other_shipping_cost_amount",
            Money(),
            nullable=True,
            comment="Sum of every other key of `shipping_cost_breakdown` (0 when there is none; NULL without a breakdown). Exact decimal, in `currency`.",
        ),
        sa.Column(
            "unsettled_reason",
            sa.Text(),
            nullable=True,
            comment="Why the order is not settled yet.",
        ),
        sa.Column(
            "estimated_settle_time",
            sa.BigInteger(),
            nullable=True,
            comment="When TikTok expects to settle it: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "estimated_settle_at",
            UTCDateTime(),
            nullable=True,
            comment="When TikTok expects to settle it: UTC timestamp (`estimated_settle_time` converted).",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the unsettled transaction TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its breakdowns.",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the unsettled transaction's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_unsettled_transactions_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_unsettled_transactions")),
        comment="SNAPSHOT of the orders TikTok has not settled yet (API 202507), with estimated amounts. Each sync replaces a shop's rows with the complete list it got: a settled order leaves this table (it appears in tiktok_statement_transactions).",
    )
    op.create_index(
        "ix_tiktok_unsettled_transactions_shop_id_order_create_time",
        "tiktok_unsettled_transactions",
        ["shop_id", "order_create_time"],
        unique=False,
    )
    op.create_index(
        "ix_tiktok_unsettled_transactions_shop_id_order_id",
        "tiktok_unsettled_transactions",
        ["shop_id", "order_id"],
        unique=False,
    )
    op.create_table(
        "tiktok_withdrawals",
        sa.Column(
            "shop_id",
            sa.String(),
            nullable=False,
            comment="TikTok shop id of the withdrawal's shop.",
        ),
        sa.Column("id", sa.String(), nullable=False, comment="TikTok withdrawal id."),
        sa.Column(
            "type", sa.String(), nullable=True, comment="WITHDRAW, SETTLE, TRANSFER or REVERSE."
        ),
        sa.Column("status", sa.String(), nullable=True, comment="PROCESSING, SUCCESS or FAILED."),
        sa.Column(
            "currency",
            sa.String(),
            nullable=True,
            comment="ISO 4217 currency code of every amount on this row.",
        ),
        sa.Column(
            "amount",
            Money(),
            nullable=True,
            comment="Signed amount: money leaving the seller's balance is negative. Exact decimal, in `currency`.",
        ),
        sa.Column(
            "create_time",
            sa.BigInteger(),
            nullable=True,
            comment="When the withdrawal was created: Unix epoch seconds (UTC) exactly as TikTok sends them; NULL when TikTok sends 0 or nothing.",
        ),
        sa.Column(
            "created_at",
            UTCDateTime(),
            nullable=True,
            comment="When the withdrawal was created: UTC timestamp (`create_time` converted).",
        ),
        sa.Column(
            "raw",
            RawJSON(),
            nullable=False,
            comment="Every field of the withdrawal TikTok sent, values unchanged, as JSON text with sorted keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), including fields that have no column of their own and its fields.",
        ),
        sa.Column(
            "_row_hash",
            sa.String(length=64),
            nullable=False,
            comment="sha256 (hex) of the withdrawal's canonical JSON (sorted keys). A payload with the same hash is not written again.",
        ),
        sa.Column(
            "_synced_at",
            UTCDateTime(),
            nullable=False,
            comment="UTC time when the pipeline last wrote this row. Rerunning a sync with identical data does not change it.",
        ),
        sa.Column(
            "_source",
            sa.String(length=16),
            nullable=False,
            comment="What wrote this row last: `poll` (a scheduled or backfill sync of a time window) or `webhook` (a refresh triggered by a TikTok push).",
        ),
        sa.CheckConstraint(
            "_source IN ('poll', 'webhook')", name=op.f("ck_tiktok_withdrawals_source")
        ),
        sa.PrimaryKeyConstraint("shop_id", "id", name=op.f("pk_tiktok_withdrawals")),
        comment="One row per movement of the seller's TikTok balance (API 202309 withdrawal).",
    )
    op.create_index(
        "ix_tiktok_withdrawals_shop_id_create_time",
        "tiktok_withdrawals",
        ["shop_id", "create_time"],
        unique=False,
    )
    op.add_column(
        "tiktok_product_skus",
        sa.Column(
            "deleted_at",
            UTCDateTime(),
            nullable=True,
            comment="UTC time when the pipeline saw TikTok report the SKU's product deleted (status DELETED, or Get Product or the inventory endpoint answering that the product is gone). NULL while the product exists.",
        ),
    )
    op.add_column(
        "tiktok_products",
        sa.Column(
            "deleted_at",
            UTCDateTime(),
            nullable=True,
            comment="UTC time when the pipeline saw TikTok report the product deleted (status DELETED, or Get Product or the inventory endpoint answering that the product is gone). NULL while the product exists.",
        ),
    )


def _drop_tables() -> None:
    op.drop_column("tiktok_products", "deleted_at")
    op.drop_column("tiktok_product_skus", "deleted_at")
    op.drop_index("ix_tiktok_withdrawals_shop_id_create_time", table_name="tiktok_withdrawals")
    op.drop_table("tiktok_withdrawals")
    op.drop_index(
        "ix_tiktok_unsettled_transactions_shop_id_order_id",
        table_name="tiktok_unsettled_transactions",
    )
    op.drop_index(
        "ix_tiktok_unsettled_transactions_shop_id_order_create_time",
        table_name="tiktok_unsettled_transactions",
    )
    op.drop_table("tiktok_unsettled_transactions")
    op.drop_index("ix_tiktok_statements_shop_id_statement_time", table_name="tiktok_statements")
    op.drop_index("ix_tiktok_statements_shop_id_payment_id", table_name="tiktok_statements")
    op.drop_table("tiktok_statements")
    op.drop_index(
        "ix_tiktok_statement_transactions_shop_id_statement_id",
        table_name="tiktok_statement_transactions",
    )
    op.drop_index(
        "ix_tiktok_statement_transactions_shop_id_order_id",
        table_name="tiktok_statement_transactions",
    )
    op.drop_index(
        "ix_tiktok_statement_transactions_shop_id_associated_order_id",
        table_name="tiktok_statement_transactions",
    )
    op.drop_table("tiktok_statement_transactions")
    op.drop_index("ix_tiktok_payments_shop_id_create_time", table_name="tiktok_payments")
    op.drop_table("tiktok_payments")
    op.drop_index("ix_tiktok_cancellations_shop_id_update_time", table_name="tiktok_cancellations")
    op.drop_index("ix_tiktok_cancellations_shop_id_order_id", table_name="tiktok_cancellations")
    op.drop_table("tiktok_cancellations")
    op.drop_index(
        "ix_tiktok_cancellation_line_items_shop_id_cancel_id",
        table_name="tiktok_cancellation_line_items",
    )
    op.drop_table("tiktok_cancellation_line_items")


_FEES = (
    "platform_commission_amount",
    "referral_fee_amount",
    "transaction_fee_amount",
    "affiliate_commission_amount",
    "affiliate_partner_commission_amount",
    "sfp_service_fee_amount",
    "fee_per_item_sold_amount",
    "other_fees_amount",
    "tax_amount",
)
_SUMMED = (
    "revenue_amount",
    *_FEES,
    "fee_tax_amount",
    "shipping_cost_amount",
    "adjustment_amount",
    "settlement_amount",
)

# Each order's transactions: its ORDER transactions and the adjustments whose
# associated_order_id is the order. The statement is that of the order's first ORDER
# transaction (by statement time, then ids).
_ORDER_SETTLEMENTS = """
CREATE VIEW tiktok_order_settlements AS
SELECT
    f.shop_id AS shop_id,
    f.settled_order_id AS order_id,
    f.currency AS currency,
    first_order.statement_id AS statement_id,
    s.statement_time AS statement_time,
    s.statement_at AS statement_at,
{sums},
    s.payment_id AS payment_id,
    s.payment_status AS payment_status,
    p.paid_at AS paid_at
FROM (
    SELECT
        t.*,
        CASE WHEN t.type = 'ORDER' THEN t.order_id
             ELSE COALESCE(t.associated_order_id, t.order_id) END AS settled_order_id
    FROM tiktok_statement_transactions AS t
) AS f
JOIN (
    SELECT shop_id, order_id, statement_id
    FROM (
        SELECT
            t.shop_id,
            t.order_id,
            t.statement_id,
            ROW_NUMBER() OVER (
                PARTITION BY t.shop_id, t.order_id
                ORDER BY st.statement_time, t.statement_id, t.id
            ) AS position
        FROM tiktok_statement_transactions AS t
        LEFT JOIN tiktok_statements AS st
          ON st.shop_id = t.shop_id AND st.id = t.statement_id
        WHERE t.type = 'ORDER' AND t.order_id IS NOT NULL
    ) AS ranked
    WHERE position = 1
) AS first_order
  ON first_order.shop_id = f.shop_id AND first_order.order_id = f.settled_order_id
LEFT JOIN tiktok_statements AS s
  ON s.shop_id = first_order.shop_id AND s.id = first_order.statement_id
LEFT JOIN tiktok_payments AS p
  ON p.shop_id = s.shop_id AND p.id = s.payment_id
GROUP BY f.shop_id, f.settled_order_id, f.currency, first_order.statement_id,
         s.statement_time, s.statement_at, s.payment_id, s.payment_status, p.paid_at
"""


def _order_settlements_sql(dialect: str) -> str:
    if dialect == "postgresql":
        total = "COALESCE(SUM(f.{column}), 0)"
    else:
        # Whole millionths: integer sums are exact (see migration 0002).
        total = "COALESCE(SUM(CAST(ROUND(f.{column} * 1000000) AS INTEGER)), 0) / 1000000.0"
    sums = ",\n".join(f"    {total.format(column=name)} AS {name}" for name in _SUMMED)
    return _ORDER_SETTLEMENTS.format(sums=sums)


def _set_entities(entities: str, comment: str, old_comment: str) -> None:
    """The sync ledger's ``entity`` CHECK and comment; SQLite rebuilds the table."""
    name = op.f("ck_tiktok_sync_ledger_entity")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tiktok_sync_ledger", recreate="always") as batch:
            batch.drop_constraint(name, type_="check")
            batch.create_check_constraint(name, sa.text(f"entity IN ({entities})"))
        return
    op.drop_constraint(name, "tiktok_sync_ledger", type_="check")
    op.create_check_constraint(name, "tiktok_sync_ledger", sa.text(f"entity IN ({entities})"))
    op.alter_column(
        "tiktok_sync_ledger",
        "entity",
        existing_type=sa.String(),
        existing_nullable=False,
        comment=comment,
        existing_comment=old_comment,
    )


def _raw_comment(entity: str, children: str, *, old: bool) -> str:
    if old:
        return (
            f"The {entity} exactly as TikTok sent it (JSON text with sorted keys; `json` on "
            f"Postgres), including fields that have no column of their own and its {children}."
        )
    return (
        f"Every field of the {entity} TikTok sent, values unchanged, as JSON text with sorted "
        "keys and no spaces (TikTok's key order and spacing are not kept; `json` on Postgres), "
        f"including fields that have no column of their own and its {children}."
    )


#: (table, entity, children) of the `raw` columns whose comment now says exactly what is kept.
_RAW_TABLES = (
    ("tiktok_orders", "order", "line items (`line_items`)"),
    ("tiktok_products", "product", "SKUs (`skus`, with `inventory`)"),
    ("tiktok_returns", "return", "line items (`return_line_items`)"),
)
_LINE_ITEM_COUNT = (
    "Number of line items. TikTok sends one line item per unit, so this is the units sold.",
    "Number of line items. TikTok's 202309 line item has no quantity field and each line is, in "
    "practice, one unit, so this is normally the units sold (SUM of "
    "tiktok_order_line_items.quantity is exact either way).",
)
_QUANTITY = (
    "Units on this line: 1, since TikTok sends one line item per unit (a `quantity` field, if "
    "TikTok ever sends one, is used instead).",
    "Units on this line: 1, since TikTok's 202309 line item has no quantity field (in practice "
    "each line is one unit); a `quantity` field, if TikTok sends one, is used instead.",
)
_LINE_ITEMS_TABLE = (
    "One row per order line item (one per unit sold); replaced whenever its order is.",
    "One row per order line item (in practice one per unit sold); replaced whenever its order is.",
)
_LINE_ITEMS_RAW_NOTE = (
    " The line item's full JSON is not stored again here: it is an element of the order's `raw` "
    "(`tiktok_orders.raw -> 'line_items'`)."
)


def _set_comments(*, old: bool) -> None:
    """Column and table comments whose wording changed (only Postgres stores comments)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    before, after = (1, 0) if old else (0, 1)
    for table, entity, children in _RAW_TABLES:
        op.alter_column(
            table,
            "raw",
            existing_type=RawJSON(),
            existing_nullable=False,
            comment=_raw_comment(entity, children, old=old),
            existing_comment=_raw_comment(entity, children, old=not old),
        )
    op.alter_column(
        "tiktok_orders",
        "line_item_count",
        existing_type=sa.Integer(),
        existing_nullable=True,
        comment=_LINE_ITEM_COUNT[after],
        existing_comment=_LINE_ITEM_COUNT[before],
    )
    op.alter_column(
        "tiktok_order_line_items",
        "quantity",
        existing_type=sa.Integer(),
        existing_nullable=False,
        comment=_QUANTITY[after],
        existing_comment=_QUANTITY[before],
    )
    op.create_table_comment(
        "tiktok_order_line_items",
        _LINE_ITEMS_TABLE[after] + _LINE_ITEMS_RAW_NOTE,
        existing_comment=_LINE_ITEMS_TABLE[before] + _LINE_ITEMS_RAW_NOTE,
    )


def upgrade() -> None:
    _create_tables()
    _set_entities(_NEW_ENTITIES, _NEW_ENTITY_COMMENT, _OLD_ENTITY_COMMENT)
    _set_comments(old=False)
    op.execute(_order_settlements_sql(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS tiktok_order_settlements")
    op.execute("DELETE FROM tiktok_sync_ledger WHERE entity NOT IN (" + _OLD_ENTITIES + ")")
    _set_entities(_OLD_ENTITIES, _OLD_ENTITY_COMMENT, _NEW_ENTITY_COMMENT)
    _set_comments(old=True)
    _drop_tables()
