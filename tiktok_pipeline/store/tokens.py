"""Seller authorizations, shops and their tokens: one valid access token per shop, on demand.

Tokens are stored once per authorization (``open_id``), never copied onto shops, so a rotated
refresh token cannot leave stale copies behind. Refreshes happen under a lease row lock so that
threads and processes sharing the database make one call to TikTok, not one each.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.client.errors import (
    REAUTHORIZE_HINT,
    InvalidResponse,
    ReauthorizationRequired,
    RefreshTokenInvalid,
    TikTokConfigurationError,
    TokenError,
    UnknownShopError,
)
from tiktok_pipeline.db import from_epoch, utcnow
from tiktok_pipeline.redaction import scrub
from tiktok_pipeline.store._sql import upsert_insert
from tiktok_pipeline.store.models import Authorization, Shop, ShopCredentials, ShopStatus
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t

log = logging.getLogger(__name__)

#: Given a refresh token, returns TikTok's token ``data`` (the shape of token/get's ``data``).
RefreshFn = Callable[[str], Mapping[str, Any]]

DEFAULT_MARGIN = timedelta(minutes=30)
#: How long one refresher may hold the lease before others may take it over.
LEASE_DURATION = timedelta(seconds=30)
LEASE_POLL_SECONDS = 0.05
#: How long a waiter waits for someone else's refresh before giving up.
LEASE_WAIT_SECONDS = 45.0

_AUTH_COLUMNS = [
    c for c in auth_t.c if c.name not in ("refresh_lease_owner", "refresh_lease_expires_at")
]


class UnknownAuthorizationError(TikTokConfigurationError, LookupError):
    """The token store has no authorization with this id."""


def _unknown_authorization(authorization_id: int) -> UnknownAuthorizationError:
    return UnknownAuthorizationError(
        f"no authorization with id {authorization_id} in the token store; "
        "`tiktok-pipeline shops list` shows the stored ones"
    )


def _authorization(row: Any) -> Authorization:
    m = row._mapping
    return Authorization(
        id=m["id"],
        open_id=m["open_id"],
        seller_name=m["seller_name"],
        seller_base_region=m["seller_base_region"],
        user_type=m["user_type"],
        granted_scopes=list(m["granted_scopes"] or []),
        access_token=m["access_token"],
        access_token_expires_at=m["access_token_expires_at"],
        refresh_token=m["refresh_token"],
        refresh_token_expires_at=m["refresh_token_expires_at"],
        status=ShopStatus(m["status"]),
        status_reason=m["status_reason"],
        authorized_at=m["authorized_at"],
        last_refreshed_at=m["last_refreshed_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        authorization_expires_at=m["authorization_expires_at"],
    )


def _shop(row: Any) -> Shop:
    m = row._mapping
    return Shop(
        id=m["id"],
        name=m["name"],
        code=m["code"],
        region=m["region"],
        seller_type=m["seller_type"],
        cipher=m["cipher"],
        authorization_id=m["authorization_id"],
        status=ShopStatus(m["status"]),
        status_reason=m["status_reason"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        deauthorized_at=m["deauthorized_at"],
    )


def _optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _scopes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [s for s in value.split(",") if s]
    return [str(s) for s in value]


def _status_values(statuses: Iterable[str] | None) -> list[str] | None:
    if statuses is None:
        return None
    if isinstance(statuses, str):
        statuses = [statuses]
    return [ShopStatus.parse(s).value for s in statuses]


class TokenStore:
    """Authorizations, shops and tokens in ``tiktok_authorizations`` and ``tiktok_shops``."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use ``engine`` (already migrated) for every query."""
        self.engine = engine

    # ---- authorizations and shops ------------------------------------------------------

    def save_authorization(
        self, token_data: Mapping[str, Any], shops: Sequence[Mapping[str, Any]]
    ) -> tuple[Authorization, list[Shop]]:
        """Store a seller's (re-)authorization and the shops it covers, in one transaction.

        Args:
            token_data: TikTok's token ``data`` (``access_token``, ``access_token_expire_in`` as
                absolute Unix seconds, ``refresh_token``, ``refresh_token_expire_in``,
                ``open_id``, ``seller_name``, ``seller_base_region``, ``user_type``,
                ``granted_scopes``).
            shops: ``data.shops`` of GET /authorization/202309/shops.

        Returns:
            The authorization and the listed shops, all active. Shops that were linked to this
            ``open_id`` before but are no longer listed are marked ``deauthorized``.
        """
        open_id = token_data.get("open_id")
        if not open_id:
            raise ValueError(
                "token data has no open_id: pass the `data` object of TikTok's token/get "
                "response (it carries open_id, access_token, refresh_token and their expiry)"
            )
        for key in ("access_token", "refresh_token"):
            if not token_data.get(key):
                raise ValueError(
                    f"token data has no {key}: pass the `data` object of TikTok's token/get "
                    "response"
                )
        shop_ids = []
        for shop in shops:
            if not shop.get("id"):
                raise ValueError(
                    "a shop without an id: pass `data.shops` of GET /authorization/202309/shops"
                )
            shop_ids.append(str(shop["id"]))
        now = utcnow()
        values = {
            "open_id": str(open_id),
            "seller_name": token_data.get("seller_name"),
            "seller_base_region": token_data.get("seller_base_region"),
            "user_type": _optional_int(token_data.get("user_type")),
            "granted_scopes": _scopes(token_data.get("granted_scopes")),
            "access_token": token_data["access_token"],
            "access_token_expires_at": from_epoch(token_data.get("access_token_expire_in")),
            "refresh_token": token_data["refresh_token"],
            "refresh_token_expires_at": from_epoch(token_data.get("refresh_token_expire_in")),
            "status": ShopStatus.ACTIVE.value,
            "status_reason": None,
            "authorized_at": now,
            # A new consent starts a new authorization period; TikTok warns again before it ends.
            "authorization_expires_at": None,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            insert = upsert_insert(conn, auth_t)
            statement = insert.values(created_at=now, **values).on_conflict_do_update(
                index_elements=[auth_t.c.open_id], set_=values
            )
            authorization_id = conn.execute(statement.returning(auth_t.c.id)).scalar_one()
            for shop in shops:
                shop_values = {
                    "name": shop.get("name"),
                    "code": shop.get("code"),
                    "region": shop.get("region"),
                    "seller_type": shop.get("seller_type"),
                    "cipher": shop.get("cipher"),
                    "authorization_id": authorization_id,
                    "status": ShopStatus.ACTIVE.value,
                    "status_reason": None,
                    "updated_at": now,
                    "deauthorized_at": None,
                }
                insert = upsert_insert(conn, shop_t)
                conn.execute(
                    insert.values(
                        id=str(shop["id"]), created_at=now, **shop_values
                    ).on_conflict_do_update(index_elements=[shop_t.c.id], set_=shop_values)
                )
            dropped = (
                sa.update(shop_t)
                .where(shop_t.c.authorization_id == authorization_id)
                .where(shop_t.c.status != ShopStatus.DEAUTHORIZED.value)
            )
            if shop_ids:
                dropped = dropped.where(shop_t.c.id.not_in(shop_ids))
            result = conn.execute(
                dropped.values(
                    status=ShopStatus.DEAUTHORIZED.value,
                    status_reason=(
                        f"not in the seller's authorization of {now:%Y-%m-%d %H:%M} UTC "
                        f"(open_id {open_id}); the seller must authorize this shop again"
                    ),
                    deauthorized_at=now,
                    updated_at=now,
                )
            )
            if result.rowcount:
                log.info(
                    "authorization %s (open_id %s) no longer covers %d shop(s): deauthorized",
                    authorization_id,
                    open_id,
                    result.rowcount,
                )
        log.info(
            "saved authorization %s (open_id %s) for shops %s",
            authorization_id,
            open_id,
            ", ".join(shop_ids) or "(none)",
        )
        authorization = self.get_authorization(authorization_id)
        return authorization, [self.get_shop(shop_id) for shop_id in shop_ids]

    def get_shop(self, shop_id: str) -> Shop:
        """The shop with this TikTok shop id; UnknownShopError (naming the known ids) if none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(shop_t).where(shop_t.c.id == str(shop_id))).first()
            if row is None:
                raise self._unknown_shop(conn, shop_id)
        return _shop(row)

    @staticmethod
    def _unknown_shop(conn: sa.Connection, shop_id: str) -> UnknownShopError:
        """The error for a shop id the store lacks, naming the shops it has."""
        known = conn.execute(sa.select(shop_t.c.id).order_by(shop_t.c.id)).scalars().all()
        listed = ", ".join(known[:20])
        if len(known) > 20:
            listed += f" (and {len(known) - 20} more)"
        return UnknownShopError(
            f"no shop {str(shop_id)!r} in the token store "
            f"(known shops: {listed or 'none'}); "
            f"to add it, {REAUTHORIZE_HINT}, or check TIKTOK_SHOP_ID / the shop id you passed"
        )

    def list_shops(self, statuses: Iterable[str] | None = None) -> list[Shop]:
        """All shops (optionally only those with one of ``statuses``), ordered by id."""
        query = sa.select(shop_t).order_by(shop_t.c.id)
        wanted = _status_values(statuses)
        if wanted is not None:
            query = query.where(shop_t.c.status.in_(wanted))
        with self.engine.connect() as conn:
            return [_shop(row) for row in conn.execute(query)]

    def get_authorization(self, authorization_id: int) -> Authorization:
        """The authorization with this id; UnknownAuthorizationError if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*_AUTH_COLUMNS).where(auth_t.c.id == authorization_id)
            ).first()
        if row is None:
            raise _unknown_authorization(authorization_id)
        return _authorization(row)

    def list_authorizations(self, statuses: Iterable[str] | None = None) -> list[Authorization]:
        """All authorizations (optionally only those with one of ``statuses``), ordered by id."""
        query = sa.select(*_AUTH_COLUMNS).order_by(auth_t.c.id)
        wanted = _status_values(statuses)
        if wanted is not None:
            query = query.where(auth_t.c.status.in_(wanted))
        with self.engine.connect() as conn:
            return [_authorization(row) for row in conn.execute(query)]

    def set_authorization_status(
        self, authorization_id: int, status: str, reason: str | None = None
    ) -> None:
        """Set an authorization's status and its shops' status.

        ``deauthorized`` applies to every shop of the authorization; ``needs_reauth`` to its
        active shops; going back to ``active`` reactivates the shops that were
        ``needs_reauth``. Shops that left the seller's consent (``deauthorized``) come back only
        with a new authorization.
        """
        new = ShopStatus.parse(status)
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == authorization_id)
                .values(status=new.value, status_reason=reason, updated_at=now)
            )
            if result.rowcount == 0:
                raise _unknown_authorization(authorization_id)
            shops = sa.update(shop_t).where(shop_t.c.authorization_id == authorization_id)
            if new is ShopStatus.ACTIVE:
                shops = shops.where(shop_t.c.status == ShopStatus.NEEDS_REAUTH.value)
            elif new is ShopStatus.NEEDS_REAUTH:
                shops = shops.where(shop_t.c.status == ShopStatus.ACTIVE.value)
            conn.execute(shops.values(**self._shop_status_values(new, reason, now)))
        log.info("authorization %s is now %s", authorization_id, new.value)

    def set_shop_status(self, shop_id: str, status: str, reason: str | None = None) -> None:
        """Set one shop's status (UnknownShopError if the store has no such shop)."""
        new = ShopStatus.parse(status)
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(shop_t)
                .where(shop_t.c.id == str(shop_id))
                .values(**self._shop_status_values(new, reason, utcnow()))
            )
            if result.rowcount == 0:
                raise self._unknown_shop(conn, shop_id)
        log.info("shop %s is now %s", shop_id, new.value)

    @staticmethod
    def _shop_status_values(new: ShopStatus, reason: str | None, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"status": new.value, "status_reason": reason, "updated_at": now}
        if new is ShopStatus.DEAUTHORIZED:
            values["deauthorized_at"] = now
        elif new is ShopStatus.ACTIVE:
            values["deauthorized_at"] = None
        return values

    def record_authorization_expiry(self, shop_id: str, expires_at: datetime) -> None:
        """Remember when TikTok says the authorization behind ``shop_id`` expires (webhook 7).

        TikTok's UPCOMING_AUTHORIZATION_EXPIRATION push names one shop; the time is stored on
        the shop's authorization (one per seller), so every shop of that seller shows it. A new
        authorization clears it. Raises UnknownShopError for a shop the store does not know; a
        shop without an authorization is skipped with a warning (it must be authorized anyway).
        """
        if expires_at.tzinfo is None:
            raise ValueError(
                f"naive datetime {expires_at!r}: pass an aware UTC datetime, e.g. "
                "tiktok_pipeline.db.from_epoch(data['expiration_time'])"
            )
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(shop_t.c.authorization_id).where(shop_t.c.id == str(shop_id))
            ).first()
            if row is None:
                raise self._unknown_shop(conn, shop_id)
            if row.authorization_id is None:
                log.warning(
                    "shop %s has no stored authorization; its expiry warning (%s) is not recorded",
                    shop_id,
                    expires_at.isoformat(),
                )
                return
            conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == row.authorization_id)
                .values(authorization_expires_at=expires_at, updated_at=utcnow())
            )
        log.info(
            "authorization %s (shop %s) expires at %s according to TikTok",
            row.authorization_id,
            shop_id,
            expires_at.isoformat(),
        )

    def expired_authorizations(self, now: datetime | None = None) -> list[Authorization]:
        """Authorizations whose refresh token expired before ``now``: nothing can refresh them.

        Authorizations whose refresh token expiry is unknown are never listed.
        """
        cutoff = now or utcnow()
        query = (
            sa.select(*_AUTH_COLUMNS)
            .where(auth_t.c.refresh_token_expires_at.is_not(None))
            .where(auth_t.c.refresh_token_expires_at < cutoff)
            .order_by(auth_t.c.id)
        )
        with self.engine.connect() as conn:
            return [_authorization(row) for row in conn.execute(query)]

    def delete_expired_authorizations(
        self, authorization_ids: Iterable[int], *, now: datetime | None = None
    ) -> dict[int, list[str]]:
        """Delete those of these authorizations whose refresh token expired before ``now``.

        The expiry is checked again inside the transaction, so an authorization the seller
        renewed in the meantime stays. The deleted authorizations' shops are kept, unlinked,
        and marked ``needs_reauth`` (``deauthorized`` shops stay so): they are still the
        user's shops and only a new consent brings them back.

        Returns:
            The deleted authorization ids, each with the ids of the shops it had.
        """
        ids = [int(i) for i in authorization_ids]
        if not ids:
            return {}
        cutoff = now or utcnow()
        expired = (
            sa.select(auth_t.c.id, auth_t.c.open_id, auth_t.c.refresh_token_expires_at)
            .where(auth_t.c.id.in_(ids))
            .where(auth_t.c.refresh_token_expires_at.is_not(None))
            .where(auth_t.c.refresh_token_expires_at < cutoff)
            .order_by(auth_t.c.id)
            .with_for_update()  # a concurrent re-authorization waits for us, then re-inserts
        )
        stamp = utcnow()
        with self.engine.begin() as conn:
            rows = conn.execute(expired).all()
            if not rows:
                return {}
            found = [row.id for row in rows]
            shops: dict[int, list[str]] = {row.id: [] for row in rows}
            for shop_id, authorization_id in conn.execute(
                sa.select(shop_t.c.id, shop_t.c.authorization_id)
                .where(shop_t.c.authorization_id.in_(found))
                .order_by(shop_t.c.id)
            ):
                shops[authorization_id].append(shop_id)
            for row in rows:
                if not shops[row.id]:
                    continue
                reason = (
                    f"its authorization (open_id {row.open_id}) was removed because the refresh "
                    f"token expired at {row.refresh_token_expires_at:%Y-%m-%d %H:%M} UTC; "
                    f"{REAUTHORIZE_HINT}"
                )
                conn.execute(
                    sa.update(shop_t)
                    .where(shop_t.c.authorization_id == row.id)
                    .where(shop_t.c.status != ShopStatus.DEAUTHORIZED.value)
                    .values(
                        status=ShopStatus.NEEDS_REAUTH.value, status_reason=reason, updated_at=stamp
                    )
                )
            conn.execute(
                sa.update(shop_t)
                .where(shop_t.c.authorization_id.in_(found))
                .values(authorization_id=None, updated_at=stamp)
            )
            conn.execute(sa.delete(auth_t).where(auth_t.c.id.in_(found)))
        log.info(
            "removed %d authorization(s) whose refresh token expired: %s",
            len(found),
            ", ".join(str(i) for i in found),
        )
        return shops

    # ---- tokens -------------------------------------------------------------------------

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
                raise self._unknown_shop(conn, shop_id)
            if row.authorization_id is not None:
                auth_row = conn.execute(
                    sa.select(*_AUTH_COLUMNS).where(auth_t.c.id == row.authorization_id)
                ).first()
        shop = _shop(row)
        if shop.status is not ShopStatus.ACTIVE:
            raise self._reauthorization_required(shop, shop.status, shop.status_reason)
        if auth_row is None:
            raise self._reauthorization_required(shop, None, "it has no stored authorization")
        authorization = _authorization(auth_row)
        if authorization.status is not ShopStatus.ACTIVE:
            raise self._reauthorization_required(
                shop, authorization.status, authorization.status_reason
            )
        if _needs_refresh(authorization, None, False, margin, utcnow()):
            try:
                authorization = self.refresh(authorization.id, refresh=refresh, margin=margin)
            except ReauthorizationRequired as exc:  # another process found the token dead
                raise self._reauthorization_required(shop, None, exc.message) from exc
        return ShopCredentials(
            shop_id=shop.id,
            cipher=shop.cipher,
            access_token=authorization.access_token,
            expires_at=authorization.access_token_expires_at,
            authorization_id=authorization.id,
        )

    @staticmethod
    def _reauthorization_required(
        shop: Shop, status: ShopStatus | None, reason: str | None
    ) -> ReauthorizationRequired:
        label = f"{shop.id} ({shop.name})" if shop.name else shop.id
        state = f"is {status.value}" if status is not None else "cannot be used"
        detail = f": {reason}" if reason else ""
        exc = ReauthorizationRequired(f"shop {label} {state}{detail}")
        exc.shop_id = shop.id  # type: ignore[attr-defined]
        return exc

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
        owner = _lease_owner()
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        seen_token: str | None = None
        while True:
            authorization = self.get_authorization(authorization_id)
            self._require_active(authorization)
            if seen_token is None:
                seen_token = authorization.access_token
            elif authorization.access_token != seen_token:
                return authorization  # another caller refreshed while we waited
            if not _needs_refresh(authorization, stale_access_token, force, margin, utcnow()):
                return authorization
            if self._acquire_lease(authorization_id, owner):
                try:
                    return self._refresh_under_lease(
                        authorization_id, refresh, stale_access_token, force, margin, seen_token
                    )
                finally:
                    self._release_lease(authorization_id, owner)
            self._wait_for_lease(authorization_id, deadline)

    def _refresh_under_lease(
        self,
        authorization_id: int,
        refresh: RefreshFn,
        stale_access_token: str | None,
        force: bool,
        margin: timedelta,
        seen_token: str,
    ) -> Authorization:
        authorization = self.get_authorization(authorization_id)
        self._require_active(authorization)
        if authorization.access_token != seen_token:
            return authorization
        if not _needs_refresh(authorization, stale_access_token, force, margin, utcnow()):
            return authorization
        log.info("refreshing the access token of authorization %s", authorization_id)
        try:
            data = refresh(authorization.refresh_token)
        except RefreshTokenInvalid as exc:
            reason = _failure_reason(exc, authorization)
            self.set_authorization_status(authorization_id, ShopStatus.NEEDS_REAUTH, reason)
            log.warning("authorization %s needs re-authorization: %s", authorization_id, reason)
            raise
        values = self._refreshed_values(data, authorization)
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == authorization_id)
                .where(auth_t.c.refresh_token == authorization.refresh_token)
                .values(**values)
            )
        if result.rowcount == 0:
            # Re-authorized (new tokens) while we were refreshing: theirs are newer, keep them.
            log.warning(
                "authorization %s changed during the refresh; kept the stored tokens",
                authorization_id,
            )
        return self.get_authorization(authorization_id)

    @staticmethod
    def _refreshed_values(data: Mapping[str, Any], old: Authorization) -> dict[str, Any]:
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
            values["granted_scopes"] = _scopes(data["granted_scopes"])
        return values

    def _require_active(self, authorization: Authorization) -> None:
        if authorization.status is ShopStatus.ACTIVE:
            return
        detail = f": {authorization.status_reason}" if authorization.status_reason else ""
        raise ReauthorizationRequired(
            f"authorization {authorization.id} (open_id {authorization.open_id}, "
            f"{authorization.seller_name or 'unnamed seller'}) is "
            f"{authorization.status.value}{detail}"
        )

    def _acquire_lease(self, authorization_id: int, owner: str) -> bool:
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == authorization_id)
                .where(
                    sa.or_(
                        auth_t.c.refresh_lease_owner.is_(None),
                        auth_t.c.refresh_lease_expires_at < now,
                    )
                )
                .values(refresh_lease_owner=owner, refresh_lease_expires_at=now + LEASE_DURATION)
            )
        return result.rowcount == 1

    def _release_lease(self, authorization_id: int, owner: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(auth_t)
                    .where(auth_t.c.id == authorization_id)
                    .where(auth_t.c.refresh_lease_owner == owner)
                    .values(refresh_lease_owner=None, refresh_lease_expires_at=None)
                )
        except sa.exc.SQLAlchemyError as exc:
            # The lease expires on its own; do not hide the caller's real outcome.
            log.warning(
                "could not release the refresh lease of authorization %s (%s); it expires in %ss",
                authorization_id,
                type(exc).__name__,
                int(LEASE_DURATION.total_seconds()),
            )

    def _wait_for_lease(self, authorization_id: int, deadline: float) -> None:
        query = sa.select(auth_t.c.refresh_lease_owner, auth_t.c.refresh_lease_expires_at).where(
            auth_t.c.id == authorization_id
        )
        while True:
            time.sleep(LEASE_POLL_SECONDS)
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
            if row is None or row.refresh_lease_owner is None:
                return
            if row.refresh_lease_expires_at is None or row.refresh_lease_expires_at < utcnow():
                return
            if time.monotonic() > deadline:
                raise TokenError(
                    f"gave up after {LEASE_WAIT_SECONDS:.0f}s waiting for another process "
                    f"({row.refresh_lease_owner}) to refresh authorization {authorization_id}",
                    hint="retry the call; if it keeps happening, check that process",
                )


def _needs_refresh(
    authorization: Authorization,
    stale_access_token: str | None,
    force: bool,
    margin: timedelta,
    now: datetime,
) -> bool:
    if stale_access_token is not None:
        # TikTok rejected this token: refresh unless someone already replaced it.
        return authorization.access_token == stale_access_token
    if force:
        return True
    expires_at = authorization.access_token_expires_at
    return expires_at is not None and expires_at <= now + margin


def _failure_reason(exc: RefreshTokenInvalid, authorization: Authorization) -> str:
    code = f"{exc.code} " if exc.code is not None else ""
    reason = f"token refresh rejected by TikTok: {code}{exc.message}"
    return scrub(reason, [authorization.access_token, authorization.refresh_token])


def _lease_owner() -> str:
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    return owner[-255:]
