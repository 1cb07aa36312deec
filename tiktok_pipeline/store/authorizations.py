"""Seller authorizations and their shops: saved on consent, looked up, marked, expired, removed.

Tokens are stored once per authorization (``open_id``), never copied onto shops, so a rotated
refresh token cannot leave stale copies behind, and encrypted
(:mod:`tiktok_pipeline.store.encryption`). Getting a valid token is the refresh's business
(:mod:`tiktok_pipeline.store.refresh`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import from_epoch, utcnow
from tiktok_pipeline.errors import REAUTHORIZE_HINT, UnknownShopError
from tiktok_pipeline.store._sql import fitting, upsert_insert
from tiktok_pipeline.store.authorization_rows import (
    AUTH_COLUMNS,
    authorization_from_row,
    optional_int,
    scopes,
    shop_from_row,
    status_values,
    unknown_authorization,
    unknown_shop,
)
from tiktok_pipeline.store.encryption import TokenCipher
from tiktok_pipeline.store.fencing import update_if_current
from tiktok_pipeline.store.models import Authorization, Shop, ShopStatus
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t
from tiktok_pipeline.store.shop_lists import (
    ShopListChange,
    apply_shop_list,
    listed_shop_values,
    update_shop_list,
)
from tiktok_pipeline.store.token_keys import cipher_for

log = logging.getLogger(__name__)


class AuthorizationRecords:
    """Authorizations and shops in ``tiktok_authorizations`` and ``tiktok_shops``."""

    def __init__(self, engine: sa.Engine, *, cipher: TokenCipher | None = None) -> None:
        """Use ``engine`` (already migrated) for every query; encrypt tokens with ``cipher``
        (default: ``TIKTOK_TOKEN_KEY``, see :func:`~tiktok_pipeline.store.token_keys.cipher_for`,
        looked up on first use of a token)."""
        self.engine = engine
        self._cipher = cipher
        self._cipher_lock = threading.Lock()

    @property
    def cipher(self) -> TokenCipher:
        """The cipher of the stored tokens (TokenKeyError when there is no key)."""
        with self._cipher_lock:
            if self._cipher is None:
                self._cipher = cipher_for(self.engine)
            return self._cipher

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
            ``open_id`` before but are no longer listed are marked ``departed``.
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
        listed = listed_shop_values(shops)  # refuse a bad list before anything is written
        now = utcnow()
        values = {
            "open_id": str(open_id),
            "seller_name": token_data.get("seller_name"),
            "seller_base_region": token_data.get("seller_base_region"),
            "user_type": optional_int(token_data.get("user_type")),
            "granted_scopes": scopes(token_data.get("granted_scopes")),
            "access_token": self.cipher.encrypt(str(token_data["access_token"])),
            "access_token_expires_at": from_epoch(token_data.get("access_token_expire_in")),
            "refresh_token": self.cipher.encrypt(str(token_data["refresh_token"])),
            "refresh_token_expires_at": from_epoch(token_data.get("refresh_token_expire_in")),
            "status": ShopStatus.ACTIVE.value,
            "status_reason": None,
            "authorized_at": now,
            # A new consent starts a new authorization period; TikTok warns again before it ends.
            "authorization_expires_at": None,
            "updated_at": now,
        }
        _check_fits(auth_t, values)
        with self.engine.begin() as conn:
            insert = upsert_insert(conn, auth_t)
            statement = insert.values(created_at=now, **values).on_conflict_do_update(
                index_elements=[auth_t.c.open_id], set_=values
            )
            authorization_id = conn.execute(statement.returning(auth_t.c.id)).scalar_one()
            change = apply_shop_list(conn, authorization_id, str(open_id), listed, now)
        log.info(
            "saved authorization %s (open_id %s) for shops %s",
            authorization_id,
            open_id,
            ", ".join(change.listed) or "(none)",
        )
        authorization = self.get_authorization(authorization_id)
        return authorization, [self.get_shop(shop_id) for shop_id in listed]

    def update_shop_list(
        self,
        authorization: int | str,
        shops: Sequence[Mapping[str, Any]],
        *,
        consented_at: datetime | None = None,
    ) -> ShopListChange:
        """Apply an authorization's current shop list (no new consent), in one transaction.

        Listed shops become (or stay) active under the authorization, their name, code, region,
        seller type and cipher refreshed; its shops no longer listed become ``departed``
        with a reason saying they left the shop list. Tokens are not touched.

        Args:
            authorization: the authorization's id, or its ``open_id`` (a string).
            shops: ``data.shops`` of GET /authorization/202309/shops, called with its token.
            consented_at: the ``authorized_at`` the caller saw before calling TikTok; when the
                seller consented again since, that consent's list is newer and nothing is
                written.

        Returns:
            What changed; ``skipped`` says why nothing was written when the authorization is
            no longer active (or was renewed meanwhile). UnknownAuthorizationError when the
            store has no such authorization.
        """
        return update_shop_list(self.engine, authorization, shops, consented_at=consented_at)

    def get_shop(self, shop_id: str) -> Shop:
        """The shop with this TikTok shop id; UnknownShopError (naming the known ids) if none."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(shop_t).where(shop_t.c.id == str(shop_id))).first()
            if row is None:
                raise unknown_shop(conn, shop_id)
        return shop_from_row(row)

    def find_shop(self, *, code: str | None = None, name: str | None = None) -> Shop:
        """The one shop with this shop code, or this name (case-insensitive), as the original
        package's ``shop(code)`` found it.

        UnknownShopError, naming the known shops, when none matches or several share the name.
        """
        if (code is None) == (name is None):
            raise ValueError("give exactly one of code= and name=")
        if code is not None:
            query = sa.select(shop_t).where(shop_t.c.code == code)
            wanted = f"code {code!r}"
        else:
            query = sa.select(shop_t).where(sa.func.lower(shop_t.c.name) == str(name).lower())
            wanted = f"name {name!r}"
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(shop_t.c.id)).all()
            if len(rows) == 1:
                return shop_from_row(rows[0])
            if rows:
                ids = ", ".join(row.id for row in rows)
                raise UnknownShopError(
                    f"several shops in the token store have the {wanted} ({ids}); pass the shop id"
                )
            known = conn.execute(
                sa.select(shop_t.c.id, shop_t.c.code, shop_t.c.name).order_by(shop_t.c.id).limit(20)
            ).all()
        listed = "; ".join(f"{r.id} (code {r.code}, {r.name})" for r in known) or "none"
        raise UnknownShopError(
            f"no shop with the {wanted} in the token store (known shops: {listed}); to add it, "
            f"{REAUTHORIZE_HINT}"
        )

    def list_shops(self, statuses: Iterable[str] | None = None) -> list[Shop]:
        """All shops (optionally only those with one of ``statuses``), ordered by id."""
        query = sa.select(shop_t).order_by(shop_t.c.id)
        wanted = status_values(statuses)
        if wanted is not None:
            query = query.where(shop_t.c.status.in_(wanted))
        with self.engine.connect() as conn:
            return [shop_from_row(row) for row in conn.execute(query)]

    def get_authorization(self, authorization_id: int) -> Authorization:
        """The authorization with this id; UnknownAuthorizationError if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(*AUTH_COLUMNS).where(auth_t.c.id == authorization_id)
            ).first()
        if row is None:
            raise unknown_authorization(authorization_id)
        return authorization_from_row(row, self.cipher)

    def list_authorizations(self, statuses: Iterable[str] | None = None) -> list[Authorization]:
        """All authorizations (optionally only those with one of ``statuses``), ordered by id."""
        query = sa.select(*AUTH_COLUMNS).order_by(auth_t.c.id)
        wanted = status_values(statuses)
        if wanted is not None:
            query = query.where(auth_t.c.status.in_(wanted))
        with self.engine.connect() as conn:
            return [authorization_from_row(row, self.cipher) for row in conn.execute(query)]

    def set_authorization_status(
        self, authorization_id: int, status: str, reason: str | None = None
    ) -> None:
        """Set an authorization's status and its shops' status.

        ``deauthorized`` applies to every shop of the authorization but the ``departed`` ones
        (no longer in its shop list); ``needs_reauth`` to its active shops; going back to
        ``active`` reactivates the shops that were ``needs_reauth``. Shops that left the
        seller's consent (``deauthorized``, ``departed``) come back only with a shop list that
        names them. An authorization is never ``departed`` (ValueError).
        """
        new = ShopStatus.parse(status)
        if new is ShopStatus.DEPARTED:
            raise ValueError(
                "an authorization cannot be departed, only its shops: use set_shop_status"
            )
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == authorization_id)
                .values(status=new.value, status_reason=reason, updated_at=now)
            )
            if result.rowcount == 0:
                raise unknown_authorization(authorization_id)
            shops = sa.update(shop_t).where(shop_t.c.authorization_id == authorization_id)
            if new is ShopStatus.ACTIVE:
                shops = shops.where(shop_t.c.status == ShopStatus.NEEDS_REAUTH.value)
            elif new is ShopStatus.NEEDS_REAUTH:
                shops = shops.where(shop_t.c.status == ShopStatus.ACTIVE.value)
            else:
                shops = shops.where(shop_t.c.status != ShopStatus.DEPARTED.value)
            conn.execute(shops.values(**self._shop_status_values(new, reason, now)))
        log.info("authorization %s is now %s", authorization_id, new.value)

    def mark_needs_reauth_if_current(
        self, authorization_id: int, refresh_token: str, lease_owner: str, reason: str
    ) -> bool:
        """Mark an authorization and its active shops ``needs_reauth``, fenced: only while it
        still stores ``refresh_token`` and ``lease_owner`` holds its refresh lease.

        Returns False (nothing written) when another caller rotated the tokens or took the
        lease meanwhile: the refresh token found dead was then not the seller's last one.
        """
        now = utcnow()

        def mark_shops(conn: sa.Connection) -> None:
            conn.execute(
                sa.update(shop_t)
                .where(shop_t.c.authorization_id == authorization_id)
                .where(shop_t.c.status == ShopStatus.ACTIVE.value)
                .values(**self._shop_status_values(ShopStatus.NEEDS_REAUTH, reason, now))
            )

        status = ShopStatus.NEEDS_REAUTH.value
        values = {"status": status, "status_reason": reason, "updated_at": now}
        if not update_if_current(
            self.engine,
            self.cipher,
            authorization_id,
            refresh_token,
            values,
            lease_owner=lease_owner,
            also=mark_shops,
        ):
            return False
        log.info("authorization %s is now %s", authorization_id, ShopStatus.NEEDS_REAUTH.value)
        return True

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
                raise unknown_shop(conn, shop_id)
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
                raise unknown_shop(conn, shop_id)
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
            sa.select(*AUTH_COLUMNS)
            .where(auth_t.c.refresh_token_expires_at.is_not(None))
            .where(auth_t.c.refresh_token_expires_at < cutoff)
            .order_by(auth_t.c.id)
        )
        with self.engine.connect() as conn:
            return [authorization_from_row(row, self.cipher) for row in conn.execute(query)]

    def delete_expired_authorizations(
        self, authorization_ids: Iterable[int], *, now: datetime | None = None
    ) -> dict[int, list[str]]:
        """Delete those of these authorizations whose refresh token expired before ``now``.

        The expiry is checked again inside the transaction, so an authorization the seller
        renewed in the meantime stays. The deleted authorizations' shops are kept, unlinked,
        and marked ``needs_reauth`` (``deauthorized`` and ``departed`` shops stay so): they are
        still the user's shops and only a new consent brings them back.

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
                    .where(
                        shop_t.c.status.not_in(
                            [ShopStatus.DEAUTHORIZED.value, ShopStatus.DEPARTED.value]
                        )
                    )
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


def _check_fits(table: sa.Table, values: dict) -> None:
    """ValueError when TikTok sent a text longer than its column (see :func:`fitting`)."""
    for name, value in values.items():
        fitting(table.c[name], value)
