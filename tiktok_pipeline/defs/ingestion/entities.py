"""The entities the pipeline syncs by daily time window: how each is fetched and stored.

An :class:`Entity` ties together, by plain references, the client's search for one window
(its fetch function, over :class:`~tiktok_pipeline.client.ShopAPI`) and the warehouse tables
a page is written to (:class:`~tiktok_pipeline.warehouse.ObjectTables`, which carries the
mapping and the tables). To sync a new entity, write its fetch function and its
``ObjectTables`` (with its mapping and tables), and add an ``Entity`` to :data:`ENTITIES`.

Orders, products, returns and cancellations are searched by ``update_time``: a change moves an
object into today's window. Finance objects have no ``update_time``: they are listed by the
time they were made (``statement_time``, ``create_time``), yet their status still changes for
days after (a statement is ``PROCESSING`` until it is paid, about two days later). Those
entities have a ``revisit`` period: see :func:`fetch_start`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tiktok_pipeline.client import Page, ShopAPI
from tiktok_pipeline.defs.ingestion.finance_fetch import (
    fetch_cancellations,
    fetch_payments,
    fetch_statement_transactions,
    fetch_statements,
    fetch_withdrawals,
)
from tiktok_pipeline.defs.ingestion.product_search import product_pages
from tiktok_pipeline.warehouse import (
    CANCELLATION_TABLES,
    ORDER_TABLES,
    PAYMENT_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    WITHDRAWAL_TABLES,
    ObjectTables,
)

#: Fetches every page of one shop's objects whose time field is in ``[start, end)``.
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
    """Search Products, 100 per page; its filter's upper bound is inclusive. A window holding
    more than TikTok's 10,000 results is split (see :mod:`.product_search`)."""
    window = updated_between_inclusive(start, end)
    return product_pages(api, window["update_time_ge"], window["update_time_le"])


def fetch_returns(api: ShopAPI, start: datetime, end: datetime) -> Iterable[Page]:
    """Search Returns, 50 per page (TikTok's largest), updated in ``[start, end)``."""
    return api.returns.pages(query={"page_size": 50}, body=updated_between(start, end))


@dataclass(frozen=True)
class Entity:
    """One kind of TikTok object the pipeline pulls by daily time window.

    Attributes:
        name: ``orders``, ``statements``...: the sync asset is ``sync_<name>`` and the sync
            ledger's ``entity`` is this name.
        fetch: the client's search of one shop's window, page by page.
        stored_in: the warehouse tables a page is loaded into, with their mapping.
        description: what the asset holds, for the UI.
        time_field: the field whose value puts an object in a window (``update_time``...).
        revisit: how far back a window near now fetches again (see :func:`fetch_start`).
        group: the asset group in the UI.
        loading: how a pulled row replaces the stored one, for the UI.
    """

    name: str
    fetch: Fetch
    stored_in: ObjectTables
    description: str
    time_field: str = "update_time"
    revisit: timedelta = timedelta(0)
    group: str = "tiktok"
    loading: str = (
        "Rows are upserted on their key; a row changes only when TikTok's update_time is at "
        "least the stored one."
    )

    @property
    def tables(self) -> tuple[str, ...]:
        """The warehouse tables one pull writes, parent first (one asset each)."""
        return self.stored_in.table_names

    @property
    def label(self) -> str:
        """The entity's name for messages (``statement transactions``)."""
        return self.name.replace("_", " ")


def fetch_start(entity: Entity, start: datetime, end: datetime, now: datetime) -> datetime:
    """Where the fetch of the window ``[start, end)`` begins, ``now``.

    A finance object is listed under the day it was made but changes after: a statement stays
    ``PROCESSING`` until it is paid about two days later, and so do its payment and withdrawal.
    Pulling only each day's own window would freeze yesterday's statement as ``PROCESSING``.
    So a window that ends within ``entity.revisit`` of now fetches from ``start - revisit``:
    today's incremental run refreshes the last week, while a year's backfill pays extra only
    for its last few windows. The ledger still records the partition's own window; that
    window's figures (objects received, unchanged rows) include the week it looked back on.
    """
    if entity.revisit and now - end < entity.revisit:
        return start - entity.revisit
    return start


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

CANCELLATIONS = Entity(
    name="cancellations",
    fetch=fetch_cancellations,
    stored_in=CANCELLATION_TABLES,
    description="Order cancellation requests and their cancelled line items",
)

#: Finance objects are listed by when they were made and change status for days after.
FINANCE_REVISIT = timedelta(days=7)
FINANCE_GROUP = "tiktok_finance"
FINANCE_LOADING = (
    "Rows are upserted on their key; TikTok's finance objects have no update_time, so the "
    "newest pull replaces a row whose content changed (e.g. a statement's payment status)."
)

STATEMENTS = Entity(
    name="statements",
    fetch=fetch_statements,
    stored_in=STATEMENT_TABLES,
    description="Daily settlement statements with their payment status",
    time_field="statement_time",
    revisit=FINANCE_REVISIT,
    group=FINANCE_GROUP,
    loading=FINANCE_LOADING,
)
STATEMENT_TRANSACTIONS = Entity(
    name="statement_transactions",
    fetch=fetch_statement_transactions,
    stored_in=STATEMENT_TRANSACTION_TABLES,
    description="The transactions (order settlements and adjustments) of each statement",
    time_field="their statement's statement_time",
    revisit=FINANCE_REVISIT,
    group=FINANCE_GROUP,
    loading=FINANCE_LOADING,
)
PAYMENTS = Entity(
    name="payments",
    fetch=fetch_payments,
    stored_in=PAYMENT_TABLES,
    description="Payouts to the seller's bank account",
    time_field="create_time",
    revisit=FINANCE_REVISIT,
    group=FINANCE_GROUP,
    loading=FINANCE_LOADING,
)
WITHDRAWALS = Entity(
    name="withdrawals",
    fetch=fetch_withdrawals,
    stored_in=WITHDRAWAL_TABLES,
    description="Movements of the seller's balance (withdrawals, settlements, transfers)",
    time_field="create_time",
    revisit=FINANCE_REVISIT,
    group=FINANCE_GROUP,
    loading=FINANCE_LOADING,
)

ENTITIES = {
    entity.name: entity
    for entity in (
        ORDERS,
        PRODUCTS,
        RETURNS,
        CANCELLATIONS,
        STATEMENTS,
        STATEMENT_TRANSACTIONS,
        PAYMENTS,
        WITHDRAWALS,
    )
}
