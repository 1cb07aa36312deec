"""Where a shop view gets its access token and cipher: given explicitly, or from a provider.

A :class:`CredentialsProvider` is what ``TikTokShopClient(credentials=...)`` takes so that
``client.shop("7010123456")`` finds the shop's cipher and a valid token by id. The token store
(``tiktok_pipeline.store.Store(...).tokens``) is one; the client only knows this protocol, never
the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

#: Given a refresh token, returns TikTok's token ``data`` (the shape of token/get's ``data``).
RefreshFn = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class Credentials:
    """An access token and the shop's cipher (None for calls that need no shop)."""

    access_token: str = field(repr=False)
    cipher: str | None = None
    expires_at: datetime | None = None


class CredentialSource(Protocol):
    """Gives the current credentials, and fresh ones after TikTok said the token expired."""

    refreshable: bool

    def current(self) -> Credentials:
        """Credentials to use now."""
        ...

    def renew(self, expired_access_token: str) -> Credentials:
        """Credentials after TikTok rejected ``expired_access_token`` as expired."""
        ...


class ProvidedCredentials(Protocol):
    """A shop's credentials as a provider hands them out (the store's ``ShopCredentials``)."""

    @property
    def cipher(self) -> str | None:
        """The shop's cipher."""
        ...

    @property
    def access_token(self) -> str:
        """An access token valid for at least the margin asked for."""
        ...

    @property
    def expires_at(self) -> datetime | None:
        """When the access token expires (None: unknown)."""
        ...

    @property
    def authorization_id(self) -> int:
        """The seller authorization the token belongs to (what :meth:`refresh` takes)."""
        ...


class RefreshedTokens(Protocol):
    """An authorization's tokens after a refresh (the store's ``Authorization``)."""

    @property
    def access_token(self) -> str:
        """The access token now stored."""
        ...

    @property
    def access_token_expires_at(self) -> datetime | None:
        """When it expires (None: unknown)."""
        ...


class CredentialsProvider(Protocol):
    """Keeps shops' ciphers and tokens and refreshes tokens through the client's ``refresh``.

    ``tiktok_pipeline.store.TokenStore`` implements it, making one refresh per seller
    authorization across threads and processes.
    """

    def get_shop(self, shop_id: str) -> object:
        """The shop, or ``UnknownShopError`` naming the known ones."""
        ...

    def find_shop(self, *, code: str | None = None, name: str | None = None) -> Any:
        """The one shop (with an ``id``) with this shop code or name; ``UnknownShopError``
        otherwise."""
        ...

    def credentials(
        self, shop_id: str, *, refresh: RefreshFn, margin: timedelta
    ) -> ProvidedCredentials:
        """The shop's cipher and an access token valid for ``margin`` at least."""
        ...

    def refresh(
        self,
        authorization_id: int,
        *,
        refresh: RefreshFn,
        stale_access_token: str | None = None,
    ) -> RefreshedTokens:
        """Replace ``stale_access_token`` (TikTok rejected it), unless someone already did."""
        ...


class StaticCredentials:
    """Credentials a caller passed in (scripts that keep tokens elsewhere); never refreshed."""

    refreshable = False

    def __init__(self, access_token: str, cipher: str | None) -> None:
        """Use ``access_token`` (and ``cipher``, for shop-scoped calls) for every call."""
        if not access_token:
            raise ValueError("access_token is empty")
        self._credentials = Credentials(access_token, cipher)

    def current(self) -> Credentials:
        """The credentials given."""
        return self._credentials

    def renew(self, expired_access_token: str) -> Credentials:
        """Explicit credentials cannot be refreshed: always raises NotImplementedError."""
        raise NotImplementedError("explicit credentials cannot be refreshed")


class StoreCredentials:
    """A shop's credentials from a :class:`CredentialsProvider`, refreshed before they expire.

    The token is cached in memory until ``margin`` before its expiry, so a busy shop does not
    ask the provider (a database read) on every call; the provider makes sure one refresh
    happens per authorization across threads and processes.
    """

    refreshable = True

    def __init__(
        self,
        provider: CredentialsProvider,
        shop_id: str,
        refresh: RefreshFn,
        margin: timedelta,
    ) -> None:
        """Credentials of ``shop_id``, refreshed with ``refresh`` ``margin`` before expiry."""
        self._provider = provider
        self.shop_id = shop_id
        self._refresh = refresh
        self._margin = margin
        self._cached: Credentials | None = None
        self._authorization_id: int | None = None
        self._lock = threading.Lock()

    def current(self) -> Credentials:
        """The cached credentials while they are valid for ``margin``; the provider's otherwise."""
        with self._lock:
            cached = self._cached
            if (
                cached is not None
                and cached.expires_at is not None
                and cached.expires_at - self._margin > datetime.now(UTC)
            ):
                return cached
            found = self._provider.credentials(
                self.shop_id, refresh=self._refresh, margin=self._margin
            )
            return self._remember(found)

    def renew(self, expired_access_token: str) -> Credentials:
        """Fresh credentials after TikTok rejected ``expired_access_token``."""
        with self._lock:
            cached, authorization_id = self._cached, self._authorization_id
            if cached is None or authorization_id is None:
                raise RuntimeError("renew() needs a token from current() first")
            tokens = self._provider.refresh(
                authorization_id,
                refresh=self._refresh,
                stale_access_token=expired_access_token,
            )
            self._cached = Credentials(
                tokens.access_token, cached.cipher, tokens.access_token_expires_at
            )
            return self._cached

    def _remember(self, found: ProvidedCredentials) -> Credentials:
        self._authorization_id = found.authorization_id
        self._cached = Credentials(found.access_token, found.cipher, found.expires_at)
        return self._cached
