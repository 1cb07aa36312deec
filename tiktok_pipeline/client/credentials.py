"""Where a shop view gets its access token and cipher: given explicitly, or from the token store."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


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

    def renew(self, expired_access_token: str) -> Credentials:
        """Credentials after TikTok rejected ``expired_access_token`` as expired."""


class StaticCredentials:
    """Credentials a caller passed in (scripts that keep tokens elsewhere); never refreshed."""

    refreshable = False

    def __init__(self, access_token: str, cipher: str | None) -> None:
        if not access_token:
            raise ValueError("access_token is empty")
        self._credentials = Credentials(access_token, cipher)

    def current(self) -> Credentials:
        return self._credentials

    def renew(self, expired_access_token: str) -> Credentials:
        raise NotImplementedError("explicit credentials cannot be refreshed")


class StoreCredentials:
    """A shop's credentials from the token store, refreshed before they expire.

    The token is cached in memory until ``margin`` before its expiry, so a busy shop does not
    read the database on every call; the store makes sure one refresh happens per authorization
    across threads and processes.
    """

    refreshable = True

    def __init__(
        self,
        token_store: Any,
        shop_id: str,
        refresh: Callable[[str], Mapping[str, Any]],
        margin: timedelta,
    ) -> None:
        self._tokens = token_store
        self.shop_id = shop_id
        self._refresh = refresh
        self._margin = margin
        self._cached: Credentials | None = None
        self._authorization_id: int | None = None
        self._lock = threading.Lock()

    def current(self) -> Credentials:
        with self._lock:
            cached = self._cached
            if (
                cached is not None
                and cached.expires_at is not None
                and cached.expires_at - self._margin > datetime.now(UTC)
            ):
                return cached
            found = self._tokens.credentials(
                self.shop_id, refresh=self._refresh, margin=self._margin
            )
            return self._remember(found)

    def renew(self, expired_access_token: str) -> Credentials:
        # Always called after current(), which remembered the authorization and the cipher.
        with self._lock:
            authorization = self._tokens.refresh(
                self._authorization_id,
                refresh=self._refresh,
                stale_access_token=expired_access_token,
            )
            self._cached = Credentials(
                authorization.access_token,
                self._cached.cipher,
                authorization.access_token_expires_at,
            )
            return self._cached

    def _remember(self, found: Any) -> Credentials:
        self._authorization_id = found.authorization_id
        self._cached = Credentials(found.access_token, found.cipher, found.expires_at)
        return self._cached
