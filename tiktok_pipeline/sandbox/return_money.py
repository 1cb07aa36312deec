"""A return's amounts: what is refunded per line and in all, the refunded discounts, the return
label and a seller's partial-refund offer, all from the order's amounts (minor units).

They agree with the order (Get Order Detail) and with finance: the lines add up to the return's
refund exactly, and the label a seller pays is the ``return_shipping_fee_amount`` its
settlement deducts.
"""

from __future__ import annotations

from collections.abc import Sequence

from tiktok_pipeline.sandbox.cancellations import split
from tiktok_pipeline.sandbox.catalog import Region, money
from tiktok_pipeline.sandbox.orders import LineItem, OrderBase

#: (subtotal, shipping, tax, retail delivery fee) refunded for one line, in minor units.
LineRefund = tuple[int, int, int, int]


def line_amounts(
    base: OrderBase, items: Sequence[LineItem], full: bool, replacement: bool
) -> list[LineRefund]:
    """What each returned line item refunds.

    A partial return refunds the items' sale price and tax; returning every item also refunds
    shipping, its tax and the retail delivery fee, shared equally between the lines (the last
    takes the rounding); a replacement refunds nothing.
    """
    n = len(items)
    if replacement:
        return [(0, 0, 0, 0)] * n
    if not full:
        return [(it.sale, 0, it.tax, 0) for it in items]
    shipping = split(base.shipping_fee, n)
    shipping_tax = split(base.shipping_tax, n)
    rdf = split(base.retail_delivery_fee, n)
    return [(it.sale, shipping[j], it.tax + shipping_tax[j], rdf[j]) for j, it in enumerate(items)]


def refund_amount(region: Region, amounts: Sequence[LineRefund]) -> dict:
    """A ``refund_amount`` object: the sum of some lines' refunds."""
    dec = region.decimals
    subtotal, shipping, tax, rdf = (sum(a[n] for a in amounts) for n in range(4))
    return {
        "currency": region.currency,
        "refund_total": money(subtotal + shipping + tax + rdf, dec),
        "refund_subtotal": money(subtotal, dec),
        "refund_shipping_fee": money(shipping, dec),
        "refund_tax": money(tax, dec),
        "retail_delivery_fee": money(rdf, dec),
        "buyer_service_fee": money(0, dec),
    }


def discount_amount(
    region: Region, base: OrderBase, items: Sequence[LineItem], full: bool, replacement: bool
) -> dict:
    """One ``discount_amount`` entry: the discounts on what is refunded (the items' seller and
    platform discounts; the order's shipping discounts when its shipping is refunded)."""
    dec = region.decimals
    products = not replacement
    shipping = products and full
    return {
        "currency": region.currency,
        "product_platform_discount": money(
            sum(it.platform_discount for it in items) if products else 0, dec
        ),
        "product_seller_discount": money(
            sum(it.seller_discount for it in items) if products else 0, dec
        ),
        "shipping_fee_platform_discount": money(
            base.shipping_platform_discount if shipping else 0, dec
        ),
        "shipping_fee_seller_discount": money(
            base.shipping_seller_discount if shipping else 0, dec
        ),
    }


def return_shipping(region: Region, return_type: str, shipped: bool) -> dict:
    """One ``shipping_fee_amount`` entry: who paid the return label once the buyer shipped.

    The seller pays for a return and refund (the fee its settlement deducts as
    ``return_shipping_fee_amount``); TikTok pays for a replacement's; nothing before shipping.
    """
    dec = region.decimals
    fee = region.shipping_fee if shipped else 0
    return {
        "currency": region.currency,
        "seller_paid_return_shipping_fee": money(
            fee if return_type == "RETURN_AND_REFUND" else 0, dec
        ),
        "platform_paid_return_shipping_fee": money(fee if return_type == "REPLACEMENT" else 0, dec),
        "buyer_paid_return_shipping_fee": money(0, dec),
    }


def partial_offer(region: Region, items: Sequence[LineItem], percent: int) -> int:
    """A seller's partial-refund offer: ``percent`` of the returned items' sale price, rounded
    down to the currency's price unit (at least one unit)."""
    unit = region.rounding
    subtotal = sum(it.sale for it in items)
    return max(unit, subtotal * percent // 100 // unit * unit)
