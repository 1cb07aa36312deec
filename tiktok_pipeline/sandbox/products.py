"""A shop's products and SKUs: generated at start, changing on a deterministic schedule.

Each product has a base record (ids, title, SKUs, prices, warehouses) and a schedule of
updates (every ``period`` seconds from ``create_time + phase``). An update moves
``update_time``, changes stock levels and, for a tenth of the products, flips the status
between ACTIVATE and SELLER_DEACTIVATED. Inventory writes through the API are kept as
overrides on top of the schedule.

Two smaller groups make a catalog realistic for full-catalog syncs: a tenth of the products are
*dormant* (created up to two years before the data starts and never updated since, so an
``update_time`` window of recent months never sees them), and :data:`DELETED_SHARE` of them are
*deleted* by the seller at a fixed time: from then on they are served with status ``DELETED``
and ``update_time`` = the deletion time, their schedule stops, and inventory writes are refused.
Both come from their own random stream, so the other fields of every product are unchanged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from tiktok_pipeline.sandbox.catalog import (
    PRODUCT_ADJECTIVES,
    PRODUCT_KINDS,
    PRODUCT_STATUSES_RARE,
    money,
)
from tiktok_pipeline.sandbox.product_render import ProductView
from tiktok_pipeline.sandbox.product_traits import (
    BUNDLE_SLOT,
    FEATURE_CYCLE,
    ProductTraits,
    make_traits,
    product_families,
)
from tiktok_pipeline.sandbox.rng import Draws
from tiktok_pipeline.sandbox.shops import ShopContext

DAY = 86400
MAX_SKUS = 8
#: Share of products the seller deletes at some time (see :meth:`ProductCatalog._life`).
DELETED_SHARE = 0.03
#: Share of products created long ago and never updated since.
DORMANT_SHARE = 0.1
#: Deletions fall between this long before the anchor and :data:`DELETIONS_AFTER` after it, so
#: some products are gone at start and others go as the clock advances.
DELETIONS_BEFORE = 60 * DAY
DELETIONS_AFTER = 30 * DAY


@dataclass(slots=True)
class Sku:
    """One SKU of a product (prices in minor units)."""

    product_index: int
    number: int
    id: str
    seller_sku: str
    attr_name: str
    attr_value: str
    price: int
    list_price: int
    warehouses: tuple[tuple[str, int], ...]
    image: str
    fragment: str = ""


@dataclass(slots=True)
class Product:
    """The base record of a product and its update schedule."""

    index: int
    id: str
    title: str
    category_id: str
    category_name: str
    create_time: int
    base_status: str
    toggles: bool
    period: int
    phase: int
    skus: list[Sku]
    image: str
    dormant: bool = False
    deleted_at: int | None = None


@dataclass
class InventoryWrite:
    """An inventory update made through the API at virtual time ``time``."""

    time: int
    quantities: dict[tuple[int, str], int]


@dataclass
class ProductWrites:
    """Every write to one product, in time order."""

    writes: list[InventoryWrite] = field(default_factory=list)


class ProductCatalog:
    """The products of one shop."""

    def __init__(self, ctx: ShopContext, count: int) -> None:
        self.ctx = ctx
        self.count = count
        self.codec = ctx.codec("1729", 10, 0x9D01)
        self.sku_codec = ctx.codec("1730", 10, 0x9D02)
        self.products: list[Product] = [self._life(self._make(j)) for j in range(count)]
        self.sellable: list[Sku] = [
            sku for p in self.products if p.base_status == "ACTIVATE" for sku in p.skus
        ] or [sku for p in self.products for sku in p.skus]
        self.writes: dict[int, ProductWrites] = {}
        self.version = 0
        self._lock = threading.Lock()
        self._traits: list[ProductTraits | None] = [None] * count
        self._family_map: dict[int, dict] | None = None
        for p in self.products:
            for sku in p.skus:
                sku.fragment = self._line_fragment(p, sku)

    def _line_fragment(self, p: Product, sku: Sku) -> str:
        """The SKU's part of an order line item, pre-encoded as JSON members."""
        reg = self.ctx.region
        zero = money(0, reg.decimals)
        return (
            f'"sku_id":"{sku.id}","product_id":"{p.id}","product_name":{json.dumps(p.title)},'
            f'"sku_name":{json.dumps(f"{sku.attr_name}: {sku.attr_value}")},'
            f'"sku_image":{json.dumps(sku.image)},"seller_sku":{json.dumps(sku.seller_sku)},'
            f'"currency":"{reg.currency}","original_price":"{money(sku.price, reg.decimals)}",'
            f'"is_gift":false,"sku_type":"NORMAL","retail_delivery_fee":"{zero}",'
            f'"buyer_service_fee":"{zero}","small_order_fee":"{zero}","is_dangerous_good":false,'
            f'"needs_prescription":false'
        )

    @staticmethod
    def fragment(sku: Sku) -> str:
        """The SKU's pre-encoded line-item members."""
        return sku.fragment

    # -- generation -------------------------------------------------------------------------

    def _make(self, j: int) -> Product:
        ctx = self.ctx
        reg = ctx.region
        d = Draws(ctx.base(0x9D00) + j * 0x10001)
        cat_id, cat_name, nouns, attr_name, values = d.pick(PRODUCT_KINDS)
        title = f"{d.pick(PRODUCT_ADJECTIVES)} {d.pick(nouns)}"
        window = 120 * DAY
        create_time = ctx.start - window + (j * window) // max(1, self.count) + d.below(3600)
        roll = d.below(1000)
        base_status = "ACTIVATE"
        acc = 0
        for status, share in PRODUCT_STATUSES_RARE:
            acc += share
            if roll < acc:
                base_status = status
                break
        toggles = base_status == "ACTIVATE" and d.chance(0.1)
        period = d.between(2 * DAY, 20 * DAY)
        phase = d.below(period)
        usd_cents = d.between(399, 8999)
        unit = reg.rounding
        price_minor = usd_cents * reg.price_factor / (100 if reg.decimals == 0 else 1)
        price = max(unit, round(price_minor / unit) * unit)
        n_skus = min(MAX_SKUS, len(values), 1 + d.below(min(4, len(values))))
        product_id = self.codec.encode(j)
        image = f"https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/{product_id}~tplv.jpeg"
        skus = []
        for s in range(n_skus):
            sku_price = price + (s * price // 10 // unit) * unit
            discounted = d.chance(0.3)
            list_price = sku_price + ((sku_price // 5) // unit) * unit if discounted else sku_price
            n_wh = 1 + d.below(len(ctx.warehouses))
            first = d.below(len(ctx.warehouses))
            whs = tuple(
                (ctx.warehouses[(first + w) % len(ctx.warehouses)], d.between(20, 900))
                for w in range(n_wh)
            )
            skus.append(
                Sku(
                    product_index=j,
                    number=s,
                    id=self.sku_codec.encode(j * MAX_SKUS + s),
                    seller_sku=f"{ctx.info.code[-4:]}-{j:05d}-{values[s]}".replace(" ", ""),
                    attr_name=attr_name,
                    attr_value=values[s],
                    price=sku_price,
                    list_price=list_price,
                    warehouses=whs,
                    image=image,
                )
            )
        return Product(
            index=j,
            id=product_id,
            title=title,
            category_id=cat_id,
            category_name=cat_name,
            create_time=create_time,
            base_status=base_status,
            toggles=toggles,
            period=period,
            phase=phase,
            skus=skus,
            image=image,
        )

    def _life(self, p: Product) -> Product:
        """Make ``p`` dormant or deleted, from a stream of its own (other fields unchanged)."""
        ctx = self.ctx
        d = Draws(ctx.base(0x9D04) + p.index * 0x10001)
        if d.chance(DORMANT_SHARE):
            p.dormant = True
            p.toggles = False
            p.create_time = ctx.start - d.between(130 * DAY, 730 * DAY)
        if d.chance(DELETED_SHARE):
            earliest = max(p.create_time + DAY, ctx.anchor - DELETIONS_BEFORE)
            p.deleted_at = d.between(earliest, ctx.anchor + DELETIONS_AFTER)
        return p

    # -- lookups ------------------------------------------------------------------------------

    def by_id(self, product_id: str) -> Product | None:
        """The product with this id, or None."""
        j = self.codec.decode(product_id)
        if j is None or j >= self.count:
            return None
        return self.products[j]

    def sku_by_id(self, sku_id: str) -> Sku | None:
        """The SKU with this id, or None."""
        n = self.sku_codec.decode(sku_id)
        if n is None:
            return None
        j, s = divmod(n, MAX_SKUS)
        if j >= self.count or s >= len(self.products[j].skus):
            return None
        return self.products[j].skus[s]

    # -- state at a time ----------------------------------------------------------------------

    def deleted_by(self, p: Product, t: int) -> bool:
        """Whether the seller has deleted ``p`` at or before ``t``."""
        return p.deleted_at is not None and p.deleted_at <= t

    def updates_by(self, p: Product, t: int) -> int:
        """How many scheduled updates of ``p`` happened at or before ``t`` (none after its
        deletion, none ever for a dormant product)."""
        if p.dormant:
            return 0
        if p.deleted_at is not None:
            t = min(t, p.deleted_at - 1)
        first = p.create_time + p.phase
        if t < first:
            return 0
        return 1 + (t - first) // p.period

    def update_time_of(self, n_updates: int, p: Product) -> int:
        """The time of the ``n_updates``-th scheduled update (create_time when 0)."""
        if n_updates == 0:
            return p.create_time
        return p.create_time + p.phase + (n_updates - 1) * p.period

    def writes_by(self, p: Product, t: int) -> list[InventoryWrite]:
        """The inventory writes of ``p`` made at or before ``t``."""
        entry = self.writes.get(p.index)
        if entry is None:
            return []
        return [w for w in entry.writes if w.time <= t]

    def state(self, p: Product, t: int) -> tuple[int, int, int]:
        """(scheduled updates, number of writes, update_time) of ``p`` at ``t``."""
        n = self.updates_by(p, t)
        update_time = self.update_time_of(n, p)
        writes = self.writes_by(p, t)
        if writes:
            update_time = max(update_time, writes[-1].time)
        if self.deleted_by(p, t):
            update_time = cast(int, p.deleted_at)
        return n, len(writes), update_time

    def status(self, p: Product, n_updates: int, t: int | None = None) -> str:
        """The product status after ``n_updates`` scheduled updates (``DELETED`` once deleted,
        when the time ``t`` is given)."""
        if t is not None and self.deleted_by(p, t):
            return "DELETED"
        if p.toggles and n_updates % 2 == 1:
            return "SELLER_DEACTIVATED"
        return p.base_status

    def quantity(
        self,
        sku: Sku,
        warehouse_id: str,
        base_qty: int,
        n_updates: int,
        writes: list[InventoryWrite],
    ) -> int:
        """Available stock of one SKU in one warehouse."""
        for w in reversed(writes):
            q = w.quantities.get((sku.number, warehouse_id))
            if q is not None:
                return q
        swing = max(1, base_qty // 2)
        return base_qty - (n_updates * (7 + 3 * sku.number)) % swing

    # -- rendering ----------------------------------------------------------------------------

    def traits(self, p: Product) -> ProductTraits:
        """The time-independent parts of ``p`` (made on first use, then kept)."""
        traits = self._traits[p.index]
        if traits is None:
            traits = make_traits(self, p)
            traits.in_bundle = self.count >= 3 and any(
                (p.index - step) % self.count % FEATURE_CYCLE == BUNDLE_SLOT for step in (1, 2)
            )
            traits.family = self._families().get(p.index)
            self._traits[p.index] = traits
        return traits

    def _families(self) -> dict[int, dict]:
        if self._family_map is None:
            self._family_map = product_families(self)
        return self._family_map

    def family(self, p: Product) -> dict | None:
        """The US product family ``p`` belongs to, or None."""
        return self.traits(p).family

    def render_key(self, p: Product, t: int) -> tuple:
        """What ``p``'s rendering at ``t`` depends on: its state and, for a virtual bundle,
        the state of its source products (two times with equal keys render equal bytes)."""
        n, writes, _ = self.state(p, t)
        key: tuple = (n, writes, self.deleted_by(p, t))
        for part in self.traits(p).bundle:
            source = self.products[part.product_index]
            s_n, s_writes, _ = self.state(source, t)
            key += (s_n, s_writes, self.deleted_by(source, t))
        return key

    def render(self, p: Product, t: int, shape: str) -> dict:
        """The product as the API serves it at ``t``.

        ``shape`` is ``search_202309``, ``search_202502`` or ``detail``.
        """
        return ProductView(self, p, t).render(shape)

    def inventory_entry(self, p: Product, t: int, sku_filter: set[str] | None = None) -> dict:
        """The product's Inventory Search entry at ``t``."""
        n, _, _ = self.state(p, t)
        writes = self.writes_by(p, t)
        skus = []
        for sku in p.skus:
            if sku_filter is not None and sku.id not in sku_filter:
                continue
            per_wh: list[dict[str, Any]] = []
            for wh, base_qty in sku.warehouses:
                available = self.quantity(sku, wh, base_qty, n, writes)
                committed = (n * 3 + sku.number) % 5
                per_wh.append(
                    {
                        "warehouse_id": wh,
                        "available_quantity": available,
                        "committed_quantity": committed,
                    }
                )
            skus.append(
                {
                    "id": sku.id,
                    "seller_sku": sku.seller_sku,
                    "total_available_quantity": sum(w["available_quantity"] for w in per_wh),
                    "total_committed_quantity": sum(w["committed_quantity"] for w in per_wh),
                    "warehouse_inventory": per_wh,
                }
            )
        return {"product_id": p.id, "skus": skus}

    # -- writes -------------------------------------------------------------------------------

    def write_inventory(self, p: Product, t: int, quantities: dict[tuple[int, str], int]) -> None:
        """Record an inventory update of ``p`` made at virtual time ``t``."""
        with self._lock:
            entry = self.writes.setdefault(p.index, ProductWrites())
            entry.writes.append(InventoryWrite(time=t, quantities=dict(quantities)))
            self.version += 1

    def reset(self) -> None:
        """Forget every write."""
        with self._lock:
            self.writes.clear()
            self.version += 1

    # -- schedule -----------------------------------------------------------------------------

    def updates_between(self, t0: int, t1: int) -> list[tuple[int, Product, int]]:
        """Scheduled updates in (t0, t1]: (time, product, update number)."""
        out: list[tuple[int, Product, int]] = []
        for p in self.products:
            n0 = self.updates_by(p, t0)
            n1 = self.updates_by(p, t1)
            out.extend((self.update_time_of(n, p), p, n) for n in range(n0 + 1, n1 + 1))
        return out

    def deletions_between(self, t0: int, t1: int) -> list[Product]:
        """Products deleted in (t0, t1]."""
        return [p for p in self.products if p.deleted_at is not None and t0 < p.deleted_at <= t1]
