"""A shop's orders, derived from (seed, shop, index) and the clock; nothing is stored.

Order ``i`` is created at ``start + (i + u_i) * step`` (``u_i`` in [0, 1)), a monotonic
function of ``i``, so a create-time window maps to an index range by arithmetic. Orders past
``orders_per_shop`` keep coming at the same rate and are visible once created. Everything
else about an order comes from a handful of 64-bit hashes of its index (:class:`OrderHashes`):
its lifecycle (:func:`~tiktok_pipeline.sandbox.orders.lifecycle.lifecycle_of`) and its
time-independent part (:meth:`OrderBook.base`: buyer, address, line items, amounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from tiktok_pipeline.sandbox.catalog import US_RETAIL_DELIVERY_FEE, US_TAX_BP
from tiktok_pipeline.sandbox.orders.lifecycle import DAY, Lifecycle, lifecycle_of
from tiktok_pipeline.sandbox.products import ProductCatalog, Sku
from tiktok_pipeline.sandbox.rng import mix64
from tiktok_pipeline.sandbox.shops import ShopContext

TWO64 = 18446744073709551616.0


#: Promotion kinds of an order's line items (from the ``promo`` draw).
NO_PROMOTION, SELLER_PROMOTION, PLATFORM_PROMOTION = range(3)


def promotion_kind(promo: int) -> int:
    """The promotion kind of a ``promo`` draw in [0, 100): a quarter seller, 15 % platform."""
    return SELLER_PROMOTION if promo < 25 else PLATFORM_PROMOTION if promo >= 85 else NO_PROMOTION


def line_discounts(original: int, kind: int, unit: int) -> tuple[int, int]:
    """(seller, platform) discount of a line item with list price ``original``."""
    seller = ((original * 10 // 100) // unit) * unit if kind == SELLER_PROMOTION else 0
    platform = ((original * 5 // 100) // unit) * unit if kind == PLATFORM_PROMOTION else 0
    return seller, platform


def shipping_class(roll: int) -> int:
    """The shipping discount class of a ``ship_roll`` draw in [0, 100)."""
    return 0 if roll < 35 else 1 if roll < 50 else 2 if roll < 60 else 3


def shipping_discounts(fee: int, ship_class: int, unit: int) -> tuple[int, int]:
    """(seller, platform) discount of shipping ``fee``: the platform pays all of it (class 0),
    the seller all of it (1), half each (2) or nobody (3)."""
    if ship_class == 0:
        return 0, fee
    if ship_class == 1:
        return fee, 0
    if ship_class == 2:
        half = ((fee // 2) // unit) * unit
        return half, fee - half
    return 0, 0


class OrderHashes(NamedTuple):
    """The hashes every generated value of one order derives from.

    ``arrays.hashes`` computes the same for many orders at once.
    """

    create_time: int
    lifecycle: int
    lifecycle2: int
    return_pick: bool
    attr: int
    layout: int
    picks: int
    draws: int


@dataclass(slots=True)
class LineItem:
    """A line item (one unit) with amounts in minor units."""

    id: str
    sku: Sku
    original: int
    seller_discount: int
    platform_discount: int
    sale: int
    tax: int


@dataclass(slots=True)
class OrderBase:
    """Everything about an order that does not change with time (amounts in minor units)."""

    index: int
    id: str
    create_time: int
    user_id: str
    buyer_index: int
    shipping_type: str
    warehouse_id: str
    items: list[LineItem]
    package_id: str
    shipping_original: int
    shipping_seller_discount: int
    shipping_platform_discount: int
    product_tax: int
    shipping_tax: int
    retail_delivery_fee: int
    tax_rate_bp: int
    draws_seed: int
    state_code: str
    place: tuple[str, str, str, str]

    @property
    def original_total(self) -> int:
        """The line items' list prices."""
        return sum(it.original for it in self.items)

    @property
    def seller_discount(self) -> int:
        """The seller's discounts on the line items."""
        return sum(it.seller_discount for it in self.items)

    @property
    def platform_discount(self) -> int:
        """The platform's discounts on the line items."""
        return sum(it.platform_discount for it in self.items)

    @property
    def sub_total(self) -> int:
        """What the line items sell for."""
        return sum(it.sale for it in self.items)

    @property
    def shipping_fee(self) -> int:
        """What the buyer pays for shipping, before tax."""
        return (
            self.shipping_original - self.shipping_seller_discount - self.shipping_platform_discount
        )

    @property
    def tax(self) -> int:
        """Product and shipping tax."""
        return self.product_tax + self.shipping_tax

    @property
    def total(self) -> int:
        """What the buyer pays."""
        return self.sub_total + self.shipping_fee + self.tax + self.retail_delivery_fee


class OrderBook:
    """The orders of one shop."""

    def __init__(
        self,
        ctx: ShopContext,
        catalog: ProductCatalog,
        count: int,
        days: int,
        return_every: int,
    ) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.count = count
        self.start = ctx.start
        self.step = days * DAY / count
        self.return_every = return_every
        self.n_buyers = max(10, count // 3)
        self.base_time = ctx.base(0x0D01)
        self.base_lifecycle = ctx.base(0x0D02)
        self.base_attr = ctx.base(0x0D03)
        self.base_return = ctx.base(0x0D04)
        self.codec = ctx.codec("576", 10, 0x0D10)
        self.line_codec = ctx.codec("577", 10, 0x0D11)
        self.package_codec = ctx.codec("1153", 10, 0x0D12)
        self.buyer_codec = ctx.codec("7021", 10, 0x0D13)
        self.region = ctx.region
        self.warehouses = ctx.warehouses
        self.sales_tax = ctx.region.sales_tax

    # -- time <-> index -----------------------------------------------------------------------

    def create_time(self, i: int) -> int:
        """When order ``i`` is created (monotonic in ``i``)."""
        u = mix64(self.base_time + i) / TWO64
        return self.start + int((i + u) * self.step)

    def first_at_or_after(self, t: int) -> int:
        """The smallest index whose create_time is >= ``t``."""
        if t <= self.start:
            return 0
        i = max(0, int((t - self.start) / self.step) - 2)
        while i > 0 and self.create_time(i - 1) >= t:
            i -= 1
        while self.create_time(i) < t:
            i += 1
        return i

    def created_by(self, t: int) -> int:
        """How many orders exist at time ``t`` (indices 0 .. n-1)."""
        return self.first_at_or_after(t + 1)

    def index_of(self, order_id: str) -> int | None:
        """The index of an order id of this shop, or None."""
        return self.codec.decode(order_id)

    # -- hashes and lifecycle -----------------------------------------------------------------

    def hashes(self, i: int) -> OrderHashes:
        """The hashes of order ``i``."""
        h_life = mix64(self.base_lifecycle + i)
        h_attr = mix64(self.base_attr + i)
        return OrderHashes(
            create_time=self.create_time(i),
            lifecycle=h_life,
            lifecycle2=mix64(h_life),
            return_pick=self.is_return_pick(i),
            attr=h_attr,
            layout=mix64(h_attr + 1),
            picks=mix64(h_attr + 2),
            draws=mix64(h_attr + 3),
        )

    def is_return_pick(self, i: int) -> bool:
        """True when order ``i`` is the one order of its block that gets a return."""
        k, r = divmod(i, self.return_every)
        return mix64(self.base_return + k) % self.return_every == r

    def return_order_index(self, k: int) -> int:
        """The order index of return number ``k``."""
        return k * self.return_every + mix64(self.base_return + k) % self.return_every

    def lifecycle(self, i: int) -> Lifecycle:
        """The transitions of order ``i``."""
        h = mix64(self.base_lifecycle + i)
        return lifecycle_of(self.create_time(i), h, mix64(h), self.is_return_pick(i))

    def state_at(self, i: int, t: int) -> tuple[int, int, int]:
        """(status code, update_time, transition count) of order ``i`` at ``t``.

        The order must exist at ``t``.
        """
        lc = self.lifecycle(i)
        k = lc.index_at(t)
        return lc.statuses[k - 1], lc.times[k - 1], k

    # -- static attributes --------------------------------------------------------------------

    def attr_hash(self, i: int) -> int:
        """The 64-bit hash the static attributes of order ``i`` derive from."""
        return mix64(self.base_attr + i)

    def buyer_index(self, h_attr: int) -> int:
        """The buyer number encoded in an attribute hash."""
        return (h_attr & 0xFFFFFFFF) % self.n_buyers

    @staticmethod
    def shipping_type(h_attr: int) -> str:
        """TIKTOK or SELLER shipping, from an attribute hash."""
        return "TIKTOK" if ((h_attr >> 32) & 0xFF) < 205 else "SELLER"

    def warehouse_of(self, h_attr: int) -> str:
        """The order's warehouse, from an attribute hash."""
        return self.warehouses[((h_attr >> 40) & 0xFF) % len(self.warehouses)]

    def base(self, i: int, hs: OrderHashes | None = None) -> OrderBase:
        """The time-independent part of order ``i`` (``hs``: its hashes, when known)."""
        if hs is None:
            hs = self.hashes(i)
        reg = self.region
        h_attr = hs.attr
        # Mixed-radix digits of two hashes: one hash per handful of random choices.
        x = hs.layout
        x, roll = divmod(x, 100)
        x, extra = divmod(x, 2)
        x, same_roll = divmod(x, 10)
        x, place_index = divmod(x, len(reg.places))
        x, promo = divmod(x, 100)
        x, ship_roll = divmod(x, 100)
        units = 1 if roll < 60 else 2 if roll < 85 else 3 if roll < 95 else 4 + extra
        sellable = self.catalog.sellable
        n_sell = len(sellable)
        same = same_roll < 7
        first_pick = int(n_sell * ((x & 0xFFFFFFF) / 268435456.0) ** 2)
        y = hs.picks
        place = reg.places[place_index]
        state_code = place[2]
        tax_bp = US_TAX_BP.get(state_code, 600) if self.sales_tax else 0
        unit = reg.rounding
        kind = promotion_kind(promo)
        items = []
        for u in range(units):
            if same or u == 0:
                pick = first_pick
            else:
                y, pick = divmod(y, n_sell)
            sku = sellable[pick]
            original = sku.price
            seller_discount, platform_discount = line_discounts(original, kind, unit)
            sale = original - seller_discount - platform_discount
            items.append(
                LineItem(
                    id=self.line_codec.encode(i * 8 + u),
                    sku=sku,
                    original=original,
                    seller_discount=seller_discount,
                    platform_discount=platform_discount,
                    sale=sale,
                    tax=0,
                )
            )
        sub_total = sum(it.sale for it in items)
        shipping_original = reg.shipping_fee
        ship_seller, ship_platform = shipping_discounts(
            shipping_original, shipping_class(ship_roll), unit
        )
        shipping_fee = shipping_original - ship_seller - ship_platform
        product_tax = sub_total * tax_bp // 10000
        shipping_tax = shipping_fee * tax_bp // 10000
        if product_tax:
            remaining = product_tax
            for it in items[:-1]:
                it.tax = it.sale * tax_bp // 10000
                remaining -= it.tax
            items[-1].tax = remaining
        rdf = US_RETAIL_DELIVERY_FEE.get(state_code, 0) if self.sales_tax else 0
        buyer = self.buyer_index(h_attr)
        return OrderBase(
            index=i,
            id=self.codec.encode(i),
            create_time=hs.create_time,
            user_id=self.buyer_codec.encode(buyer),
            buyer_index=buyer,
            shipping_type=self.shipping_type(h_attr),
            warehouse_id=self.warehouse_of(h_attr),
            items=items,
            package_id=self.package_codec.encode(i),
            shipping_original=shipping_original,
            shipping_seller_discount=ship_seller,
            shipping_platform_discount=ship_platform,
            product_tax=product_tax,
            shipping_tax=shipping_tax,
            retail_delivery_fee=rdf,
            tax_rate_bp=tax_bp,
            draws_seed=hs.draws,
            state_code=state_code,
            place=place,
        )
