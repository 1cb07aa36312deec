"""Fetch again exactly the objects pushes named, and write them with the pipeline's rules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tiktok_pipeline.client import ShopAPI, TikTokAPIError
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.webhooks.routing import ShopRefresh
from tiktok_pipeline.warehouse import (
    CANCELLATION_TABLES,
    ORDER_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    LoadResult,
    Warehouse,
)
from tiktok_pipeline.warehouse.product_deletions import mark_products_deleted

#: TikTok's limits: order detail takes 50 ids, the returns search 50 return_ids per page.
ORDER_IDS_PER_CALL = 50
RETURN_IDS_PER_CALL = 50
#: Search Cancellations takes up to 50 per page; one page per 50 cancel_ids.
CANCEL_IDS_PER_CALL = 50
#: TikTok answers these codes for a product that is gone or not in this shop.
PRODUCT_GONE_CODES = frozenset({12019150, 12052032, 12052260, 12052048})


def _chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def fetch_orders(api: ShopAPI, order_ids: Iterable[str]) -> list[dict]:
    """Orders by id through order detail, 50 ids per call."""
    orders: list[dict] = []
    for chunk in _chunks(order_ids, ORDER_IDS_PER_CALL):
        orders += api.order.detail(query={"ids": chunk})["data"].get("orders") or []
    return orders


def fetch_returns(api: ShopAPI, return_ids: Iterable[str]) -> list[dict]:
    """Returns by id through the returns search's ``return_ids`` filter."""
    found = []
    for chunk in _chunks(return_ids, RETURN_IDS_PER_CALL):
        pages = api.returns.pages(
            query={"page_size": RETURN_IDS_PER_CALL}, body={"return_ids": chunk}
        )
        found += list(pages.items())
    return found


def fetch_cancellations(api: ShopAPI, cancel_ids: Iterable[str]) -> list[dict]:
    """Cancellations by id through Search Cancellations' ``cancel_ids`` filter."""
    found = []
    for chunk in _chunks(cancel_ids, CANCEL_IDS_PER_CALL):
        pages = api.returns.pages(
            "cancellations", query={"page_size": CANCEL_IDS_PER_CALL}, body={"cancel_ids": chunk}
        )
        found += list(pages.items())
    return found


def fetch_products(
    api: ShopAPI, product_ids: Iterable[str], gone: list[str] | None = None
) -> list[dict]:
    """Products by id (one call each); the ids of products TikTok no longer has (a
    :data:`PRODUCT_GONE_CODES` answer) are left out and added to ``gone`` when given."""
    products = []
    for product_id in sorted(product_ids):
        try:
            products.append(api.product.get(params={"product_id": product_id})["data"])
        except TikTokAPIError as error:
            if error.code not in PRODUCT_GONE_CODES:
                raise
            if gone is not None:
                gone.append(product_id)
    return products


def refresh_shop(api: ShopAPI, warehouse: Warehouse, wanted: ShopRefresh) -> LoadResult:
    """Fetch what one shop's pushes named and write it in one transaction (``_source=webhook``)."""
    orders = fetch_orders(api, wanted.orders) if wanted.orders else []
    returns = fetch_returns(api, wanted.returns) if wanted.returns else []
    gone_products: list[str] = []
    products = fetch_products(api, wanted.products, gone_products) if wanted.products else []
    cancellations = fetch_cancellations(api, wanted.cancellations) if wanted.cancellations else []
    shop_id = api.shop_id or ""
    result = LoadResult()
    with warehouse.begin() as tx:
        if orders:
            result += tx.load(ORDER_TABLES, shop_id, orders, source="webhook")
        if returns:
            result += tx.load(RETURN_TABLES, shop_id, returns, source="webhook")
        if products:
            result += tx.load(PRODUCT_TABLES, shop_id, products, source="webhook")
        if cancellations:
            result += tx.load(CANCELLATION_TABLES, shop_id, cancellations, source="webhook")
        if gone_products:
            # No payload to map: keep the stored rows and date the deletion now.
            mark_products_deleted(tx.connection, shop_id, gone_products, utcnow())
    return result
