"""Fetching finance objects and cancellations for one shop and one time window.

Each function walks every page of TikTok's list for ``[start, end)`` on the object's own time
field (finance objects have no ``update_time``): statements by ``statement_time``, payments and
withdrawals by ``create_time``, cancellations by ``update_time``. TikTok requires
``sort_field`` on the finance lists; an ascending sort keeps pages stable while the list grows
at its newest end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

from tiktok_pipeline.client import Page, PageIterator, ShopAPI

#: TikTok's largest pages: 100 for the finance lists, 50 for Search Cancellations.
FINANCE_PAGE_SIZE = 100
CANCELLATION_PAGE_SIZE = 50


def _between(field: str, start: datetime, end: datetime) -> dict[str, int]:
    """``<field>_ge`` / ``<field>_lt`` for ``[start, end)`` in Unix seconds."""
    return {f"{field}_ge": int(start.timestamp()), f"{field}_lt": int(end.timestamp())}


def _sorted_by(field: str) -> dict[str, str | int]:
    return {"page_size": FINANCE_PAGE_SIZE, "sort_field": field, "sort_order": "ASC"}


def fetch_cancellations(api: ShopAPI, start: datetime, end: datetime) -> PageIterator:
    """Search Cancellations, 50 per page (TikTok's largest), updated in ``[start, end)``."""
    return api.returns.pages(
        "cancellations",
        query={"page_size": CANCELLATION_PAGE_SIZE},
        body=_between("update_time", start, end),
    )


def fetch_statements(api: ShopAPI, start: datetime, end: datetime) -> PageIterator:
    """Get Statements whose ``statement_time`` is in ``[start, end)``, 100 per page."""
    return api.finance.pages(
        "statements",
        query={**_sorted_by("statement_time"), **_between("statement_time", start, end)},
    )


def fetch_payments(api: ShopAPI, start: datetime, end: datetime) -> PageIterator:
    """Get Payments created in ``[start, end)``, 100 per page."""
    return api.finance.pages(
        "payments", query={**_sorted_by("create_time"), **_between("create_time", start, end)}
    )


def fetch_withdrawals(api: ShopAPI, start: datetime, end: datetime) -> PageIterator:
    """Get Withdrawals created in ``[start, end)``, 100 per page (every type)."""
    return api.finance.pages(
        "withdrawals",
        query={"page_size": FINANCE_PAGE_SIZE, **_between("create_time", start, end)},
    )


def fetch_statement_transactions(api: ShopAPI, start: datetime, end: datetime) -> Iterator[Page]:
    """Every transaction of every statement whose ``statement_time`` is in ``[start, end)``.

    One search per statement (Get Transactions by Statement, 100 per page, by
    ``order_create_time``). TikTok's transactions do not name their statement: each one gets
    ``statement_id`` before it is loaded, which is how the warehouse links a transaction to
    its statement. Each search's pages are numbered from 1, so the sync adds up the
    ``total_count`` of every search's first page.
    """
    for statement in fetch_statements(api, start, end).items():
        statement_id = str(statement["id"])
        pages = api.finance.pages(
            "transactions_by_statement",
            query=_sorted_by("order_create_time"),
            params={"statement_id": statement_id},
        )
        for page in pages:
            items = [{**item, "statement_id": statement_id} for item in page.items]
            yield dataclasses.replace(page, items=items)


def fetch_unsettled_transactions(api: ShopAPI) -> Iterator[dict]:
    """Every transaction of the shop's current unsettled list, oldest order first."""
    return api.finance.pages(
        "unsettled_transactions", query=_sorted_by("order_create_time")
    ).items()
