"""The Open API endpoint table and path resolution (unknown path, verb, version)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiktok_pipeline.sandbox import api_finance as fin
from tiktok_pipeline.sandbox import api_orders as orders
from tiktok_pipeline.sandbox import api_products as products
from tiktok_pipeline.sandbox import api_returns as returns
from tiktok_pipeline.sandbox import api_shops as shops
from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.errors import ApiError


@dataclass(frozen=True)
class Endpoint:
    """One (verb, versioned path) of the Open API."""

    method: str
    template: str
    handler: Callable[[Any], Any]
    shop_cipher: bool

    @property
    def category(self) -> str:
        """The first path segment (``order``, ``product`` ...)."""
        return self.template.split("/")[1]

    @property
    def version(self) -> str:
        """The version segment (``202309`` ...)."""
        return self.template.split("/")[2]

    @property
    def rest(self) -> tuple[str, ...]:
        """The segments after the version."""
        return tuple(self.template.split("/")[3:])

    @property
    def key(self) -> str:
        """``VERB /template`` for statistics."""
        return f"{self.method} {self.template}"


def _ep(
    method: str, template: str, handler: Callable[[Any], Any], shop_cipher: bool = True
) -> Endpoint:
    return Endpoint(method, template, handler, shop_cipher)


ENDPOINTS: tuple[Endpoint, ...] = (
    _ep("GET", "/authorization/202309/shops", shops.authorized_shops, shop_cipher=False),
    _ep("GET", "/seller/202309/shops", shops.active_shops, shop_cipher=False),
    _ep("GET", "/event/202309/webhooks", shops.get_webhooks),
    _ep("PUT", "/event/202309/webhooks", shops.put_webhook),
    _ep("DELETE", "/event/202309/webhooks", shops.delete_webhook),
    _ep("POST", "/order/202309/orders/search", orders.search_orders),
    _ep("GET", "/order/202309/orders", orders.order_detail),
    _ep("GET", "/order/202507/orders", orders.order_detail),
    _ep("GET", "/order/202407/orders/{order_id}/price_detail", orders.price_detail),
    _ep("GET", "/order/202406/orders/{order_id}/external_orders", orders.get_external_orders),
    _ep("POST", "/order/202406/orders/external_orders", orders.add_external_orders),
    _ep("POST", "/order/202406/orders/external_order_search", orders.search_external_orders),
    _ep("GET", "/product/202309/products/{product_id}", products.get_product),
    _ep("POST", "/product/202309/products/search", products.search_products),
    _ep("POST", "/product/202502/products/search", products.search_products),
    _ep(
        "POST", "/product/202309/products/{product_id}/inventory/update", products.update_inventory
    ),
    _ep("POST", "/product/202309/inventory/search", products.inventory_search),
    _ep("GET", "/return_refund/202309/returns/{return_id}/records", returns.return_records),
    _ep("POST", "/return_refund/202309/returns/search", returns.search_returns),
    _ep("POST", "/return_refund/202602/returns/search", returns.search_returns),
    _ep("POST", "/return_refund/202309/cancellations/search", returns.search_cancellations),
    _ep("GET", "/finance/202309/statements", fin.statements),
    _ep("GET", "/finance/202309/payments", fin.payments),
    _ep("GET", "/finance/202605/payments", fin.payments),
    _ep("GET", "/finance/202309/withdrawals", fin.withdrawals),
    _ep("GET", "/finance/202507/orders/unsettled", fin.unsettled),
    _ep("GET", "/finance/202501/orders/{order_id}/statement_transactions", fin.order_transactions),
    _ep(
        "GET",
        "/finance/202501/statements/{statement_id}/statement_transactions",
        fin.statement_transactions,
    ),
)

_BY_SHAPE: dict[tuple[str, int], list[Endpoint]] = defaultdict(list)
for _endpoint in ENDPOINTS:
    _BY_SHAPE[(_endpoint.category, len(_endpoint.rest))].append(_endpoint)


def _match(rest: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params = {}
    for pattern, segment in zip(rest, segments, strict=True):
        if pattern.startswith("{"):
            if not segment:
                return None
            params[pattern[1:-1]] = segment
        elif pattern != segment:
            return None
    return params


def resolve(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    """The endpoint and path parameters of a request; raises ApiError.

    Unknown path: 36009009 (404). Known path, other verb: 36009010 (405). Known resource,
    unknown version: 36009014.
    """
    segments = path.split("/")
    if len(segments) < 4 or segments[0] != "":
        raise ApiError.of(errors.INVALID_PATH)
    category, version, rest = segments[1], segments[2], segments[3:]
    candidates = []
    for endpoint in _BY_SHAPE.get((category, len(rest)), ()):
        params = _match(endpoint.rest, rest)
        if params is not None:
            candidates.append((endpoint, params))
    if not candidates:
        raise ApiError.of(errors.INVALID_PATH)
    same_version = [(e, p) for e, p in candidates if e.version == version]
    if not same_version:
        raise ApiError.of(errors.INVALID_VERSION)
    for endpoint, params in same_version:
        if endpoint.method == method:
            return endpoint, params
    raise ApiError.of(errors.INVALID_METHOD)
