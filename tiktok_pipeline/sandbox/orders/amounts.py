"""A batch of orders' amounts in minor units, with arrays (the renderer writes them as text).

Per order (arrays of ``n``) or per unit slot (``(n, MAX_UNITS)``, 0 where no item is), from
the orders' :class:`~tiktok_pipeline.sandbox.orders.arrays.OrderAttributes` and the shop's
:class:`~tiktok_pipeline.sandbox.orders.shop_tables.ShopTables`. The same arithmetic as
:meth:`~tiktok_pipeline.sandbox.orders.book.OrderBook.base` (one order at a time).
"""

from __future__ import annotations

import numpy as np

from tiktok_pipeline.sandbox.catalog import PAYMENT_METHODS
from tiktok_pipeline.sandbox.orders.arrays import OrderAttributes
from tiktok_pipeline.sandbox.orders.book import PLATFORM_PROMOTION, SELLER_PROMOTION
from tiktok_pipeline.sandbox.orders.conventions import (
    DISCOUNTING_METHODS,
    PAYMENT_DISCOUNT_CAP_FEES,
    PAYMENT_DISCOUNT_PERCENT,
    PAYMENT_DISCOUNT_SHARE,
)
from tiktok_pipeline.sandbox.orders.shop_tables import ShopTables

#: Payment methods (by index in ``catalog.PAYMENT_METHODS``) that may get a payment discount.
DISCOUNTING = np.array([pm in DISCOUNTING_METHODS for pm in PAYMENT_METHODS])


def line_amounts(tb: ShopTables, at: OrderAttributes) -> tuple[np.ndarray, ...]:
    """(sale, original, seller discount, platform discount) per unit slot."""
    unit = tb.unit
    original = np.where(at.present, tb.sku_price[at.picks], 0)
    kind = at.promo_kind[:, None]
    seller = np.where(kind == SELLER_PROMOTION, (original * 10 // 100) // unit * unit, 0)
    platform = np.where(kind == PLATFORM_PROMOTION, (original * 5 // 100) // unit * unit, 0)
    return original - seller - platform, original, seller, platform


def shipping_fee(tb: ShopTables, at: OrderAttributes) -> np.ndarray:
    """What each buyer pays for shipping, before tax."""
    discounts = tb.ship_discounts[at.ship_class]
    return tb.shipping_original - discounts[:, 0] - discounts[:, 1]


def shipping_vat(tb: ShopTables, at: OrderAttributes) -> np.ndarray:
    """The VAT included in each unit slot's share of the shipping fee.

    The fee is split evenly over the order's line items, the remainder on the first (as the
    order's settlement splits it).
    """
    fee = shipping_fee(tb, at)
    share = np.where(at.present, (fee // at.units)[:, None], 0)
    share[:, 0] += fee - share.sum(axis=1)
    bp = tb.shipping_vat_bp
    return share * bp // (10000 + bp)


def item_taxes(tb: ShopTables, at: OrderAttributes, sale: np.ndarray) -> np.ndarray:
    """Each unit slot's share of the order's product (sales) tax; the last takes the rounding."""
    n = len(sale)
    tax_bp = tb.place_tax_bp[at.place]
    product_tax = sale.sum(axis=1) * tax_bp // 10000
    item_tax = sale * tax_bp[:, None] // 10000
    rows = np.arange(n)
    last_slot = at.units - 1
    item_tax[rows, last_slot] = 0
    item_tax[rows, last_slot] = product_tax - item_tax.sum(axis=1)
    return np.where((product_tax != 0)[:, None], item_tax, 0)


def payment_discount(
    tb: ShopTables, total: np.ndarray, pay_method: np.ndarray, roll: np.ndarray
) -> np.ndarray:
    """The payment provider's discount (``payment_platform_discount``) of each order.

    A share of the orders paid with a discounting method get a percentage of their total,
    rounded down to the price unit and capped; the others none. ``roll``: a draw in [0, 100).
    """
    unit = tb.unit
    discounted = DISCOUNTING[pay_method] & (roll < PAYMENT_DISCOUNT_SHARE)
    amount = np.minimum(
        total * PAYMENT_DISCOUNT_PERCENT // 100 // unit * unit,
        tb.shipping_original * PAYMENT_DISCOUNT_CAP_FEES,
    )
    return np.where(discounted, amount, 0)
