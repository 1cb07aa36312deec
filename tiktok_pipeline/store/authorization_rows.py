"""Rows of ``tiktok_authorizations`` and ``tiktok_shops`` as value objects, and their lookup errors.

Shared by the records (:mod:`tiktok_pipeline.store.authorizations`) and the refresh
(:mod:`tiktok_pipeline.store.refresh`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.errors import (
    REAUTHORIZE_HINT,
    ReauthorizationRequired,
    TikTokConfigurationError,
    UnknownShopError,
)
from tiktok_pipeline.store.encryption import TokenCipher
from tiktok_pipeline.store.models import Authorization, Shop, ShopStatus
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t
from tiktok_pipeline.store.schema import tiktok_shops as shop_t

#: Every column of an authorization but the refresh lease, which is the lease module's business.
AUTH_COLUMNS = [
    c for c in auth_t.c if c.name not in ("refresh_lease_owner", "refresh_lease_expires_at")
]


class UnknownAuthorizationError(TikTokConfigurationError, LookupError):
    """The token store has no authorization with this id."""


def unknown_authorization(authorization_id: int) -> UnknownAuthorizationError:
    """The error for an authorization id the store lacks."""
    return UnknownAuthorizationError(
        f"no authorization with id {authorization_id} in the token store; "
        "`tiktok-pipeline shops list` shows the stored ones"
    )


def unknown_shop(conn: sa.Connection, shop_id: str) -> UnknownShopError:
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


def inactive_authorization(authorization: Authorization) -> ReauthorizationRequired:
    """The error for an authorization that is ``needs_reauth`` or ``deauthorized``."""
    detail = f": {authorization.status_reason}" if authorization.status_reason else ""
    return ReauthorizationRequired(
        f"authorization {authorization.id} (open_id {authorization.open_id}, "
        f"{authorization.seller_name or 'unnamed seller'}) is "
        f"{authorization.status.value}{detail}"
    )


def unusable_shop(
    shop: Shop, status: ShopStatus | None, reason: str | None
) -> ReauthorizationRequired:
    """The error for a shop whose tokens cannot be used until the seller authorizes again."""
    label = f"{shop.id} ({shop.name})" if shop.name else shop.id
    state = f"is {status.value}" if status is not None else "cannot be used"
    detail = f": {reason}" if reason else ""
    exc = ReauthorizationRequired(f"shop {label} {state}{detail}")
    exc.shop_id = shop.id
    return exc


def authorization_from_row(row: Any, cipher: TokenCipher) -> Authorization:
    """An :class:`Authorization` from a row selected with :data:`AUTH_COLUMNS`, its tokens
    decrypted with ``cipher`` (TokenKeyError when they cannot be)."""
    m = row._mapping
    return Authorization(
        id=m["id"],
        open_id=m["open_id"],
        seller_name=m["seller_name"],
        seller_base_region=m["seller_base_region"],
        user_type=m["user_type"],
        granted_scopes=list(m["granted_scopes"] or []),
        access_token=cipher.decrypt(m["access_token"], authorization_id=m["id"]),
        access_token_expires_at=m["access_token_expires_at"],
        refresh_token=cipher.decrypt(m["refresh_token"], authorization_id=m["id"]),
        refresh_token_expires_at=m["refresh_token_expires_at"],
        status=ShopStatus(m["status"]),
        status_reason=m["status_reason"],
        authorized_at=m["authorized_at"],
        last_refreshed_at=m["last_refreshed_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        authorization_expires_at=m["authorization_expires_at"],
    )


def shop_from_row(row: Any) -> Shop:
    """A :class:`Shop` from a row of ``tiktok_shops``."""
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


def optional_int(value: Any) -> int | None:
    """``value`` as an int; None for None or an empty string."""
    if value is None or value == "":
        return None
    return int(value)


def scopes(value: Any) -> list[str]:
    """Granted scopes as a list, from TikTok's list or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [s for s in value.split(",") if s]
    return [str(s) for s in value]


def status_values(statuses: Iterable[str] | None) -> list[str] | None:
    """The status names to filter on (ValueError for an unknown one); None: no filter."""
    if statuses is None:
        return None
    if isinstance(statuses, str):
        statuses = [statuses]
    return [ShopStatus.parse(s).value for s in statuses]
