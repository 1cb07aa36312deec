"""One shop's generated world: products, orders, returns, cancellations, finance, writes."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

from tiktok_pipeline.sandbox.finance import FinanceBook
from tiktok_pipeline.sandbox.orders.book import OrderBook
from tiktok_pipeline.sandbox.orders.render import OrderRenderer
from tiktok_pipeline.sandbox.products import ProductCatalog
from tiktok_pipeline.sandbox.returns import CancellationBook, ReturnBook
from tiktok_pipeline.sandbox.shops import ShopContext, ShopInfo


@dataclass
class ExternalOrders:
    """External order references stored per order (the undocumented 202406 endpoints)."""

    by_order: dict[str, list[dict]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, order_id: str, refs: list[dict]) -> None:
        """Add references, replacing one with the same (platform, external_order_id)."""
        with self.lock:
            current = self.by_order.setdefault(order_id, [])
            for ref in refs:
                current[:] = [
                    r
                    for r in current
                    if (r["platform"], r["external_order_id"])
                    != (ref["platform"], ref["external_order_id"])
                ]
                current.append(ref)

    def get(self, order_id: str) -> list[dict]:
        """The references of an order."""
        return list(self.by_order.get(order_id, []))

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.by_order.clear()


class ShopWorld:
    """Everything the sandbox serves for one shop."""

    def __init__(
        self,
        ctx: ShopContext,
        orders_per_shop: int,
        products_per_shop: int,
        days: int,
        return_every: int,
    ) -> None:
        self.ctx = ctx
        self.info: ShopInfo = ctx.info
        self.slot = ctx.slot
        self.catalog = ProductCatalog(ctx, products_per_shop)
        self.orders = OrderBook(ctx, self.catalog, orders_per_shop, days, return_every)
        self.returns = ReturnBook(ctx, self.orders)
        self.cancellations = CancellationBook(ctx, self.orders)
        self.finance = FinanceBook(ctx, self.orders, self.returns)
        self.external = ExternalOrders()

    @functools.cached_property
    def order_renderer(self) -> OrderRenderer:
        """Renders this shop's orders (its texts are made on first use)."""
        return OrderRenderer(self.orders)

    def reset(self) -> None:
        """Forget writes made through the API."""
        self.catalog.reset()
        self.external.clear()
