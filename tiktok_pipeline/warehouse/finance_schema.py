"""The finance tables: statements, their transactions, payments, withdrawals and the
transactions not settled yet (TikTok Shop Finance API), with every column's description.

Amounts are TikTok's signed decimal strings, stored exactly: money TikTok keeps from the
seller (fees, taxes, shipping costs) is negative, money paid to the seller positive. The
breakdown of a transaction is spread over columns so that, exactly,

    settlement_amount = revenue_amount + fee_tax_amount + shipping_cost_amount
                        + adjustment_amount
    revenue_amount = the revenue breakdown columns + other_revenue_amount
    fee_tax_amount = the fee columns + other_fees_amount + tax_amount
    shipping_cost_amount = the shipping breakdown columns + other_shipping_cost_amount
"""

from __future__ import annotations

import sqlalchemy as sa

from tiktok_pipeline.warehouse.columns import (
    currency_column,
    decimal_column,
    index,
    key_column,
    long_text_column,
    metadata,
    money_column,
    raw_column,
    row_hash_column,
    sync_columns,
    text_column,
    time_columns,
)

#: TikTok's revenue_breakdown keys with a column of their own (same name), described.
REVENUE_KEYS: dict[str, str] = {
    "subtotal_before_discount_amount": "Products at their original price, before discounts.",
    "seller_discount_amount": "Product discounts funded by the seller (negative).",
    "refund_subtotal_before_discount_amount": "Products refunded to the buyer, at their "
    "original price (negative).",
    "seller_discount_refund_amount": "Seller discounts given back on refunded products.",
    "cod_service_fee_amount": "Cash-on-delivery service fee paid by the buyer.",
}
#: TikTok's fee_tax_breakdown.fee keys with a column of their own (same name), described.
FEE_KEYS: dict[str, str] = {
    "platform_commission_amount": "TikTok's platform commission (negative).",
    "referral_fee_amount": "Referral fee (negative).",
    "transaction_fee_amount": "Payment transaction fee (negative).",
    "affiliate_commission_amount": "Commission paid to affiliate creators (negative).",
    "affiliate_partner_commission_amount": "Commission paid to affiliate partners (negative).",
    "sfp_service_fee_amount": "Seller Fulfilled Prime / SFP service fee (negative).",
    "fee_per_item_sold_amount": "Fixed fee per item sold (negative).",
}
#: TikTok's fee_tax_breakdown.tax keys with a column of their own; every tax is in tax_amount.
TAX_KEYS: dict[str, str] = {
    "vat_amount": "VAT withheld (negative); part of `tax_amount`.",
    "gst_amount": "GST withheld (negative); part of `tax_amount`.",
    "sst_amount": "SST withheld (negative); part of `tax_amount`.",
}
#: TikTok's shipping_cost_breakdown keys with a column of their own (same name), described.
SHIPPING_KEYS: dict[str, str] = {
    "actual_shipping_fee_amount": "What the shipping actually cost (negative).",
    "customer_paid_shipping_fee_amount": "Shipping fee the buyer paid.",
    "platform_shipping_fee_discount_amount": "Shipping discount funded by TikTok.",
    "return_shipping_fee_amount": "Cost of the return shipping (negative).",
    "shipping_fee_subsidy_amount": "Shipping subsidy from TikTok.",
}
OTHER_REVENUE = "other_revenue_amount"
OTHER_FEES = "other_fees_amount"
TAX_TOTAL = "tax_amount"
OTHER_SHIPPING = "other_shipping_cost_amount"

#: Every fee column of a transaction, in order: they add up to ``fee_tax_amount``.
FEE_COLUMNS = (*FEE_KEYS, OTHER_FEES, TAX_TOTAL)


def _described(text: str, path: str) -> str:
    """``Text (`path`).``: a description naming TikTok's field."""
    return f"{text.rstrip('.')} (`{path}`)."


def breakdown_columns() -> list[sa.Column]:
    """The columns of TikTok's revenue, fee/tax and shipping breakdowns."""
    revenue, fees, taxes = "revenue_breakdown", "fee_tax_breakdown.fee", "fee_tax_breakdown.tax"
    shipping = "shipping_cost_breakdown"
    return [
        *(
            money_column(name, _described(text, f"{revenue}.{name}"))
            for name, text in REVENUE_KEYS.items()
        ),
        money_column(
            OTHER_REVENUE,
            f"Sum of every other key of `{revenue}` (0 when there is none; NULL without a "
            "breakdown).",
        ),
        *(
            money_column(name, _described(text, f"{fees}.{name}"))
            for name, text in FEE_KEYS.items()
        ),
        money_column(
            OTHER_FEES,
            f"Sum of every other key of `{fees}`: fees TikTok adds that have no column "
            "(0 when there is none; NULL without a breakdown).",
        ),
        *(
            money_column(name, _described(text, f"{taxes}.{name}"))
            for name, text in TAX_KEYS.items()
        ),
        money_column(
            TAX_TOTAL,
            f"Sum of every key of `{taxes}` (vat, gst, sst and any other tax); NULL without a "
            "breakdown.",
        ),
        *(
            money_column(name, _described(text, f"{shipping}.{name}"))
            for name, text in SHIPPING_KEYS.items()
        ),
        money_column(
            OTHER_SHIPPING,
            f"Sum of every other key of `{shipping}` (0 when there is none; NULL without a "
            "breakdown).",
        ),
    ]


PAYMENT_STATUSES = "PAID, FAILED or PROCESSING"

statements = sa.Table(
    "tiktok_statements",
    metadata,
    key_column("shop_id", "TikTok shop id of the statement's shop."),
    key_column("id", "TikTok statement id."),
    *time_columns(
        "statement_time",
        "statement_at",
        "When TikTok generated the statement (daily, for the transactions settled the day before)",
    ),
    currency_column(),
    money_column(
        "settlement_amount",
        "What the statement pays the seller: revenue + fee + shipping_cost + adjustment; "
        "equals the sum of its transactions' settlement_amount.",
    ),
    money_column("revenue_amount", "Revenue of the statement's transactions."),
    money_column("fee_amount", "Fees and taxes of the statement's transactions (negative)."),
    money_column("adjustment_amount", "Adjustments (reimbursements, chargebacks...)."),
    money_column("shipping_cost_amount", "Shipping costs of the statement (usually negative)."),
    money_column("net_sales_amount", "Net sales of the statement's orders."),
    text_column("payment_status", f"Payout status: {PAYMENT_STATUSES}."),
    text_column("payment_id", "The payment that pays the statement out (tiktok_payments.id)."),
    raw_column("statement", "amounts"),
    row_hash_column("statement"),
    *sync_columns(),
    index("tiktok_statements", "shop_id", "statement_time"),
    index("tiktok_statements", "shop_id", "payment_id"),
    comment="One row per daily settlement statement (API 202309 statement object); a changed "
    "statement (e.g. its payment_status) replaces the stored row.",
)

statement_transactions = sa.Table(
    "tiktok_statement_transactions",
    metadata,
    key_column("shop_id", "TikTok shop id of the statement's shop."),
    key_column("id", "TikTok statement transaction id."),
    text_column(
        "statement_id",
        "The statement the transaction belongs to (tiktok_statements.id). TikTok's list does "
        "not repeat it on each transaction: the pipeline adds `statement_id` to the object "
        "it fetched under that statement (it is in `raw` too).",
        nullable=False,
    ),
    text_column(
        "type",
        "ORDER for an order's settlement; adjustments: e.g. LOGISTICS_REIMBURSEMENT, "
        "PLATFORM_REIMBURSEMENT, SHIPPING_FEE_ADJUSTMENT, CHARGE_BACK.",
    ),
    text_column("order_id", "The order settled (tiktok_orders.id); NULL for an adjustment."),
    *time_columns("order_create_time", "order_created_at", "When the order was placed"),
    text_column("adjustment_id", "TikTok adjustment id; NULL for ORDER transactions."),
    text_column(
        "associated_order_id",
        "The order an adjustment concerns (tiktok_orders.id); NULL when none.",
    ),
    currency_column(),
    money_column(
        "settlement_amount",
        "What the transaction pays the seller: revenue + fee_tax + shipping_cost + adjustment.",
    ),
    money_column("revenue_amount", "Revenue: the revenue breakdown columns added up."),
    money_column(
        "fee_tax_amount",
        "Fees and taxes (negative): the fee columns + other_fees_amount + tax_amount.",
    ),
    money_column("shipping_cost_amount", "Shipping cost: the shipping breakdown columns added up."),
    money_column("adjustment_amount", "Adjustment amount (0 for ORDER transactions)."),
    *breakdown_columns(),
    raw_column("statement transaction", "breakdowns, with the added `statement_id`"),
    row_hash_column("statement transaction"),
    *sync_columns(),
    index("tiktok_statement_transactions", "shop_id", "statement_id"),
    index("tiktok_statement_transactions", "shop_id", "order_id"),
    index("tiktok_statement_transactions", "shop_id", "associated_order_id"),
    comment="One row per transaction of a statement (API 202501): an order's settlement or an "
    "adjustment, with its revenue, fee/tax and shipping breakdowns as columns.",
)

payments = sa.Table(
    "tiktok_payments",
    metadata,
    key_column("shop_id", "TikTok shop id of the payment's shop."),
    key_column("id", "TikTok payment id."),
    *time_columns("create_time", "created_at", "When the payment was created"),
    *time_columns("paid_time", "paid_at", "When the payment reached the seller's bank"),
    text_column("status", f"Payment status: {PAYMENT_STATUSES}."),
    currency_column("`amount.currency`"),
    money_column(
        "amount",
        "What is paid to the bank account (`amount.value`): the statements' settlements "
        "minus the reserve.",
    ),
    money_column(
        "settlement_amount",
        "The settlements of the statements paid out (`settlement_amount.value`).",
    ),
    money_column("reserve_amount", "Amount held back in reserve (`reserve_amount.value`)."),
    decimal_column(
        "payment_amount_before_exchange",
        "The amount before currency conversion (`payment_amount_before_exchange.value`), in "
        "`payment_amount_before_exchange_currency`.",
    ),
    text_column(
        "payment_amount_before_exchange_currency",
        "ISO 4217 currency of payment_amount_before_exchange.",
    ),
    decimal_column("exchange_rate", "Exchange rate applied (`exchange_rate`)."),
    text_column("bank_account", "The receiving bank account, masked as TikTok sends it."),
    raw_column("payment", "amounts"),
    row_hash_column("payment"),
    *sync_columns(),
    index("tiktok_payments", "shop_id", "create_time"),
    comment="One row per payout to the seller's bank account (API 202309 payment object).",
)

withdrawals = sa.Table(
    "tiktok_withdrawals",
    metadata,
    key_column("shop_id", "TikTok shop id of the withdrawal's shop."),
    key_column("id", "TikTok withdrawal id."),
    text_column("type", "WITHDRAW, SETTLE, TRANSFER or REVERSE."),
    text_column("status", "PROCESSING, SUCCESS or FAILED."),
    currency_column(),
    money_column("amount", "Signed amount: money leaving the seller's balance is negative."),
    *time_columns("create_time", "created_at", "When the withdrawal was created"),
    raw_column("withdrawal", "fields"),
    row_hash_column("withdrawal"),
    *sync_columns(),
    index("tiktok_withdrawals", "shop_id", "create_time"),
    comment="One row per movement of the seller's TikTok balance (API 202309 withdrawal).",
)

unsettled_transactions = sa.Table(
    "tiktok_unsettled_transactions",
    metadata,
    key_column("shop_id", "TikTok shop id of the order's shop."),
    key_column("id", "TikTok transaction id."),
    text_column("order_id", "The order not settled yet (tiktok_orders.id)."),
    *time_columns("order_create_time", "order_created_at", "When the order was placed"),
    text_column("type", "Transaction type: ORDER."),
    text_column("status", "UNSETTLED."),
    currency_column(),
    money_column("est_revenue_amount", "Estimated revenue."),
    money_column("est_fee_tax_amount", "Estimated fees and taxes (negative)."),
    money_column("est_shipping_cost_amount", "Estimated shipping cost."),
    money_column("est_adjustment_amount", "Estimated adjustments."),
    money_column(
        "est_settlement_amount",
        "Estimated settlement: est revenue + fee_tax + shipping_cost + adjustment.",
    ),
    *breakdown_columns(),
    long_text_column("unsettled_reason", "Why the order is not settled yet."),
    *time_columns(
        "estimated_settle_time", "estimated_settle_at", "When TikTok expects to settle it"
    ),
    raw_column("unsettled transaction", "breakdowns"),
    row_hash_column("unsettled transaction"),
    *sync_columns(),
    index("tiktok_unsettled_transactions", "shop_id", "order_id"),
    index("tiktok_unsettled_transactions", "shop_id", "order_create_time"),
    comment="SNAPSHOT of the orders TikTok has not settled yet (API 202507), with estimated "
    "amounts. Each sync replaces a shop's rows with the complete list it got: a settled "
    "order leaves this table (it appears in tiktok_statement_transactions).",
)
