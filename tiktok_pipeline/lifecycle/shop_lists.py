"""Keep every seller authorization's shop list current without a new consent.

A seller can add a shop to (or remove one from) an existing authorization of the app at TikTok;
the consent that listed the shops happened earlier. This asks GET /authorization/202309/shops
again for every active authorization, with its own (refreshed when due) access token, and
applies the answer to the token store: new shops become active (the new-shop history sensor
then fetches their history), shops that left become ``departed`` (no alert: nothing to fix),
shops that came back are active again (the sensor then fetches the days they missed). One
authorization failing (a dead token, TikTok down) never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.client.credentials import Credentials
from tiktok_pipeline.client.errors import (
    InvalidResponse,
    ReauthorizationRequired,
    RefreshTokenInvalid,
    TikTokAPIError,
)
from tiktok_pipeline.client.shop import ShopAPI
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle.durations import iso_seconds
from tiktok_pipeline.redaction import scrub
from tiktok_pipeline.store.models import Authorization, ShopStatus
from tiktok_pipeline.store.shop_lists import ShopListChange
from tiktok_pipeline.store.tokens import UnknownAuthorizationError

if TYPE_CHECKING:
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.store import Store

log = logging.getLogger(__name__)


class ShopListOutcome(StrEnum):
    """What happened to one authorization's shop list."""

    #: TikTok answered and the store now matches (whether or not anything changed).
    APPLIED = "applied"
    #: Nothing written: the seller authorized again meanwhile, or the authorization stopped
    #: being active while TikTok answered.
    SKIPPED = "skipped"
    #: The authorization's tokens are dead or it is marked: the seller must authorize again.
    NEEDS_REAUTH = "needs_reauth"
    #: TikTok could not be asked or answered badly (after the client's retries).
    FAILED = "failed"


@dataclass(frozen=True)
class AuthorizationShopList:
    """The outcome for one seller authorization."""

    authorization_id: int
    open_id: str
    seller_name: str | None
    outcome: ShopListOutcome
    change: ShopListChange | None = None
    detail: str | None = None
    retryable: bool = False

    @property
    def problem(self) -> bool:
        """True when the shop list could not be read."""
        return self.outcome in (ShopListOutcome.NEEDS_REAUTH, ShopListOutcome.FAILED)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (shop ids, never a token)."""
        change = self.change.to_dict() if self.change is not None else {}
        return {
            "authorization_id": self.authorization_id,
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "outcome": self.outcome.value,
            "added": change.get("added", []),
            "returned": change.get("returned", []),
            "departed": change.get("departed", []),
            "updated": change.get("updated", []),
            "unchanged": change.get("unchanged", []),
            "detail": self.detail,
            "retryable": self.retryable,
        }


@dataclass(frozen=True)
class ShopListReport:
    """Every authorization a shop-list refresh looked at, and what changed."""

    checked_at: datetime
    results: tuple[AuthorizationShopList, ...] = field(default_factory=tuple)

    def _ids(self, name: str) -> list[str]:
        return sorted(
            shop_id
            for r in self.results
            if r.change is not None
            for shop_id in getattr(r.change, name)
        )

    @property
    def added(self) -> list[str]:
        """Shops new to the store, now active."""
        return self._ids("added")

    @property
    def returned(self) -> list[str]:
        """Known shops active again under their authorization."""
        return self._ids("returned")

    @property
    def departed(self) -> list[str]:
        """Shops no longer listed by their authorization, now ``departed``."""
        return self._ids("departed")

    @property
    def updated(self) -> list[str]:
        """Shops whose name, code, region, seller type or cipher changed."""
        return self._ids("updated")

    @property
    def problems(self) -> list[AuthorizationShopList]:
        """The authorizations whose shop list could not be read."""
        return [r for r in self.results if r.problem]

    @property
    def ok(self) -> bool:
        """False when any authorization's shop list could not be read."""
        return not self.problems

    @property
    def retryable(self) -> bool:
        """True when every problem is a transient failure a later attempt may fix."""
        return bool(self.problems) and all(r.retryable for r in self.problems)

    def summary(self) -> str:
        """One line for logs and run descriptions (shop ids, no secret)."""
        parts = [
            f"{len(ids)} {name} ({', '.join(ids)})"
            for name, ids in (
                ("added", self.added),
                ("returned", self.returned),
                ("departed", self.departed),
                ("updated", self.updated),
            )
            if ids
        ]
        failed = len(self.problems)
        text = (
            f"shop lists of {len(self.results)} authorization(s): {'; '.join(parts) or 'no change'}"
        )
        return text + (f"; {failed} could not be read" if failed else "")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "checked_at": iso_seconds(self.checked_at),
            "ok": self.ok,
            "added": self.added,
            "returned": self.returned,
            "departed": self.departed,
            "updated": self.updated,
            "results": [r.to_dict() for r in self.results],
        }


class AuthorizationTokens:
    """One authorization's access token for seller-level calls, from the token store.

    The token is refreshed first when it expires within ``margin``; after TikTok rejects it
    (105002 expired, 105001 invalid) the client asks :meth:`renew` once, which goes through the
    store's refresh: one call across processes, and a dead refresh token marks the seller
    ``needs_reauth`` (the client's usual path for shops, here for a seller).
    """

    refreshable = True

    def __init__(self, store: Store, client: TikTokShopClient, authorization_id: int) -> None:
        """Tokens of ``authorization_id``, refreshed through ``client``'s token endpoint."""
        self._store = store
        self._client = client
        self.authorization_id = authorization_id

    def current(self) -> Credentials:
        """A valid access token (ReauthorizationRequired when the seller is not active)."""
        authorization = self._store.tokens.refresh(
            self.authorization_id,
            refresh=self._client.refresh_token_data,
            margin=self._client.refresh_margin,
        )
        return Credentials(authorization.access_token, None, authorization.access_token_expires_at)

    def renew(self, expired_access_token: str) -> Credentials:
        """A new access token after TikTok rejected ``expired_access_token``."""
        authorization = self._store.tokens.refresh(
            self.authorization_id,
            refresh=self._client.refresh_token_data,
            stale_access_token=expired_access_token,
        )
        return Credentials(authorization.access_token, None, authorization.access_token_expires_at)


def refresh_shop_lists(
    client: TikTokShopClient, store: Store, *, open_id: str | None = None
) -> ShopListReport:
    """Read every active authorization's shop list from TikTok and apply it to the store.

    Args:
        client: the API client (its retry policy retries transient errors with backoff).
        store: the operational store holding the authorizations and their tokens.
        open_id: only this seller's authorization (UnknownAuthorizationError if the store has
            none; a seller that is not active is reported without calling TikTok).

    Returns:
        A report; ``report.ok`` is False when an authorization's list could not be read. Its
        details never contain a secret.
    """
    now = utcnow()
    if open_id is None:
        authorizations = store.tokens.list_authorizations([ShopStatus.ACTIVE])
    else:
        authorizations = [a for a in store.tokens.list_authorizations() if a.open_id == open_id]
        if not authorizations:
            raise UnknownAuthorizationError(
                f"no authorization with open_id {open_id} in the token store; "
                "`tiktok-pipeline shops list` shows the stored ones"
            )
    results = tuple(_refresh_one(client, store, a) for a in authorizations)
    report = ShopListReport(now, results)
    (log.info if report.ok else log.warning)("%s", report.summary())
    return report


def _refresh_one(
    client: TikTokShopClient, store: Store, authorization: Authorization
) -> AuthorizationShopList:
    base: dict[str, Any] = {
        "authorization_id": authorization.id,
        "open_id": authorization.open_id,
        "seller_name": authorization.seller_name,
    }
    if authorization.status is not ShopStatus.ACTIVE:
        reason = authorization.status_reason or "marked in the token store"
        return AuthorizationShopList(
            **base,
            outcome=ShopListOutcome.NEEDS_REAUTH,
            detail=f"{authorization.status.value}: {reason}",
        )
    tokens = AuthorizationTokens(store, client, authorization.id)
    api = ShopAPI(client, tokens, None, limiter_key=f"seller:{authorization.open_id}")
    secrets = [authorization.access_token, authorization.refresh_token, client.app_secret_value]
    try:
        answer = api.authorization.shops()
        shops = (answer.get("data") or {}).get("shops")
        if not isinstance(shops, list):
            # Never read a missing list as "no shops": that would deauthorize every shop.
            raise InvalidResponse(
                "the answer has no data.shops list", endpoint="authorization.shops"
            )
        change = store.tokens.update_shop_list(
            authorization.id, shops, consented_at=authorization.authorized_at
        )
    except (RefreshTokenInvalid, ReauthorizationRequired) as exc:
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.warning("authorization %s: shop list not read: %s", authorization.id, detail)
        return AuthorizationShopList(**base, outcome=ShopListOutcome.NEEDS_REAUTH, detail=detail)
    except (TikTokAPIError, ValueError) as exc:
        retryable = isinstance(exc, TikTokAPIError) and exc.retryable
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.error("authorization %s: shop list not read: %s", authorization.id, detail)
        return AuthorizationShopList(
            **base, outcome=ShopListOutcome.FAILED, detail=detail, retryable=retryable
        )
    if change.skipped is not None:
        return AuthorizationShopList(
            **base, outcome=ShopListOutcome.SKIPPED, change=change, detail=change.skipped
        )
    return AuthorizationShopList(**base, outcome=ShopListOutcome.APPLIED, change=change)
