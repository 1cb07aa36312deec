"""Returns, derived from the orders they belong to.

Return ``k`` of a shop belongs to the one order of block ``k`` (``return_every`` orders per
block) picked by a hash; that order always reaches DELIVERED. The return is created after the
delivery and moves through its own deterministic lifecycle (:meth:`ReturnBook.lifecycle`).
What does not change along it (shipment type, carrier, quick refund, a seller's partial-refund
offer) comes from another hash (:meth:`ReturnBook.traits`), so adding a trait never moves a
lifecycle. Cancellations live in :mod:`.cancellations` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tiktok_pipeline.sandbox import return_money, return_parts
from tiktok_pipeline.sandbox.cancellations import Cancellation, CancellationBook
from tiktok_pipeline.sandbox.catalog import RETURN_REASONS, money
from tiktok_pipeline.sandbox.orders import DELIVERED, LineItem, OrderBook
from tiktok_pipeline.sandbox.orders.conventions import COMBINED_LISTING_PARTS, is_combined_listing
from tiktok_pipeline.sandbox.rng import Draws, mix64
from tiktok_pipeline.sandbox.shops import ShopContext

__all__ = [
    "MAX_RETURN_SPAN",
    "MAX_RETURN_START",
    "Cancellation",
    "CancellationBook",
    "ReturnBook",
    "ReturnLifecycle",
    "ReturnTraits",
]

DAY = 86400
#: Longest time from an order's creation to its return's creation.
MAX_RETURN_START = 11 * DAY
#: Longest time from an order's creation to its return's last transition.
MAX_RETURN_SPAN = 23 * DAY
#: How long the seller has to answer a request, and to confirm a returned package.
RESPOND_WINDOW = 2 * DAY
RECEIVE_WINDOW = 5 * DAY
#: The seller's next action on a pending request, by return type.
NEXT_ACTIONS = {
    "REFUND": "SELLER_RESPOND_REFUND",
    "RETURN_AND_REFUND": "SELLER_RESPOND_RETURN",
    "REPLACEMENT": "SELLER_RESPOND_REPLACEMENT",
}
#: Product images are served at this size (px).
IMAGE_SIZE = 200


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


@dataclass(frozen=True, slots=True)
class ReturnTraits:
    """What a return is that does not change along its lifecycle.

    ``partial_percent``: the share of the returned items' sale price the seller offered as a
    partial refund (0: no offer).
    """

    shipment_type: str
    handover_method: str
    document_type: str
    quick_refund: bool
    partial_percent: int

    @property
    def return_method(self) -> str:
        """``return_method``: who ships the item back ("" for a refund without return)."""
        return {"PLATFORM": "PLATFORM_SHIPPED", "BUYER_ARRANGE": "BUYER_SHIPPED"}.get(
            self.shipment_type, ""
        )


class ReturnBook:
    """The returns of one shop."""

    def __init__(self, ctx: ShopContext, orders: OrderBook) -> None:
        self.ctx = ctx
        self.orders = orders
        self.codec = ctx.codec("4035", 10, 0x0E01)
        self.line_codec = ctx.codec("4036", 10, 0x0E02)
        self.sub_line_codec = ctx.codec("4036", 10, 0x0E04)
        self.base_key = ctx.base(0x0E03)
        self.every = orders.return_every
        self._sellable_index: dict[str, int] | None = None

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

    # -- what does not change along the lifecycle ---------------------------------------------

    def traits(self, k: int, lc: ReturnLifecycle) -> ReturnTraits:
        """The fixed traits of return ``k`` (from their own hash, not the lifecycle's)."""
        d = Draws(mix64(self.base_key ^ 0x7A17_0000_0000) + k)
        physical = lc.return_type != "REFUND"
        platform = physical and not d.chance(0.15)
        shipment = "PLATFORM" if platform else "BUYER_ARRANGE" if physical else ""
        handover = ("PICKUP" if d.chance(0.3) else "DROP_OFF") if platform else ""
        document = ("QR_CODE" if d.chance(0.4) else "SHIPPING_LABEL") if platform else ""
        quick = lc.return_type == "RETURN_AND_REFUND" and platform and d.chance(0.25)
        # A seller may offer a partial refund before answering; in the sandbox the buyer
        # always turns it down, so the refund stays the full one finance settles.
        offer = (
            lc.return_type != "REPLACEMENT"
            and len(lc.roles) > 1
            and lc.roles[1] == "SELLER"
            and d.chance(0.15)
        )
        percent = d.between(20, 50) if offer else 0
        return ReturnTraits(shipment, handover, document, quick, percent)

    def _sub_items(self, k: int, j: int, it: LineItem) -> list[dict]:
        """The SKUs a combined-listing line item is made of (empty for any other SKU)."""
        if self._sellable_index is None:
            self._sellable_index = {s.id: n for n, s in enumerate(self.orders.catalog.sellable)}
        n = self._sellable_index.get(it.sku.id)
        if n is None or not is_combined_listing(n):
            return []
        sellable = self.orders.catalog.sellable
        products = self.orders.catalog.products
        out = []
        for p in range(COMBINED_LISTING_PARTS):
            part = sellable[(n + 1 + p) % len(sellable)]
            out.append(
                {
                    "return_sub_line_item_id": self.sub_line_codec.encode((k * 8 + j) * 4 + p),
                    "sku_id": part.id,
                    "seller_sku": part.seller_sku,
                    "sku_name": f"{part.attr_name}: {part.attr_value}",
                    "product_name": products[part.product_index].title,
                    "product_image": {
                        "url": part.image,
                        "width": IMAGE_SIZE,
                        "height": IMAGE_SIZE,
                    },
                }
            )
        return out

    # -- rendering ----------------------------------------------------------------------------

    def render(self, k: int, t: int, lc: ReturnLifecycle | None = None) -> dict:
        """Return ``k`` as Search Returns serves it at ``t`` (it must exist at ``t``).

        It depends only on the lifecycle step reached at ``t`` (the state caches it so).
        """
        lc = lc or self.lifecycle(k)
        n = lc.index_at(t)
        status = lc.statuses[n - 1]
        update_time = lc.times[n - 1]
        base = self.orders.base(lc.order_index)
        items = base.items[: lc.item_count]
        full = lc.item_count == len(base.items)
        replacement = lc.return_type == "REPLACEMENT"
        traits = self.traits(k, lc)
        catalog = self.orders.catalog
        region = self.ctx.region
        amounts = return_money.line_amounts(base, items, full, replacement)
        lines = []
        for j, it in enumerate(items):
            sku = it.sku
            lines.append(
                {
                    "return_line_item_id": self.line_codec.encode(k * 8 + j),
                    "order_line_item_id": it.id,
                    "sku_id": sku.id,
                    "sku_name": f"{sku.attr_name}: {sku.attr_value}",
                    "product_name": catalog.products[sku.product_index].title,
                    "seller_sku": sku.seller_sku,
                    "product_image": {"url": sku.image, "width": IMAGE_SIZE, "height": IMAGE_SIZE},
                    "refund_amount": return_money.refund_amount(region, [amounts[j]]),
                    "return_sub_line_items": self._sub_items(k, j, it),
                }
            )
        shipped = "BUYER_SHIPPED_ITEM" in lc.statuses[:n]
        provider_id, provider_name, _ = return_parts.carrier(region.code)
        out: dict[str, Any] = {
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
            "shipment_type": traits.shipment_type,
            "handover_method": traits.handover_method,
            "return_method": traits.return_method,
            "return_shipping_document_type": traits.document_type,
            "return_tracking_number": (
                return_parts.tracking_number(region.code, self.base_key ^ k) if shipped else ""
            ),
            "return_provider_name": provider_name if shipped else "",
            "return_provider_id": provider_id if shipped else "",
            "can_buyer_keep_item": lc.return_type == "REFUND",
            "is_quick_refund": traits.quick_refund,
            "seller_next_action_response": self._next_action(lc, status, update_time),
            "refund_amount": return_money.refund_amount(region, amounts),
            "discount_amount": [
                return_money.discount_amount(region, base, items, full, replacement)
            ],
            "shipping_fee_amount": [return_money.return_shipping(region, lc.return_type, shipped)],
            "return_line_items": lines,
            "is_combined_return": False,
            "combined_return_id": "",
            "pre_return_id": "",
            "next_return_id": "",
            "seller_proposed_return_type": "",
            "return_warehouse_address": {
                "full_address": (
                    return_parts.warehouse_address(region, base.warehouse_id)
                    if lc.return_type != "REFUND"
                    else ""
                )
            },
        }
        if traits.partial_percent and n > 1:
            out["seller_proposed_return_type"] = "PARTIAL_REFUND"
            out["partial_refund"] = {
                "currency": region.currency,
                "amount": money(
                    return_money.partial_offer(region, items, traits.partial_percent),
                    region.decimals,
                ),
            }
            out["buyer_rejected_partial_refund"] = True
        return out

    @staticmethod
    def _next_action(lc: ReturnLifecycle, status: str, update_time: int) -> list[dict]:
        """``seller_next_action_response``: what the seller must do next, and by when."""
        if status.endswith("_PENDING"):
            action = NEXT_ACTIONS[lc.return_type]
            return [{"action": action, "deadline": update_time + RESPOND_WINDOW}]
        if status == "BUYER_SHIPPED_ITEM":
            return [
                {
                    "action": "SELLER_RESPOND_RECEIVE_PACKAGE",
                    "deadline": update_time + RECEIVE_WINDOW,
                }
            ]
        return []

    def proposed_type(self, k: int, lc: ReturnLifecycle, n: int) -> str:
        """``seller_proposed_return_type`` of return ``k`` once ``n`` of its transitions
        happened ("" when the seller offered nothing)."""
        return "PARTIAL_REFUND" if n > 1 and self.traits(k, lc).partial_percent else ""

    def records(self, k: int, t: int) -> list[dict]:
        """Get Return Records' ``records`` of return ``k`` at ``t``, oldest first."""
        lc = self.lifecycle(k)
        n = lc.index_at(t)
        images, videos = return_parts.evidence(mix64(self.base_key ^ k ^ 0xE71D), lc.reason[0])
        out = []
        for step, (status, role, time) in enumerate(
            zip(lc.statuses[:n], lc.roles[:n], lc.times[:n], strict=True)
        ):
            first = step == 0
            out.append(
                {
                    "event": "ORDER_RETURN",
                    "role": role,
                    "description": return_parts.record_text(status, lc.return_type),
                    "reason_text": lc.reason[1] if first else "",
                    "note": "",
                    "images": images if first else [],
                    "videos": videos if first else [],
                    "create_time": time,
                }
            )
        percent = self.traits(k, lc).partial_percent
        if percent and n > 1:
            base = self.orders.base(lc.order_index)
            region = self.ctx.region
            offered = return_money.partial_offer(region, base.items[: lc.item_count], percent)
            amount = money(offered, region.decimals)
            gap = lc.times[1] - lc.times[0]
            offer = {
                "event": "ORDER_RETURN",
                "role": "SELLER",
                "description": "Seller offered a partial refund",
                "reason_text": "",
                "note": f"Partial refund offered: {amount} {region.currency}",
                "images": [],
                "videos": [],
                "create_time": lc.times[0] + gap // 3,
            }
            rejected = {
                **offer,
                "role": "BUYER",
                "description": "Buyer rejected the partial refund offer",
                "note": "",
                "create_time": lc.times[0] + 2 * gap // 3,
            }
            out[1:1] = [offer, rejected]
        return out
