"""What differs between orders, products and returns when they are pulled by time window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Entity:
    """One kind of TikTok object the pipeline pulls by ``update_time`` window.

    Attributes:
        name: ``orders``, ``products`` or ``returns`` (the ledger's ``entity``).
        service: the client service (``api.<service>.list``).
        id_field: the object's id key in TikTok's JSON.
        page_size: the largest page TikTok allows for the search.
        inclusive_upper: True when the search's upper bound is ``update_time_le`` (products)
            rather than the half-open ``update_time_lt``.
        tables: the warehouse tables one pull writes, parent first.
        loader: the warehouse transaction method that writes a page.
        description: what the asset holds, for the UI.
    """

    name: str
    service: str
    id_field: str
    page_size: int
    inclusive_upper: bool
    tables: tuple[str, ...]
    loader: str
    description: str

    def window_filter(self, start: datetime, end: datetime) -> dict[str, int]:
        """The search body for objects updated in ``[start, end)``."""
        lower, upper = int(start.timestamp()), int(end.timestamp())
        if self.inclusive_upper:
            # Products filter with update_time_le (inclusive): [a, b) on whole seconds is [a, b-1].
            return {"update_time_ge": lower, "update_time_le": upper - 1}
        return {"update_time_ge": lower, "update_time_lt": upper}


ORDERS = Entity(
    name="orders",
    service="order",
    id_field="id",
    page_size=100,
    inclusive_upper=False,
    tables=("tiktok_orders", "tiktok_order_line_items"),
    loader="load_orders",
    description="Orders and their line items (one line item per unit sold)",
)
PRODUCTS = Entity(
    name="products",
    service="product",
    id_field="id",
    page_size=100,
    inclusive_upper=True,
    tables=("tiktok_products", "tiktok_product_skus", "tiktok_product_sku_inventory"),
    loader="load_products",
    description="Products, their SKUs and each SKU's inventory per warehouse",
)
RETURNS = Entity(
    name="returns",
    service="returns",
    id_field="return_id",
    page_size=50,
    inclusive_upper=False,
    tables=("tiktok_returns", "tiktok_return_line_items"),
    loader="load_returns",
    description="Returns, refunds and replacements with their line items",
)

ENTITIES = {entity.name: entity for entity in (ORDERS, PRODUCTS, RETURNS)}
