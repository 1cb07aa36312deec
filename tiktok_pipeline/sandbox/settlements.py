"""Settlement parts of a batch of orders at once, with numpy.

The same amounts as :meth:`OrderBook.base` derives one order at a time (list prices, seller
and platform discounts, sales tax per line, shipping discounts), turned into the
:mod:`~tiktok_pipeline.sandbox.fees` parts per SKU line: revenue, the region's fees and the
tax on them, and the order's shipping split evenly over its lines (remainders on the first).
Integer arithmetic only: every fee is rounded half up to the currency's minor unit per
line; tax on fees is charged on the line's platform fees (not on the affiliate commission);
a refunded line keeps its list price and discount with refunds cancelling them, and pays no
fee. Beside the contributory parts, the lines carry the details TikTok shows in no sum
(:data:`~tiktok_pipeline.sandbox.fees.INFO_KEYS`): the buyer's sales tax (products and, split
like the shipping, the shipping's), the retail delivery fee, the platform's discounts, the
seller's shipping discount and the affiliate commission before the creator's income tax.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox import fees
from tiktok_pipeline.sandbox.catalog import US_RETAIL_DELIVERY_FEE, US_TAX_BP
from tiktok_pipeline.sandbox.fees import FeeSchedule
from tiktok_pipeline.sandbox.orders import OrderBook
from tiktok_pipeline.sandbox.orders import arrays as order_arrays
from tiktok_pipeline.sandbox.orders.book import (
    PLATFORM_PROMOTION,
    SELLER_PROMOTION,
    shipping_discounts,
)

#: (granted time, refunded line count, pays return shipping) of an order's refund, or None.
RefundOf = Callable[[int], tuple[int, int, bool] | None]


@dataclass
class BatchParts:
    """Parts of a batch of orders: ``lines[n, u]`` per line slot (zeros past the order's
    units), ``orders[n]`` their sums; ``units[n]`` line counts."""

    lines: np.ndarray
    orders: np.ndarray
    units: np.ndarray


def _share(amount: np.ndarray, bp: np.ndarray | int) -> np.ndarray:
    """``amount * bp / 10000`` rounded half up to whole minor units (amounts >= 0)."""
    return (amount * bp + 5000) // 10000


class SettlementCalculator:
    """Computes :class:`BatchParts` for one shop's orders."""

    def __init__(
        self, book: OrderBook, schedule: FeeSchedule, affiliate_base: int, refund_of: RefundOf
    ) -> None:
        self.book = book
        self.schedule = schedule
        self.affiliate_base = affiliate_base
        self.refund_of = refund_of
        reg = book.region
        self.sku_price = np.array([s.price for s in book.catalog.sellable], np.int64)
        self.place_tax_bp = np.array(
            [US_TAX_BP.get(p[2], 600) if book.sales_tax else 0 for p in reg.places], np.int64
        )
        self.place_rdf = np.array(
            [US_RETAIL_DELIVERY_FEE.get(p[2], 0) if book.sales_tax else 0 for p in reg.places],
            np.int64,
        )
        fee = reg.shipping_fee
        # (seller, platform) shipping discount by shipping class.
        self.ship_discounts = np.array(
            [shipping_discounts(fee, c, reg.rounding) for c in range(4)], np.int64
        )

    def affiliate_bp(self, idx: np.ndarray) -> np.ndarray:
        """The affiliate commission rate of each order (0 for four in five)."""
        h = order_arrays.mix64_array(order_arrays.offset(self.affiliate_base, idx))
        rate = 500 + ((h >> np.uint64(8)) % np.uint64(16)).astype(np.int64) * 100
        return np.where(h % np.uint64(100) < 20, rate, 0)

    def parts(self, idx: np.ndarray, refund_cutoff: np.ndarray) -> BatchParts:
        """The parts of orders ``idx``, deducting refunds granted at or before
        ``refund_cutoff`` (per order)."""
        book = self.book
        n = len(idx)
        slots = order_arrays.MAX_UNITS
        unit = book.region.rounding
        at = order_arrays.attributes(book, idx)
        present = at.present
        original = np.where(present, self.sku_price[at.picks], 0)
        ten = (original * 10 // 100) // unit * unit
        five = (original * 5 // 100) // unit * unit
        seller = np.where((at.promo_kind == SELLER_PROMOTION)[:, None], ten, 0)
        platform = np.where((at.promo_kind == PLATFORM_PROMOTION)[:, None], five, 0)
        sale = original - seller - platform
        # Sales tax per line: rounded down on every line but the last, which takes the rest.
        bp = self.place_tax_bp[at.place][:, None]
        tax = sale * bp // 10000
        product_tax = sale.sum(axis=1) * bp[:, 0] // 10000
        last = at.units - 1
        rows = np.arange(n)
        tax[rows, last] = 0
        tax[rows, last] = product_tax - tax.sum(axis=1)
        tax = np.where(present, tax, 0)

        refunded = np.zeros((n, slots), bool)
        return_fee = np.zeros(n, np.int64)
        picks = np.flatnonzero(order_arrays.hashes(book, idx).return_pick)
        for r in picks.tolist():
            refund = self.refund_of(int(idx[r]))
            if refund is not None and refund[0] <= refund_cutoff[r]:
                refunded[r, : refund[1]] = True
                return_fee[r] = book.region.shipping_fee if refund[2] else 0
        sold = present & ~refunded

        s = self.schedule
        col = fees.COLUMN
        lines = np.zeros((n, slots, fees.N_PARTS), np.int64)
        base = np.where(sold, original - seller, 0)
        lines[:, :, col["subtotal_before_discount_amount"]] = original
        lines[:, :, col["seller_discount_amount"]] = -seller
        lines[:, :, col["refund_subtotal_before_discount_amount"]] = np.where(
            refunded, -original, 0
        )
        lines[:, :, col["seller_discount_refund_amount"]] = np.where(refunded, seller, 0)
        platform_fees = {
            "platform_commission_amount": _share(base, s.commission_bp),
            "referral_fee_amount": _share(base, s.referral_bp),
            "transaction_fee_amount": _share(np.where(sold, sale + tax, 0), s.transaction_bp),
            "sfp_service_fee_amount": _share(base, s.sfp_bp),
            "fee_per_item_sold_amount": np.where(sold, s.per_item, 0),
        }
        for key, fee in platform_fees.items():
            lines[:, :, col[key]] = -fee
        affiliate = _share(base, self.affiliate_bp(idx)[:, None])
        # Where creators' income tax is withheld, the seller pays the creator the rest (the
        # commission before it is a detail, "0" where there is no such tax).
        lines[:, :, col["affiliate_commission_amount"]] = -(
            affiliate - _share(affiliate, s.creator_pit_bp)
        )
        if s.creator_pit_bp:
            lines[:, :, col["affiliate_commission_amount_before_pit"]] = -affiliate
        if s.tax_key:
            charged = np.sum(list(platform_fees.values()), axis=0)
            lines[:, :, col[s.tax_key]] = -_share(charged, s.tax_bp)
        lines[:, :, col["pit_amount"]] = -_share(base, s.seller_pit_bp)
        lines[:, :, col["local_vat_amount"]] = -_share(base, s.seller_vat_bp)
        lines[:, :, col["platform_discount_amount"]] = platform
        lines[:, :, col["platform_discount_refund_amount"]] = np.where(refunded, -platform, 0)
        lines[:, :, col["sales_tax_refund_amount"]] = np.where(refunded, -tax, 0)

        ship_seller, ship_platform = self.ship_discounts[at.ship_class].T
        ship_fee = book.region.shipping_fee
        # customer_paid + platform_discount - actual = -shipping_fee_seller_discount.
        shipping = np.zeros((n, len(fees.SHIPPING_KEYS)), np.int64)
        ship = fees.SHIPPING_KEYS.index
        shipping[:, ship("actual_shipping_fee_amount")] = -ship_fee
        shipping[:, ship("customer_paid_shipping_fee_amount")] = (
            ship_fee - ship_seller - ship_platform
        )
        shipping[:, ship("platform_shipping_fee_discount_amount")] = ship_platform
        shipping[:, ship("return_shipping_fee_amount")] = -return_fee
        # Order-level details split over the lines like the shipping: the sales tax on the
        # shipping the buyer paid, the retail delivery fee, the seller's shipping discount.
        paid_shipping = shipping[:, ship("customer_paid_shipping_fee_amount")]
        details = np.stack(
            [paid_shipping * bp[:, 0] // 10000, self.place_rdf[at.place], -ship_seller], axis=1
        )
        units = at.units[:, None]
        order_level = np.concatenate([shipping, details], axis=1)
        each = order_level // units
        first = order_level - each * (units - 1)
        split = np.where(present[:, :, None], each[:, None, :], 0)
        split[:, 0, :] = first
        n_ship = len(fees.SHIPPING_KEYS)
        lines[:, :, fees.SHIPPING] = split[:, :, :n_ship]
        lines[:, :, col["sales_tax_payment_amount"]] = tax + split[:, :, n_ship]
        lines[:, :, col["retail_delivery_fee_payment_amount"]] = split[:, :, n_ship + 1]
        lines[:, :, col["seller_shipping_fee_discount_amount"]] = split[:, :, n_ship + 2]
        return BatchParts(lines, lines.sum(axis=1), at.units.astype(np.int64))
