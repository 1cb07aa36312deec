"""Columns for the parts of TikTok's full payloads analysts need: the payment provider's
discount and fees on orders, shipping VAT on order line items, product status and audit,
a return's discounts, return shipping fees, partial refund, quick refund and return parcel,
and the shipping, retail delivery and buyer service fee shares of cancelled line items.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00

Written to match tiktok_pipeline/warehouse/schema.py at the time. Every new column is NULL
for rows written before it (their `raw` holds the field where TikTok sent it; a later sync of
the object fills the column). The view reads none of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.db import UTCDateTime
from tiktok_pipeline.warehouse.types import Money

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

_NEW_COLUMNS: dict[str, tuple[tuple[str, sa.types.TypeEngine, str], ...]] = {
    "tiktok_orders": (
        (
            "payment_platform_discount",
            Money(),
            "Discount funded by the payment provider (e.g. a card or wallet promotion) (`payment.payment_platform_discount`). Reported beside the order's amounts: total_amount neither includes nor subtracts it. Exact decimal, in `currency`.",
        ),
        (
            "payment_discount_service_fee",
            Money(),
            "Service fee charged for the payment provider's discount (`payment.payment_discount_service_fee`). Exact decimal, in `currency`.",
        ),
        (
            "distance_fee",
            Money(),
            "Delivery fee for the distance to the buyer (`payment.distance_fee`). Exact decimal, in `currency`.",
        ),
    ),
    "tiktok_order_line_items": (
        (
            "shipping_vat_amount",
            Money(),
            "VAT included in this line's share of the order's shipping fee (`line_items[].shipping_vat_amount`); 0 where shipping bears no VAT. Exact decimal, in `currency`.",
        ),
        (
            "shipping_vat_rate",
            Money(),
            "VAT rate applied to the shipping fee, as a fraction (0.2000 = 20 %) (`line_items[].shipping_vat_rate`). Exact decimal.",
        ),
    ),
    "tiktok_products": (
        (
            "product_status",
            sa.String(),
            "Product status as Get Product's `product_status` gives it, which TikTok's reference lists beside `status`; NULL when TikTok does not send it.",
        ),
        (
            "audit_status",
            sa.String(),
            "State of TikTok's listing review (`audit.status`), e.g. AUDITING, APPROVED or FAILED; NULL when TikTok sends no `audit`.",
        ),
        (
            "audit_failed_reasons",
            _JSON,
            "JSON array of why TikTok's review failed, as Get Product sends it (`audit_failed_reasons`: objects with `position`, `reasons`, `suggestions`, `listing_platform`); [] when none, NULL when the payload has no such field (Search Products does not send it).",
        ),
    ),
    "tiktok_returns": (
        (
            "is_quick_refund",
            sa.Boolean(),
            "True when TikTok refunded the buyer at once, before the item came back (`is_quick_refund`).",
        ),
        (
            "seller_proposed_return_type",
            sa.String(),
            "Return type the seller proposed instead of the buyer's, e.g. REFUND (`seller_proposed_return_type`); NULL when none.",
        ),
        (
            "return_tracking_number",
            sa.String(),
            "Tracking number of the return parcel (`return_tracking_number`).",
        ),
        (
            "return_provider_name",
            sa.String(),
            "Carrier of the return parcel (`return_provider_name`).",
        ),
        (
            "return_provider_id",
            sa.String(),
            "TikTok id of that carrier (`return_provider_id`).",
        ),
        (
            "product_platform_discount",
            Money(),
            "Product discount funded by TikTok on the returned items (`discount_amount[].product_platform_discount`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "product_seller_discount",
            Money(),
            "Product discount funded by the seller on the returned items (`discount_amount[].product_seller_discount`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "shipping_fee_platform_discount",
            Money(),
            "Shipping discount funded by TikTok on the returned items (`discount_amount[].shipping_fee_platform_discount`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "shipping_fee_seller_discount",
            Money(),
            "Shipping discount funded by the seller on the returned items (`discount_amount[].shipping_fee_seller_discount`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "seller_paid_return_shipping_fee",
            Money(),
            "Return shipping paid by the seller (`shipping_fee_amount[].seller_paid_return_shipping_fee`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "platform_paid_return_shipping_fee",
            Money(),
            "Return shipping paid by TikTok (`shipping_fee_amount[].platform_paid_return_shipping_fee`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "buyer_paid_return_shipping_fee",
            Money(),
            "Return shipping paid by the buyer (`shipping_fee_amount[].buyer_paid_return_shipping_fee`, summed over the array's elements). Exact decimal, in `currency`.",
        ),
        (
            "partial_refund_amount",
            Money(),
            "Partial refund the seller offered instead of the full one (`partial_refund.amount`); NULL when none. Exact decimal, in `currency`.",
        ),
    ),
    "tiktok_cancellation_line_items": (
        (
            "refund_shipping_fee",
            Money(),
            "This line's share of the refunded shipping (`refund_amount.refund_shipping_fee`). Exact decimal, in `currency`.",
        ),
        (
            "retail_delivery_fee",
            Money(),
            "This line's share of the refunded retail delivery fee (`refund_amount.retail_delivery_fee`). Exact decimal, in `currency`.",
        ),
        (
            "buyer_service_fee",
            Money(),
            "This line's share of the refunded buyer service fee (`refund_amount.buyer_service_fee`). Exact decimal, in `currency`.",
        ),
    ),
}

#: (before, after) of ``tiktok_orders._buyer_data_purged_at``'s comment: the avatar and
#: nickname are purged too.
_PURGED_AT = tuple(
    "UTC time when the buyer's personal data "
    f"({what}) was removed from `raw`, by the retention job "
    "(TIKTOK_BUYER_DATA_RETENTION_DAYS) or `tiktok-pipeline buyers purge`; later syncs of "
    "the order store it without them too. NULL while the order keeps them."
    for what in (
        "name, address, phone, e-mail, message, tax id",
        "name, nickname, avatar, address, phone, e-mail, message, tax id",
    )
)


def _set_purged_at_comment(*, old: bool) -> None:
    """Only Postgres stores comments."""
    if op.get_bind().dialect.name != "postgresql":
        return
    before, after = (1, 0) if old else (0, 1)
    op.alter_column(
        "tiktok_orders",
        "_buyer_data_purged_at",
        existing_type=UTCDateTime(),
        existing_nullable=True,
        comment=_PURGED_AT[after],
        existing_comment=_PURGED_AT[before],
    )


def upgrade() -> None:
    for table, columns in _NEW_COLUMNS.items():
        for name, type_, comment in columns:
            op.add_column(table, sa.Column(name, type_, nullable=True, comment=comment))
    _set_purged_at_comment(old=False)


def downgrade() -> None:
    _set_purged_at_comment(old=True)
    # SQLite 3.35+ drops a column in place; no view or index reads these columns.
    for table, columns in reversed(_NEW_COLUMNS.items()):
        for name, _, _ in reversed(columns):
            op.drop_column(table, name)
