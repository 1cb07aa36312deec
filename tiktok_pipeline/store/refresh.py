"""One valid access token per shop, on demand: refreshed near expiry, once per authorization.

The refresh runs under the authorization's :class:`~tiktok_pipeline.store.lease.RefreshLease`,
renewed while TikTok answers, so that threads and processes sharing the database make one call
to TikTok, not one each. Every write is fenced: the rotated tokens are stored with a
compare-and-set on the refresh token they replace, and a refresh token found dead marks the
seller ``needs_reauth`` only if it is still the stored one and the lease is still ours (tokens
are stored encrypted: :mod:`tiktok_pipeline.store.fencing` compares them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import from_epoch, utcnow
from tiktok_pipeline.errors import InvalidResponse, ReauthorizationRequired, RefreshTokenInvalid
from tiktok_pipeline.redaction import scrub
from tiktok_pipeline.store.authorization_rows import (
    AUTH_COLUMNS,
    authorization_from_row,
    inactive_authorization,
    scopes,
    shop_from_row,
    unknown_shop,
    unusable_shop,
)
from tiktok_pipeline.store.authorizations import AuthorizationRecords
from tiktok_pipeline.store.fencing import update_if_current
from tiktok_pipeline.store.lease import LEASE_DURATION, LEASE_WAIT_SECONDS, RefreshLease
from tiktok_pipeline.store.models import Authorization, ShopCredentials, ShopStatus
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t

log = logging.getLogger(__name__)

#: Given a refresh token, returns TikTok's token ``data`` (the shape of token/get's ``data``).
RefreshFn = Callable[[str], Mapping[str, Any]]

#: Refresh an access token this long before it expires, unless the caller says otherwise.
DEFAULT_MARGIN = timedelta(minutes=30)


class TokenRefresher:
    """Hands out shops' credentials and refreshes authorizations' tokens.

    Args:
        records: the authorizations and shops whose tokens it keeps valid.
        lease_duration: how long a refresh lease holds unless its holder renews it.
    """

    def __init__(
        self, records: AuthorizationRecords, *, lease_duration: timedelta = LEASE_DURATION
    ) -> None:
        self.records = records
        self.engine = records.engine
        self.lease_duration = lease_duration

    def credentials(
        self, shop_id: str, *, refresh: RefreshFn, margin: timedelta = DEFAULT_MARGIN
    ) -> ShopCredentials:
        """A valid access token and the cipher for a shop, refreshing first when needed.

        The token is refreshed when it expires within ``margin``. Raises
        ReauthorizationRequired when the shop or its authorization needs the seller to
        authorize again, RefreshTokenInvalid when TikTok rejects the refresh token (the shop
        is then ``needs_reauth``), and UnknownShopError for a shop the store does not know.
        """
        query = sa.select(shop_t).where(shop_t.c.id == str(shop_id))
        auth_row = None
        with self.engine.connect() as conn:  # one connection: this runs before every API call
            row = conn.execute(query).first()
            if row is None:
                raise unknown_shop(conn, shop_id)
            if row.authorization_id is not None:
                auth_row = conn.execute(
                    sa.select(*AUTH_COLUMNS).where(auth_t.c.id == row.authorization_id)
                ).first()
        shop = shop_from_row(row)
        if shop.status is not ShopStatus.ACTIVE:
            raise unusable_shop(shop, shop.status, shop.status_reason)
        if auth_row is None:
            raise unusable_shop(shop, None, "it has no stored authorization")
        authorization = authorization_from_row(auth_row, self.records.cipher)
        if authorization.status is not ShopStatus.ACTIVE:
            raise unusable_shop(shop, authorization.status, authorization.status_reason)
        if needs_refresh(authorization, None, False, margin, utcnow()):
            try:
                authorization = self.refresh(authorization.id, refresh=refresh, margin=margin)
            except ReauthorizationRequired as exc:  # another process found the token dead
                raise unusable_shop(shop, None, exc.message) from exc
        return ShopCredentials(
            shop_id=shop.id,
            cipher=shop.cipher,
            access_token=authorization.access_token,
            expires_at=authorization.access_token_expires_at,
            authorization_id=authorization.id,
        )

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

        The caller that wins the lease calls ``refresh``; the others wait for it and return
        the tokens it stored. No call is made when the token does not need it: it is not
        within ``margin`` of expiry (unless ``force``), or ``stale_access_token`` (the token
        TikTok just rejected) is no longer the stored one.

        Raises:
            RefreshTokenInvalid: TikTok rejected the refresh token; the authorization and its
                shops are now ``needs_reauth``.
            ReauthorizationRequired: the authorization is not active.
        """
        lease = RefreshLease(self.engine, authorization_id, duration=self.lease_duration)
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        seen_token: str | None = None
        while True:
            authorization = self._active_authorization(authorization_id)
            if seen_token is None:
                seen_token = authorization.access_token
            elif authorization.access_token != seen_token:
                return authorization  # another caller refreshed while we waited
            if not needs_refresh(authorization, stale_access_token, force, margin, utcnow()):
                return authorization
            if lease.acquire():
                try:
                    return self._refresh_under_lease(
                        lease, refresh, stale_access_token, force, margin, seen_token
                    )
                finally:
                    lease.release()
            lease.wait_for_release(deadline)

    def _active_authorization(self, authorization_id: int) -> Authorization:
        authorization = self.records.get_authorization(authorization_id)
        if authorization.status is not ShopStatus.ACTIVE:
            raise inactive_authorization(authorization)
        return authorization

    def _refresh_under_lease(
        self,
        lease: RefreshLease,
        refresh: RefreshFn,
        stale_access_token: str | None,
        force: bool,
        margin: timedelta,
        seen_token: str,
    ) -> Authorization:
        authorization_id = lease.authorization_id
        authorization = self._active_authorization(authorization_id)
        if authorization.access_token != seen_token:
            return authorization
        if not needs_refresh(authorization, stale_access_token, force, margin, utcnow()):
            return authorization
        log.info("refreshing the access token of authorization %s", authorization_id)
        try:
            with lease.kept():
                data = refresh(authorization.refresh_token)
        except RefreshTokenInvalid as exc:
            reason = _failure_reason(exc, authorization)
            if not self.records.mark_needs_reauth_if_current(
                authorization_id, authorization.refresh_token, lease.owner, reason
            ):
                # Someone else stored newer tokens (or took the lease) meanwhile: the token
                # TikTok rejected was already replaced, so the seller is fine.
                log.warning(
                    "authorization %s: the refresh token was replaced during the refresh; "
                    "kept the stored tokens",
                    authorization_id,
                )
                return self._active_authorization(authorization_id)
            log.warning("authorization %s needs re-authorization: %s", authorization_id, reason)
            raise
        values = refreshed_values(data)
        cipher = self.records.cipher
        for column in ("access_token", "refresh_token"):
            if column in values:
                values[column] = cipher.encrypt(str(values[column]))
        if not update_if_current(
            self.engine, cipher, authorization_id, authorization.refresh_token, values
        ):
            # Re-authorized (new tokens) while we were refreshing: theirs are newer, keep them.
            log.warning(
                "authorization %s changed during the refresh; kept the stored tokens",
                authorization_id,
            )
        return self.records.get_authorization(authorization_id)


def refreshed_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The columns to store from TikTok's refresh ``data`` (InvalidResponse without a token)."""
    if not isinstance(data, Mapping) or not data.get("access_token"):
        raise InvalidResponse(
            "the token refresh returned no access_token", endpoint="auth.refresh_token"
        )
    now = utcnow()
    values: dict[str, Any] = {
        "access_token": data["access_token"],
        "access_token_expires_at": from_epoch(data.get("access_token_expire_in")),
        "last_refreshed_at": now,
        "updated_at": now,
    }
    if data.get("refresh_token"):
        values["refresh_token"] = data["refresh_token"]
        if data.get("refresh_token_expire_in") is not None:
            values["refresh_token_expires_at"] = from_epoch(data["refresh_token_expire_in"])
    for key in ("seller_name", "seller_base_region"):
        if data.get(key):
            values[key] = data[key]
    if data.get("user_type") not in (None, ""):
        values["user_type"] = int(data["user_type"])
    if data.get("granted_scopes") is not None:
        values["granted_scopes"] = scopes(data["granted_scopes"])
    return values


def needs_refresh(
    authorization: Authorization,
    stale_access_token: str | None,
    force: bool,
    margin: timedelta,
    now: datetime,
) -> bool:
    """True when the access token must be refreshed now.

    A ``stale_access_token`` (TikTok just rejected it) needs a refresh unless it was already
    replaced; otherwise ``force``, or a token that expires within ``margin`` of ``now``.
    """
    if stale_access_token is not None:
        return authorization.access_token == stale_access_token
    if force:
        return True
    expires_at = authorization.access_token_expires_at
    return expires_at is not None and expires_at <= now + margin


def _failure_reason(exc: RefreshTokenInvalid, authorization: Authorization) -> str:
    code = f"{exc.code} " if exc.code is not None else ""
    reason = f"token refresh rejected by TikTok: {code}{exc.message}"
    return scrub(reason, [authorization.access_token, authorization.refresh_token])
