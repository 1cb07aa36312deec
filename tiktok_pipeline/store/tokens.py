"""The token store: seller authorizations, their shops and one valid access token per shop.

:class:`TokenStore` is the face the rest of the project uses (``Store(...).tokens``). Its parts:

- :mod:`tiktok_pipeline.store.authorizations`: the records of authorizations and shops;
- :mod:`tiktok_pipeline.store.refresh`: credentials on demand and the refresh itself;
- :mod:`tiktok_pipeline.store.lease`: the lease that makes one refresh per authorization
  across threads and processes;
- :mod:`tiktok_pipeline.store.encryption`: the tokens' encryption at rest (``TIKTOK_TOKEN_KEY``).

It is the client's credentials provider:
``TikTokShopClient(..., credentials=store.tokens)`` takes shops' tokens from it.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tiktok_pipeline.store.authorization_rows import UnknownAuthorizationError
from tiktok_pipeline.store.authorizations import AuthorizationRecords
from tiktok_pipeline.store.encryption import TokenCipher
from tiktok_pipeline.store.lease import LEASE_DURATION
from tiktok_pipeline.store.models import Authorization, ShopCredentials
from tiktok_pipeline.store.refresh import DEFAULT_MARGIN, RefreshFn, TokenRefresher

__all__ = ["DEFAULT_MARGIN", "RefreshFn", "TokenStore", "UnknownAuthorizationError"]


class TokenStore(AuthorizationRecords):
    """Authorizations, shops and tokens in ``tiktok_authorizations`` and ``tiktok_shops``."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        lease_duration: timedelta = LEASE_DURATION,
        cipher: TokenCipher | None = None,
    ) -> None:
        """Use ``engine`` (already migrated) for every query; refresh leases last
        ``lease_duration`` unless renewed; tokens are encrypted with ``cipher`` (default: the
        key of ``TIKTOK_TOKEN_KEY``, or the embedded default's key file)."""
        super().__init__(engine, cipher=cipher)
        self._refresher = TokenRefresher(self, lease_duration=lease_duration)

    def credentials(
        self, shop_id: str, *, refresh: RefreshFn, margin: timedelta = DEFAULT_MARGIN
    ) -> ShopCredentials:
        """A valid access token and the cipher for a shop, refreshing first when needed.

        See :meth:`tiktok_pipeline.store.refresh.TokenRefresher.credentials`.
        """
        return self._refresher.credentials(shop_id, refresh=refresh, margin=margin)

    def refresh(
        self,
        authorization_id: int,
        *,
        refresh: RefreshFn,
        stale_access_token: str | None = None,
        force: bool = False,
        margin: timedelta = DEFAULT_MARGIN,
    ) -> Authorization:
        """Refresh an authorization's tokens, at most once across threads and processes.

        See :meth:`tiktok_pipeline.store.refresh.TokenRefresher.refresh`.
        """
        return self._refresher.refresh(
            authorization_id,
            refresh=refresh,
            stale_access_token=stale_access_token,
            force=force,
            margin=margin,
        )
