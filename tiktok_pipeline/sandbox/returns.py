"""Returns and cancellations, derived from the orders they belong to.

Return ``k`` of a shop belongs to the one order of block ``k`` (``return_every`` orders per
block) picked by a hash; that order always reaches DELIVERED. The return is created after the
delivery and moves through its own deterministic lifecycle. Cancellations are the
buyer/seller cancellations of paid orders (the ``PATH_SHIP_CANCEL`` lifecycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_pipeline.sandbox.catalog import (
    BUYER_CANCEL_REASONS,
    RETURN_REASONS,
    SELLER_CANCEL_REASONS,
    money,
)
from tiktok_pipeline.sandbox.orders import (
    CANCELLED,
    DELIVERED,
    PATH_SHIP_CANCEL,
    OrderBase,
    OrderBook,
)
from tiktok_pipeline.sandbox.rng import Draws, mix64
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400
#: Longest time from an order's creation to its return's creation.
MAX_RETURN_START = 11 * DAY
#: Longest time from an order's creation to its return's last transition.
MAX_RETURN_SPAN = 23 * DAY


@dataclass(slots=True)
class ReturnLifecycle:
    """A return's transitions: (time, status, role) triples, plus what it is."""

    k: int
    order_index: int
    return_type: str
    times: tuple[int, ...]
    statuses: tuple[str, ...]
    roles: tuple[str, ...]
    item_count: int
    reason: tuple[str, str]

    @property
    def create_time(self) -> int:
        """When the buyer asked for the return."""
        return self.times[0]

    def index_at(self, t: int) -> int:
        """How many transitions happened at or before ``t`` (0: not created yet)."""
        k = 0
        for time in self.times:
            if time > t:
                break
            k += 1
        return k


class ReturnBook:
    """The returns of one shop."""

    def __init__(self, ctx: ShopContext, orders: OrderBook) -> None:
        self.ctx = ctx
        self.orders = orders
        self.codec = ctx.codec("4035", 10, 0x0E01)
        self.line_codec = ctx.codec("4036", 10, 0x0E02)
        self.base_key = ctx.base(0x0E03)
        self.every = orders.return_every

    def index_of(self, return_id: str) -> int | None:
        """The return number of a return id of this shop, or None."""
        return self.codec.decode(return_id)

    def block_range(self, order_lo: int, order_hi: int) -> range:
        """Return numbers whose orders may lie in the order index range [lo, hi)."""
        return range(order_lo // self.every, (order_hi + self.every - 1) // self.every)

    def lifecycle(self, k: int) -> ReturnLifecycle:
        """The transitions of return ``k``."""
        i = self.orders.return_order_index(k)
        olc = self.orders.lifecycle(i)
        delivered = olc.times[olc.statuses.index(DELIVERED)]
        h = mix64(self.base_key + k)
        d = Draws(h)
        created = delivered + d.between(3600, 3 * DAY)
        roll = d.below(100)
        reason = d.pick(RETURN_REASONS)
        item_roll = d.below(100)
        seq: tuple[tuple[str, str, int], ...]
        if roll < 25:
            rtype = "REFUND"
            if d.chance(0.12):
                seq = (
                    ("RETURN_OR_REFUND_REQUEST_PENDING", "BUYER", 0),
                    ("REFUND_OR_RETURN_REQUEST_REJECT", "SELLER", d.between(3600, 2 * DAY)),
                )
            else:
                seq = (
                    ("RETURN_OR_REFUND_REQUEST_PENDING", "BUYER", 0),
                    ("RETURN_OR_REFUND_REQUEST_SUCCESS", "SELLER", d.between(3600, 2 * DAY)),
                    ("RETURN_OR_REFUND_REQUEST_COMPLETE", "SYSTEM", d.between(3600, DAY)),
                )
        elif roll < 90:
            rtype = "RETURN_AND_REFUND"
            sub = d.below(100)
            if sub < 8:
                seq = (
                    ("RETURN_OR_REFUND_REQUEST_PENDING", "BUYER", 0),
                    ("REFUND_OR_RETURN_REQUEST_REJECT", "SELLER", d.between(3600, 2 * DAY)),
                )
            elif sub < 15:
                seq = (
                    ("RETURN_OR_REFUND_REQUEST_PENDING", "BUYER", 0),
                    ("AWAITING_BUYER_SHIP", "SELLER", d.between(7200, 2 * DAY)),
                    ("RETURN_OR_REFUND_REQUEST_CANCEL", "BUYER", d.between(DAY, 3 * DAY)),
                )
            else:
                seq = (
                    ("RETURN_OR_REFUND_REQUEST_PENDING", "BUYER", 0),
                    ("AWAITING_BUYER_SHIP", "SELLER", d.between(7200, 2 * DAY)),
                    ("BUYER_SHIPPED_ITEM", "BUYER", d.between(DAY, 3 * DAY)),
                    ("RETURN_OR_REFUND_REQUEST_SUCCESS", "SELLER", d.between(DAY, 4 * DAY)),
                    ("RETURN_OR_REFUND_REQUEST_COMPLETE", "SYSTEM", d.between(3600, DAY)),
                )
        else:
            rtype = "REPLACEMENT"
            seq = (
                ("REPLACEMENT_REQUEST_PENDING", "BUYER", 0),
                ("AWAITING_BUYER_SHIP", "SELLER", d.between(7200, 2 * DAY)),
                ("BUYER_SHIPPED_ITEM", "BUYER", d.between(DAY, 3 * DAY)),
                ("REPLACEMENT_REQUEST_COMPLETE", "SELLER", d.between(DAY, 4 * DAY)),
            )
        times = []
        t = created
        for _, _, delay in seq:
            t += delay
            times.append(t)
        n_items = len(self.orders.base(i).items) if item_roll < 70 else 1
        return ReturnLifecycle(
            k=k,
            order_index=i,
            return_type=rtype,
            times=tuple(times),
            statuses=tuple(s for s, _, _ in seq),
            roles=tuple(r for _, r, _ in seq),
            item_count=n_items,
            reason=reason,
        )

    def _refund(self, base: OrderBase, items, full: bool, zero_out: bool) -> dict:
        dec = self.ctx.region.decimals
        currency = self.ctx.region.currency
        if zero_out:
            z = money(0, dec)
            return {
                "currency": currency,
                "refund_total": z,
                "refund_subtotal": z,
                "refund_shipping_fee": z,
                "refund_tax": z,
                "retail_delivery_fee": z,
                "buyer_service_fee": z,
            }
        subtotal = sum(it.sale for it in items)
        tax = sum(it.tax for it in items)
        shipping = 0
        rdf = 0
        if full:
            shipping = (
                base.shipping_original
                - base.shipping_seller_discount
                - base.shipping_platform_discount
            )
            tax += base.shipping_tax
            rdf = base.retail_delivery_fee
        return {
            "currency": currency,
            "refund_total": money(subtotal + shipping + tax + rdf, dec),
            "refund_subtotal": money(subtotal, dec),
            "refund_shipping_fee": money(shipping, dec),
            "refund_tax": money(tax, dec),
            "retail_delivery_fee": money(rdf, dec),
            "buyer_service_fee": money(0, dec),
        }

    def render(self, k: int, t: int, lc: ReturnLifecycle | None = None) -> dict:
        """Return ``k`` as Search Returns serves it at ``t`` (it must exist at ``t``)."""
        lc = lc or self.lifecycle(k)
        n = lc.index_at(t)
        status = lc.statuses[n - 1]
        update_time = lc.times[n - 1]
        base = self.orders.base(lc.order_index)
        items = base.items[: lc.item_count]
        full = lc.item_count == len(base.items)
        replacement = lc.return_type == "REPLACEMENT"
        catalog = self.orders.catalog
        d = Draws(mix64(self.base_key ^ (k * 0x9E37)))
        lines = []
        for j, it in enumerate(items):
            sku = it.sku
            product = catalog.products[sku.product_index]
            line_refund = self._refund(base, [it], False, replacement)
            lines.append(
                {
                    "return_line_item_id": self.line_codec.encode(k * 8 + j),
                    "order_line_item_id": it.id,
                    "sku_id": sku.id,
                    "sku_name": f"{sku.attr_name}: {sku.attr_value}",
                    "product_name": product.title,
                    "seller_sku": sku.seller_sku,
                    "product_image": {"url": sku.image, "width": 800, "height": 800},
                    "refund_amount": line_refund,
                }
            )
        shipped = "BUYER_SHIPPED_ITEM" in lc.statuses[:n]
        out = {
            "return_id": self.codec.encode(k),
            "order_id": base.id,
            "return_type": lc.return_type,
            "return_status": status,
            "role": "BUYER",
            "create_time": lc.create_time,
            "update_time": update_time,
            "return_reason": lc.reason[0],
            "return_reason_text": lc.reason[1],
            "arbitration_status": "",
            "shipment_type": "PLATFORM",
            "handover_method": "DROP_OFF",
            "return_method": "PLATFORM_SHIPPED" if lc.return_type != "REFUND" else "",
            "return_tracking_number": f"RT{base.package_id[-10:]}" if shipped else "",
            "return_provider_name": "TT Virtual express" if shipped else "",
            "return_provider_id": "6617675021119438849" if shipped else "",
            "can_buyer_keep_item": lc.return_type == "REFUND",
            "seller_next_action_response": (
                [{"action": "SELLER_RESPOND_REQUEST", "deadline": update_time + 2 * DAY}]
                if status.endswith("_PENDING")
                else []
            ),
            "refund_amount": self._refund(base, items, full, replacement),
            "discount_amount": [],
            "shipping_fee_amount": [],
            "return_line_items": lines,
            "is_combined_return": False,
            "combined_return_id": "",
            "pre_return_id": "",
            "next_return_id": "",
            "return_warehouse_address": {
                "full_address": f"{d.between(1, 400)} Returns Way, {base.place[0]}"
            },
        }
        return out

    def records(self, k: int, t: int) -> list[dict]:
        """Get Return Records' ``records`` of return ``k`` at ``t``."""
        lc = self.lifecycle(k)
        n = lc.index_at(t)
        out = []
        for status, role, time in zip(lc.statuses[:n], lc.roles[:n], lc.times[:n], strict=True):
            out.append(
                {
                    "event": "ORDER_RETURN",
                    "role": role,
                    "description": status.replace("_", " ").capitalize(),
                    "reason_text": lc.reason[1] if role == "BUYER" else "",
                    "note": "",
                    "images": [],
                    "videos": [],
                    "create_time": time,
                }
            )
        return out


@dataclass(slots=True)
class Cancellation:
    """A cancellation of a paid order."""

    order_index: int
    cancel_type: str
    role: str
    times: tuple[int, ...]
    statuses: tuple[str, ...]


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
        base = self.orders.base(c.order_index)
        dec = self.ctx.region.decimals
        currency = self.ctx.region.currency
        d = Draws(base.draws_seed ^ 0xCA)
        reason = d.pick(SELLER_CANCEL_REASONS if c.role == "SELLER" else BUYER_CANCEL_REASONS)
        subtotal = sum(it.sale for it in base.items)
        tax = base.product_tax + base.shipping_tax
        shipping = (
            base.shipping_original - base.shipping_seller_discount - base.shipping_platform_discount
        )
        total = subtotal + shipping + tax + base.retail_delivery_fee
        catalog = self.orders.catalog
        lines: list[dict[str, Any]] = []
        for it in base.items:
            product = catalog.products[it.sku.product_index]
            lines.append(
                {
                    "cancel_line_item_id": f"{self.codec.encode(c.order_index)}{len(lines)}",
                    "order_line_item_id": it.id,
                    "sku_id": it.sku.id,
                    "sku_name": f"{it.sku.attr_name}: {it.sku.attr_value}",
                    "product_name": product.title,
                    "seller_sku": it.sku.seller_sku,
                    "refund_amount": {
                        "currency": currency,
                        "refund_total": money(it.sale + it.tax, dec),
                        "refund_subtotal": money(it.sale, dec),
                        "refund_tax": money(it.tax, dec),
                    },
                }
            )
        return {
            "cancel_id": self.codec.encode(c.order_index),
            "order_id": base.id,
            "cancel_type": c.cancel_type,
            "cancel_status": c.statuses[n - 1],
            "role": c.role,
            "create_time": c.times[0],
            "update_time": c.times[n - 1],
            "cancel_reason": reason.lower().replace(" ", "_"),
            "cancel_reason_text": reason,
            "refund_amount": {
                "currency": currency,
                "refund_total": money(total, dec),
                "refund_subtotal": money(subtotal, dec),
                "refund_shipping_fee": money(shipping, dec),
                "refund_tax": money(tax, dec),
                "retail_delivery_fee": money(base.retail_delivery_fee, dec),
                "buyer_service_fee": money(0, dec),
            },
            "cancel_line_items": lines,
        }
