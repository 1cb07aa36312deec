"""Cancellations of paid orders, derived from the orders they belong to.

They are the buyer/seller cancellations of the ``PATH_SHIP_CANCEL`` lifecycle: a seller
cancellation completes at once; a buyer's request is pending until the order is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_pipeline.sandbox.catalog import BUYER_CANCEL_REASONS, SELLER_CANCEL_REASONS, money
from tiktok_pipeline.sandbox.orders import CANCELLED, PATH_SHIP_CANCEL, OrderBase, OrderBook
from tiktok_pipeline.sandbox.rng import Draws
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400
#: How long the seller has to answer a buyer's cancellation request.
RESPOND_WINDOW = 2 * DAY
#: Product images are served at this size (px).
IMAGE_SIZE = 200


@dataclass(slots=True)
class Cancellation:
    """A cancellation of a paid order."""

    order_index: int
    cancel_type: str
    role: str
    times: tuple[int, ...]
    statuses: tuple[str, ...]


def split(amount: int, parts: int) -> list[int]:
    """``amount`` (minor units) in ``parts`` shares that add up exactly; the last takes the
    remainder."""
    share = amount // parts
    return [share] * (parts - 1) + [amount - share * (parts - 1)]


def reason_code(prefix: str, text: str) -> str:
    """A TikTok-style reason key (``ecom_order_..._reason_out_of_stock``) for a reason text."""
    slug = "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
    return f"{prefix}{slug}"


def order_refund_lines(base: OrderBase, currency: str, dec: int) -> list[dict[str, str]]:
    """Each line item's refund when the whole order is refunded: its sale price and tax plus
    an equal share of shipping, shipping tax and retail delivery fee (the last line takes the
    rounding), so the lines add up to the order's total exactly."""
    n = len(base.items)
    shipping = split(base.shipping_fee, n)
    shipping_tax = split(base.shipping_tax, n)
    rdf = split(base.retail_delivery_fee, n)
    out = []
    for j, it in enumerate(base.items):
        tax = it.tax + shipping_tax[j]
        out.append(
            {
                "currency": currency,
                "refund_total": money(it.sale + shipping[j] + tax + rdf[j], dec),
                "refund_subtotal": money(it.sale, dec),
                "refund_shipping_fee": money(shipping[j], dec),
                "refund_tax": money(tax, dec),
                "retail_delivery_fee": money(rdf[j], dec),
                "buyer_service_fee": money(0, dec),
            }
        )
    return out


class CancellationBook:
    """The cancellations of one shop (buyer requests and seller cancellations)."""

    def __init__(self, ctx: ShopContext, orders: OrderBook) -> None:
        self.ctx = ctx
        self.orders = orders
        self.codec = ctx.codec("4037", 10, 0x0E11)

    def of_order(self, i: int) -> Cancellation | None:
        """The cancellation of order ``i``, if it has one."""
        lc = self.orders.lifecycle(i)
        if lc.path != PATH_SHIP_CANCEL:
            return None
        cancel_time = lc.times[lc.statuses.index(CANCELLED)]
        if lc.cancel_by == "SELLER":
            return Cancellation(
                i, "CANCEL", "SELLER", (cancel_time,), ("CANCELLATION_REQUEST_COMPLETE",)
            )
        return Cancellation(
            i,
            "BUYER_CANCEL",
            "BUYER",
            (lc.request_cancel_time, cancel_time),
            ("CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_COMPLETE"),
        )

    def render(self, c: Cancellation, t: int) -> dict:
        """The cancellation as Search Cancellations serves it at ``t``."""
        n = sum(1 for time in c.times if time <= t)
        status = c.statuses[n - 1]
        base = self.orders.base(c.order_index)
        dec = self.ctx.region.decimals
        currency = self.ctx.region.currency
        d = Draws(base.draws_seed ^ 0xCA)
        reason = d.pick(SELLER_CANCEL_REASONS if c.role == "SELLER" else BUYER_CANCEL_REASONS)
        prefix = (
            "seller_cancel_reason_" if c.role == "SELLER" else "ecom_order_to_ship_canceled_reason_"
        )
        catalog = self.orders.catalog
        cancel_id = self.codec.encode(c.order_index)
        line_refunds = order_refund_lines(base, currency, dec)
        lines: list[dict[str, Any]] = []
        for j, it in enumerate(base.items):
            product = catalog.products[it.sku.product_index]
            lines.append(
                {
                    "cancel_line_item_id": f"{cancel_id}{j}",
                    "order_line_item_id": it.id,
                    "sku_id": it.sku.id,
                    "sku_name": f"{it.sku.attr_name}: {it.sku.attr_value}",
                    "product_name": product.title,
                    "seller_sku": it.sku.seller_sku,
                    "product_image": {
                        "url": it.sku.image,
                        "width": IMAGE_SIZE,
                        "height": IMAGE_SIZE,
                    },
                    "refund_amount": line_refunds[j],
                }
            )
        pending = status == "CANCELLATION_REQUEST_PENDING"
        return {
            "cancel_id": cancel_id,
            "order_id": base.id,
            "cancel_type": c.cancel_type,
            "cancel_status": status,
            "role": c.role,
            "create_time": c.times[0],
            "update_time": c.times[n - 1],
            "cancel_reason": reason_code(prefix, reason),
            "cancel_reason_text": reason,
            "seller_next_action_response": (
                [{"action": "SELLER_RESPOND_CANCEL", "deadline": c.times[0] + RESPOND_WINDOW}]
                if pending
                else []
            ),
            "refund_amount": {
                "currency": currency,
                "refund_total": money(base.total, dec),
                "refund_subtotal": money(base.sub_total, dec),
                "refund_shipping_fee": money(base.shipping_fee, dec),
                "refund_tax": money(base.tax, dec),
                "retail_delivery_fee": money(base.retail_delivery_fee, dec),
                "buyer_service_fee": money(0, dec),
            },
            "cancel_line_items": lines,
        }
