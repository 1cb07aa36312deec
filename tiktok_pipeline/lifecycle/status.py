"""Per-shop token health: what ``tokens status`` prints and what the alert checks.

A shop has a problem when it needs re-authorization or is deauthorized, has no usable
authorization, or its refresh token or its authorization (as TikTok announced with webhook 7,
UPCOMING_AUTHORIZATION_EXPIRATION) expires within the warning window. An expiring access token
is not a problem: the refresh job and the client renew it. Nor is a ``departed`` shop (no longer
in its authorization's shop list): the seller removed it on purpose and re-authorizing would
not bring it back; it is listed, ok, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle.durations import format_duration, iso_seconds
from tiktok_pipeline.store.models import Authorization, Shop, ShopStatus

if TYPE_CHECKING:
    from tiktok_pipeline.store import Store

DEFAULT_WARN_WITHIN = timedelta(days=14)


@dataclass(frozen=True)
class ShopTokenStatus:
    """One shop's connection state; never a token value."""

    shop_id: str
    name: str | None
    status: str
    status_reason: str | None
    authorization_id: int | None
    open_id: str | None
    seller_name: str | None
    authorization_status: str | None
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    authorization_expires_at: datetime | None
    last_refreshed_at: datetime | None
    #: A warning when TikTok announced the authorization's end (None otherwise).
    authorization_expiry_warning: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing needs attention for this shop."""
        return not self.problems

    @property
    def departed(self) -> bool:
        """True for a shop no longer in its authorization's shop list (never a problem)."""
        return self.status == ShopStatus.DEPARTED.value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""
        return {
            "shop_id": self.shop_id,
            "name": self.name,
            "status": self.status,
            "status_reason": self.status_reason,
            "authorization_id": self.authorization_id,
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "authorization_status": self.authorization_status,
            "access_token_expires_at": iso_seconds(self.access_token_expires_at),
            "refresh_token_expires_at": iso_seconds(self.refresh_token_expires_at),
            "authorization_expires_at": iso_seconds(self.authorization_expires_at),
            "last_refreshed_at": iso_seconds(self.last_refreshed_at),
            "authorization_expiry_warning": self.authorization_expiry_warning,
            "problems": list(self.problems),
            "ok": self.ok,
        }


def token_status(
    store: Store,
    *,
    now: datetime | None = None,
    warn_within: timedelta = DEFAULT_WARN_WITHIN,
    shop_id: str | None = None,
) -> list[ShopTokenStatus]:
    """The connection state of every shop (or of ``shop_id``), ordered by shop id.

    Args:
        store: the operational store.
        now: the time to judge expiry against (default: the current time).
        warn_within: a refresh token or authorization ending sooner than this is a problem.
        shop_id: only this shop (UnknownShopError if the store lacks it).
    """
    if warn_within < timedelta(0):
        raise ValueError(f"warn_within must not be negative, got {warn_within}")
    now = now or utcnow()
    shops = [store.tokens.get_shop(shop_id)] if shop_id is not None else store.tokens.list_shops()
    authorizations: dict[int | None, Authorization] = {
        a.id: a for a in store.tokens.list_authorizations()
    }
    return [
        _status(shop, authorizations.get(shop.authorization_id), now, warn_within) for shop in shops
    ]


def _status(
    shop: Shop, authorization: Authorization | None, now: datetime, warn_within: timedelta
) -> ShopTokenStatus:
    problems: list[str] = []
    if shop.status is ShopStatus.DEPARTED:
        pass  # the seller's choice, not a fault: nothing to fix
    elif shop.status is ShopStatus.NEEDS_REAUTH:
        problems.append(f"needs re-authorization: {shop.status_reason or 'marked in the store'}")
    elif shop.status is ShopStatus.DEAUTHORIZED:
        problems.append(
            f"deauthorized: {shop.status_reason or 'the seller removed the app or this shop'}"
        )
    elif authorization is None:
        problems.append("no stored authorization: the seller must authorize the app")
    elif authorization.status is not ShopStatus.ACTIVE:
        reason = authorization.status_reason or "marked in the store"
        problems.append(f"its authorization is {authorization.status.value}: {reason}")
    warning = None
    if authorization is not None and authorization.authorization_expires_at is not None:
        warning = _expiry_text("authorization", authorization.authorization_expires_at, now)
        warning += " (announced by TikTok)"
    if shop.status is ShopStatus.ACTIVE and authorization is not None:
        refresh_expiry = authorization.refresh_token_expires_at
        if refresh_expiry is not None and refresh_expiry <= now + warn_within:
            problems.append(_expiry_text("refresh token", refresh_expiry, now))
        auth_expiry = authorization.authorization_expires_at
        if warning is not None and auth_expiry is not None and auth_expiry <= now + warn_within:
            problems.append(warning)
    return ShopTokenStatus(
        shop_id=shop.id,
        name=shop.name,
        status=shop.status.value,
        status_reason=shop.status_reason,
        authorization_id=shop.authorization_id,
        open_id=authorization.open_id if authorization else None,
        seller_name=authorization.seller_name if authorization else None,
        authorization_status=authorization.status.value if authorization else None,
        access_token_expires_at=authorization.access_token_expires_at if authorization else None,
        refresh_token_expires_at=authorization.refresh_token_expires_at if authorization else None,
        authorization_expires_at=(
            authorization.authorization_expires_at if authorization else None
        ),
        last_refreshed_at=authorization.last_refreshed_at if authorization else None,
        authorization_expiry_warning=warning,
        problems=tuple(problems),
    )


def _expiry_text(what: str, when: datetime, now: datetime) -> str:
    stamp = f"{when:%Y-%m-%d %H:%M} UTC"
    if when <= now:
        return f"{what} expired at {stamp}; the seller must authorize again"
    left = format_duration(timedelta(seconds=int((when - now).total_seconds()) // 60 * 60))
    return f"{what} expires at {stamp} (in {left}); the seller must authorize again before then"
