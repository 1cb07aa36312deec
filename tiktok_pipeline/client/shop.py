"""A view of the API for one shop: ``api.order.list(...)``, ``api.product.get(...)``, ...

Service and method names come from the endpoint table, so an endpoint added to the table is a
method at once. Every call returns TikTok's decoded response (``code``, ``message``,
``request_id``, ``data``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.client.credentials import CredentialSource
from tiktok_pipeline.client.endpoints import Endpoint
from tiktok_pipeline.client.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    TikTokAPIError,
    TikTokConfigurationError,
)
from tiktok_pipeline.client.pagination import PageIterator
from tiktok_pipeline.client.transport import Call

if TYPE_CHECKING:
    from tiktok_pipeline.client.client import TikTokShopClient

Params = Mapping[str, Any] | str | int | None


def encode_query(query: Mapping[str, Any] | None) -> dict[str, str]:
    """Query values as TikTok expects them: None dropped, lists comma-joined, booleans lowercase."""
    encoded = {}
    for key, value in (query or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set):
            encoded[key] = ",".join(str(v) for v in value)
        else:
            encoded[key] = str(value)
    return encoded


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def encode_body(body: Mapping[str, Any] | None) -> bytes | None:
    """The exact JSON bytes to send and sign; None (send no body) when there is nothing."""
    if body is None:
        return None
    cleaned = _drop_none(body)
    if not cleaned:
        return None
    return json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class Service:
    """The methods of one API area (``order``, ``product``, ...) for one shop."""

    def __init__(self, api: ShopAPI, name: str) -> None:
        self._api = api
        self._name = name

    def _endpoint(self, method: str) -> Endpoint:
        endpoint = self._api.client.endpoints.get(f"{self._name}.{method}")
        if endpoint is None:
            known = ", ".join(self._methods()) or "none"
            raise AttributeError(
                f"{self._name} has no method {method!r}; it has: {known}. Add one with "
                f"TikTokShopClient(endpoints={{'{self._name}.{method}': 'VERB /path'}})."
            )
        return endpoint

    def _methods(self) -> list[str]:
        prefix = f"{self._name}."
        return sorted(n[len(prefix) :] for n in self._api.client.endpoints if n.startswith(prefix))

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        return functools.partial(self._api.call, self._endpoint(method))

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._methods()]

    def pages(
        self,
        method: str = "list",
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        params: Params = None,
    ) -> PageIterator:
        """Iterate over the pages of a list method, following ``next_page_token``.

        ``for page in api.order.pages(query={"page_size": 100}, body={...})`` gives
        :class:`~tiktok_pipeline.client.pagination.Page` objects; ``.items()`` gives the orders.
        """
        endpoint = self._endpoint(method)
        if endpoint.items_key is None:
            raise TypeError(f"{endpoint.name} is not a paginated list method")
        fetch = functools.partial(self._fetch_page, endpoint, body, params)
        return PageIterator(fetch, query, endpoint.items_key)

    def _fetch_page(self, endpoint, body, params, query) -> dict[str, Any]:
        return self._api.call(endpoint, query=query, body=body, params=params)

    def __repr__(self) -> str:
        return f"<{self._name} service: {', '.join(self._methods())}>"


class ShopAPI:
    """The TikTok Shop API for one shop (or, for ``authorization``/``seller``, one seller)."""

    def __init__(
        self,
        client: TikTokShopClient,
        credentials: CredentialSource,
        shop_id: str | None,
        *,
        limiter_key: str,
    ) -> None:
        self.client = client
        self.shop_id = shop_id
        self._credentials = credentials
        self._limiter = client.rate_limiter(limiter_key)

    @property
    def cipher(self) -> str | None:
        """The shop's cipher (sent as ``shop_cipher``)."""
        return self._credentials.current().cipher

    def __getattr__(self, name: str) -> Service:
        if name.startswith("_") or not any(e.startswith(f"{name}.") for e in self.client.endpoints):
            raise AttributeError(
                f"no API service {name!r}; services: {', '.join(self.client.services)}"
            )
        return Service(self, name)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.client.services]

    def call(
        self,
        endpoint: Endpoint | str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        params: Params = None,
    ) -> dict[str, Any]:
        """Call ``endpoint`` (an :class:`Endpoint` or a name such as ``"order.list"``).

        ``query`` becomes the query string and ``body`` the JSON body (None values dropped);
        ``params`` fills the path's placeholders, e.g. ``params={"order_id": "576..."}``.
        """
        if isinstance(endpoint, str):
            endpoint = Service(self, endpoint.partition(".")[0])._endpoint(
                endpoint.partition(".")[2]
            )
        path = endpoint.render_path(params)
        body_bytes = encode_body(body)
        credentials = self._credentials.current()
        # An invalid token (105001: revoked, or replaced elsewhere) gets the expired one's
        # treatment: one refresh; a dead refresh token then marks the seller needs_reauth.
        recoverable: tuple[type[TikTokAPIError], ...] = (
            (AccessTokenExpired, AccessTokenInvalid) if self._credentials.refreshable else ()
        )
        try:
            return self._send(endpoint, path, query, body_bytes, credentials, recoverable)
        except recoverable as error:
            try:
                renewed = self._credentials.renew(credentials.access_token)
            except Exception:
                self._announce(error)
                raise
            return self._send(endpoint, path, query, body_bytes, renewed)

    def _announce(self, error: TikTokAPIError) -> None:
        """Tell the failure observers of a token error that the refresh could not recover."""
        if error.failed_attempt is not None:
            self.client.transport.announce_failure(error.failed_attempt, error)

    def _send(
        self,
        endpoint: Endpoint,
        path: str,
        query: Mapping[str, Any] | None,
        body: bytes | None,
        credentials: Any,
        recoverable: tuple[type[TikTokAPIError], ...] = (),
    ) -> dict[str, Any]:
        params = encode_query(query)
        if endpoint.shop_cipher:
            if not credentials.cipher:
                who = f"shop {self.shop_id}" if self.shop_id else "this shop view"
                raise TikTokConfigurationError(
                    f"{endpoint.name} needs the shop's cipher and {who} has none: pass cipher= "
                    "to client.shop(), or authorize the shop so that the store knows it",
                    endpoint=endpoint.name,
                )
            params.setdefault("shop_cipher", credentials.cipher)
        call = Call(
            action=endpoint.name,
            method=endpoint.method,
            base_url=self.client.base_url,
            path=path,
            query=params,
            body=body,
            headers={"x-tts-access-token": credentials.access_token},
            shop_id=self.shop_id,
            idempotent=endpoint.idempotent,
        )
        return self.client.transport.send(
            call,
            limiter=self._limiter,
            secrets=(credentials.access_token,),
            recoverable=recoverable,
        )

    def __repr__(self) -> str:
        return f"<ShopAPI shop={self.shop_id or '(explicit token)'}>"
