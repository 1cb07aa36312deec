"""The entities the pipeline syncs by ``update_time`` window: how each is fetched and stored.

An :class:`Entity` ties together, by plain references, the client's search for one window
(its fetch function, over :class:`~tiktok_pipeline.client.ShopAPI`) and the warehouse tables
a page is written to (:class:`~tiktok_pipeline.warehouse.ObjectTables`, which carries the
mapping and the tables). To sync a new entity, write its fetch function and its
``ObjectTables`` (with its mapping and tables), and add an ``Entity`` to :data:`ENTITIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from tiktok_pipeline.client import Page, ShopAPI
from tiktok_pipeline.warehouse import ORDER_TABLES, PRODUCT_TABLES, RETURN_TABLES, ObjectTables

#: Fetches every page of one shop's objects updated in ``[start, end)``.
Fetch = Callable[[ShopAPI, datetime, datetime], Iterable[Page]]


def updated_between(start: datetime, end: datetime) -> dict[str, int]:
    """The search filter for objects updated in ``[start, end)`` (``update_time_lt``)."""
    return {"update_time_ge": int(start.timestamp()), "update_time_lt": int(end.timestamp())}


def updated_between_inclusive(start: datetime, end: datetime) -> dict[str, int]:
    """The same window for a search whose upper bound is inclusive (``update_time_le``).

    On whole seconds, ``[a, b)`` is ``[a, b - 1]``.
    """
    return {"update_time_ge": int(start.timestamp()), "update_time_le": int(end.timestamp()) - 1}


def fetch_orders(api: ShopAPI, start: datetime, end: datetime) -> Iterable[Page]:
    """Search Orders, 100 per page (TikTok's largest), updated in ``[start, end)``."""
    return api.order.pages(query={"page_size": 100}, body=updated_between(start, end))


def fetch_products(api: ShopAPI, start: datetime, end: datetime) -> Iterable[Page]:
    """Search Products, 100 per page; its filter's upper bound is inclusive."""
    return api.product.pages(query={"page_size": 100}, body=updated_between_inclusive(start, end))


def fetch_returns(api: ShopAPI, start: datetime, end: datetime) -> Iterable[Page]:
    """Search Returns, 50 per page (TikTok's largest), updated in ``[start, end)``."""
    return api.returns.pages(query={"page_size": 50}, body=updated_between(start, end))


@dataclass(frozen=True)
class Entity:
    """One kind of TikTok object the pipeline pulls by ``update_time`` window.

    Attributes:
        name: ``orders``, ``products`` or ``returns``: the sync asset is ``sync_<name>`` and
            the sync ledger's ``entity`` is this name.
        fetch: the client's search of one shop's window, page by page.
        stored_in: the warehouse tables a page is loaded into, with their mapping.
        description: what the asset holds, for the UI.
    """

    name: str
    fetch: Fetch
    stored_in: ObjectTables
    description: str

    @property
    def tables(self) -> tuple[str, ...]:
        """The warehouse tables one pull writes, parent first (one asset each)."""
        return self.stored_in.table_names


ORDERS = Entity(
    name="orders",
    fetch=fetch_orders,
    stored_in=ORDER_TABLES,
    description="Orders and their line items (one line item per unit sold)",
)
PRODUCTS = Entity(
    name="products",
    fetch=fetch_products,
    stored_in=PRODUCT_TABLES,
    description="Products, their SKUs and each SKU's inventory per warehouse",
)
RETURNS = Entity(
    name="returns",
    fetch=fetch_returns,
    stored_in=RETURN_TABLES,
    description="Returns, refunds and replacements with their line items",
)

ENTITIES = {entity.name: entity for entity in (ORDERS, PRODUCTS, RETURNS)}
