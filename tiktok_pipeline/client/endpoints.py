"""The endpoint table: every client method as one line of data, ``"VERB /versioned/path"``.

The keys are ``service.method`` (method names are the original package's, in snake_case). A user
adds an endpoint or pins another API version without touching code::

    TikTokShopClient(..., endpoints={"order.foo": "POST /order/202309/foo"},
                     versions={"order.detail": "202507"})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

ENDPOINTS: dict[str, str] = {
    "authorization.shops": "GET /authorization/202309/shops",
    "seller.shops": "GET /seller/202309/shops",
    "event.webhook_list": "GET /event/202309/webhooks",
    "event.update_webhook": "PUT /event/202309/webhooks",
    "event.delete_webhook": "DELETE /event/202309/webhooks",
    "order.list": "POST /order/202309/orders/search",
    "order.detail": "GET /order/202309/orders",
    "order.price_detail": "GET /order/202407/orders/{order_id}/price_detail",
    "order.external_orders": "GET /order/202406/orders/{order_id}/external_orders",
    "order.add_external_orders": "POST /order/202406/orders/external_orders",
    "order.search_external_orders": "POST /order/202406/orders/external_order_search",
    "product.get": "GET /product/202309/products/{product_id}",
    "product.list": "POST /product/202502/products/search",
    "product.update_inventory": "POST /product/202309/products/{product_id}/inventory/update",
    "product.inventory_search": "POST /product/202309/inventory/search",
    "returns.get": "GET /return_refund/202309/returns/{return_id}/records",
    "returns.list": "POST /return_refund/202309/returns/search",
    "returns.cancellations": "POST /return_refund/202309/cancellations/search",
    "finance.statements": "GET /finance/202309/statements",
    "finance.payments": "GET /finance/202605/payments",
    "finance.withdrawals": "GET /finance/202309/withdrawals",
    "finance.unsettled_transactions": "GET /finance/202507/orders/unsettled",
    "finance.transactions_by_order": "GET /finance/202501/orders/{order_id}/statement_transactions",
    "finance.transactions_by_statement": (
        "GET /finance/202501/statements/{statement_id}/statement_transactions"
    ),
}

#: The list key in ``data`` of paginated endpoints, for :meth:`Service.pages`.
ITEMS_KEYS: dict[str, str] = {
    "authorization.shops": "shops",
    "seller.shops": "shops",
    "event.webhook_list": "webhooks",
    "order.list": "orders",
    "order.detail": "orders",
    "order.search_external_orders": "orders",
    "product.list": "products",
    "returns.list": "return_orders",
    "returns.cancellations": "cancellations",
    "returns.get": "records",
    "finance.statements": "statements",
    "finance.payments": "payments",
    "finance.withdrawals": "withdrawals",
    "finance.unsettled_transactions": "transactions",
    "finance.transactions_by_statement": "transactions",
}

#: Paths under these prefixes refuse ``shop_cipher`` (reference §2).
NO_CIPHER_PREFIXES = ("/authorization/", "/seller/")

_VERSION = re.compile(r"^/(?P<resource>[a-z_]+)/(?P<version>\d{6})(?P<rest>/.*)?$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Endpoint:
    """One API method: its verb, its versioned path template and how to call it."""

    name: str
    method: str
    path: str
    shop_cipher: bool
    items_key: str | None = None

    @classmethod
    def parse(cls, name: str, route: str) -> Endpoint:
        """Build an endpoint from ``"VERB /path"`` (a bare path means GET, as in the original)."""
        verb, _, path = route.strip().partition(" ")
        if not path:
            verb, path = "GET", verb
        verb = verb.upper()
        if verb not in _VERBS or not path.startswith("/"):
            raise ValueError(f"endpoint {name!r}: route {route!r} is not 'VERB /path'")
        if "." not in name:
            raise ValueError(f"endpoint {name!r}: name it 'service.method', e.g. 'order.list'")
        return cls(
            name=name,
            method=verb,
            path=path.strip(),
            shop_cipher=not path.startswith(NO_CIPHER_PREFIXES),
            items_key=ITEMS_KEYS.get(name),
        )

    @property
    def version(self) -> str | None:
        """The API version segment of the path, e.g. ``202309``."""
        match = _VERSION.match(self.path)
        return match["version"] if match else None

    @property
    def idempotent(self) -> bool:
        """True when repeating the call cannot do anything twice (safe to retry after a send)."""
        return self.method != "POST" or self.path.endswith("/search")

    def with_version(self, version: str) -> Endpoint:
        """The same endpoint at another API version."""
        match = _VERSION.match(self.path)
        if not match or not re.fullmatch(r"\d{6}", version):
            raise ValueError(f"cannot set version {version!r} on {self.name} ({self.path})")
        return replace(self, path=f"/{match['resource']}/{version}{match['rest'] or ''}")

    def render_path(self, params: Mapping[str, Any] | str | int | None) -> str:
        """The path with its ``{placeholders}`` filled from ``params`` (a scalar fills one)."""
        names = _PLACEHOLDER.findall(self.path)
        if not names:
            return self.path
        if params is not None and not isinstance(params, Mapping):
            if len(names) != 1:
                raise ValueError(f"{self.name} needs params {names}; pass a dict")
            params = {names[0]: params}
        params = params or {}
        missing = [n for n in names if params.get(n) in (None, "")]
        if missing:
            raise ValueError(
                f"{self.name} needs params={{{', '.join(repr(m) for m in missing)}: ...}}"
            )
        return _PLACEHOLDER.sub(lambda m: quote(str(params[m[1]]), safe=""), self.path)


def build_endpoints(
    overrides: Mapping[str, str] | None = None, versions: Mapping[str, str] | None = None
) -> dict[str, Endpoint]:
    """The endpoint table with a user's added/replaced routes and pinned versions applied."""
    routes = {**ENDPOINTS, **(overrides or {})}
    table = {name: Endpoint.parse(name, route) for name, route in routes.items()}
    for name, version in (versions or {}).items():
        if name not in table:
            raise ValueError(
                f"versions: unknown endpoint {name!r}; known: {', '.join(sorted(table))}"
            )
        table[name] = table[name].with_version(version)
    return table
