"""Refresh access tokens before they expire: one call per seller authorization, never per shop.

The original package refreshed every token on every run and swallowed failures. Here only the
authorizations whose access token expires within a threshold are refreshed, through the token
store (one call across threads and processes, rotated refresh token stored with compare-and-set),
and every outcome is reported so that a caller can fail loudly and name the shops.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.client.errors import (
    REAUTHORIZE_HINT,
    ReauthorizationRequired,
    RefreshTokenInvalid,
    TikTokAPIError,
)
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle.durations import format_duration, iso_seconds
from tiktok_pipeline.redaction import scrub
from tiktok_pipeline.store.models import Authorization, Shop, ShopStatus

if TYPE_CHECKING:
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.store import Store

log = logging.getLogger(__name__)

DEFAULT_WITHIN = timedelta(hours=48)


class RefreshOutcome(StrEnum):
    """What happened to one authorization."""

    REFRESHED = "refreshed"
    #: Not due (expires later than the threshold), or refreshed meanwhile by another process.
    SKIPPED = "skipped"
    #: Dry run: would have been refreshed.
    DUE = "due"
    #: The refresh token is dead (or the authorization was already marked): the seller must
    #: authorize again; never retried.
    NEEDS_REAUTH = "needs_reauth"
    #: Could not be refreshed for another reason (after the client's retries); see ``retryable``.
    FAILED = "failed"


@dataclass(frozen=True)
class AuthorizationRefresh:
    """The outcome for one seller authorization and the shops that depend on it."""

    authorization_id: int | None
    open_id: str | None
    seller_name: str | None
    shop_ids: tuple[str, ...]
    outcome: RefreshOutcome
    access_token_expires_at: datetime | None = None
    previous_access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    refresh_token_rotated: bool = False
    detail: str | None = None
    retryable: bool = False

    @property
    def problem(self) -> bool:
        """True when this authorization could not be kept connected."""
        return self.outcome in (RefreshOutcome.NEEDS_REAUTH, RefreshOutcome.FAILED)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings; no token values)."""
        return {
            "authorization_id": self.authorization_id,
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "shop_ids": list(self.shop_ids),
            "outcome": self.outcome.value,
            "access_token_expires_at": iso_seconds(self.access_token_expires_at),
            "previous_access_token_expires_at": iso_seconds(self.previous_access_token_expires_at),
            "refresh_token_expires_at": iso_seconds(self.refresh_token_expires_at),
            "refresh_token_rotated": self.refresh_token_rotated,
            "detail": self.detail,
            "retryable": self.retryable,
        }


@dataclass(frozen=True)
class RefreshReport:
    """Every authorization a refresh run looked at, and what happened to it."""

    checked_at: datetime
    within: timedelta
    dry_run: bool
    results: tuple[AuthorizationRefresh, ...] = field(default_factory=tuple)

    def with_outcome(self, outcome: RefreshOutcome) -> list[AuthorizationRefresh]:
        """The results with this outcome."""
        return [r for r in self.results if r.outcome is outcome]

    @property
    def ok(self) -> bool:
        """False when any authorization needs re-authorization or failed to refresh."""
        return not any(r.problem for r in self.results)

    @property
    def retryable(self) -> bool:
        """True when every problem is a transient failure a later attempt may fix."""
        problems = [r for r in self.results if r.problem]
        return bool(problems) and all(r.retryable for r in problems)

    @property
    def shops_needing_reauth(self) -> list[str]:
        """Ids of the shops whose seller must authorize again."""
        needing = self.with_outcome(RefreshOutcome.NEEDS_REAUTH)
        return sorted({s for r in needing for s in r.shop_ids})

    @property
    def failed_shops(self) -> list[str]:
        """Ids of the shops whose authorization failed to refresh for a transient reason."""
        return sorted({s for r in self.with_outcome(RefreshOutcome.FAILED) for s in r.shop_ids})

    def counts(self) -> dict[str, int]:
        """How many authorizations had each outcome."""
        return {o.value: len(self.with_outcome(o)) for o in RefreshOutcome}

    def summary(self) -> str:
        """One line for logs and run descriptions."""
        counts = ", ".join(f"{n} {name}" for name, n in self.counts().items() if n)
        verb = "would refresh" if self.dry_run else "refresh"
        return (
            f"token {verb} of {len(self.results)} authorization(s) expiring within "
            f"{format_duration(self.within)}: {counts or 'nothing to do'}"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "checked_at": iso_seconds(self.checked_at),
            "within_seconds": int(self.within.total_seconds()),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "counts": self.counts(),
            "shops_needing_reauth": self.shops_needing_reauth,
            "failed_shops": self.failed_shops,
            "results": [r.to_dict() for r in self.results],
        }


def refresh_expiring(
    client: TikTokShopClient | None,
    store: Store,
    *,
    within: timedelta = DEFAULT_WITHIN,
    shop_id: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RefreshReport:
    """Refresh every authorization whose access token expires within ``within`` of ``now``.

    One refresh call per seller authorization, whatever its number of shops; a concurrent
    refresher (another run, an asset's client) makes the store share one call. Authorizations
    marked ``needs_reauth`` are reported as such without calling TikTok; ``deauthorized`` ones
    (the seller removed the app) are left out unless ``shop_id`` names one of their shops.

    Args:
        client: the API client (its retry policy retries transient errors with backoff); may be
            None for a dry run.
        store: the operational store holding the tokens.
        within: refresh access tokens expiring sooner than this.
        shop_id: only the authorization of this shop (UnknownShopError if the store lacks it).
        dry_run: report what would be refreshed; change nothing, call nothing.
        now: the time to judge expiry against (default: the current time).

    Returns:
        A report; ``report.ok`` is False when any authorization needs re-authorization or
        failed to refresh. Details never contain a secret.
    """
    if within <= timedelta(0):
        raise ValueError(f"within must be a positive duration such as 48h, not {within}")
    if client is None and not dry_run:
        raise ValueError("refreshing needs a TikTokShopClient; only dry_run=True works without")
    now = now or utcnow()
    shops = store.tokens.list_shops()
    if shop_id is not None:
        shop = store.tokens.get_shop(shop_id)
        if shop.authorization_id is None:
            result = AuthorizationRefresh(
                authorization_id=None,
                open_id=None,
                seller_name=None,
                shop_ids=(shop.id,),
                outcome=RefreshOutcome.NEEDS_REAUTH,
                detail=f"shop {shop.id} has no stored authorization; {REAUTHORIZE_HINT}",
            )
            return RefreshReport(now, within, dry_run, (result,))
        authorizations = [store.tokens.get_authorization(shop.authorization_id)]
    else:
        authorizations = store.tokens.list_authorizations(
            [ShopStatus.ACTIVE, ShopStatus.NEEDS_REAUTH]
        )
    shops_of = _shops_by_authorization(shops)
    results = tuple(
        _refresh_one(client, store, a, shops_of.get(a.id, ()), within, now, dry_run)
        for a in authorizations
    )
    report = RefreshReport(now, within, dry_run, results)
    (log.info if report.ok else log.warning)("%s", report.summary())
    return report


def _shops_by_authorization(shops: list[Shop]) -> dict[int, tuple[str, ...]]:
    linked: dict[int, list[Shop]] = defaultdict(list)
    for shop in shops:
        if shop.authorization_id is not None:
            linked[shop.authorization_id].append(shop)
    out = {}
    for authorization_id, members in linked.items():
        # Shops the seller removed from the consent need no refresh; name them only if alone.
        live = [
            s.id for s in members if s.status not in (ShopStatus.DEAUTHORIZED, ShopStatus.DEPARTED)
        ]
        out[authorization_id] = tuple(live or [s.id for s in members])
    return out


def _refresh_one(
    client: TikTokShopClient | None,
    store: Store,
    authorization: Authorization,
    shop_ids: tuple[str, ...],
    within: timedelta,
    now: datetime,
    dry_run: bool,
) -> AuthorizationRefresh:
    base: dict[str, Any] = {
        "authorization_id": authorization.id,
        "open_id": authorization.open_id,
        "seller_name": authorization.seller_name,
        "shop_ids": shop_ids,
        "access_token_expires_at": authorization.access_token_expires_at,
        "previous_access_token_expires_at": authorization.access_token_expires_at,
        "refresh_token_expires_at": authorization.refresh_token_expires_at,
    }
    if authorization.status is not ShopStatus.ACTIVE:
        reason = authorization.status_reason or "marked in the token store"
        return AuthorizationRefresh(
            **base,
            outcome=RefreshOutcome.NEEDS_REAUTH,
            detail=f"{authorization.status.value}: {reason}",
        )
    refresh_expiry = authorization.refresh_token_expires_at
    if refresh_expiry is not None and refresh_expiry <= now:
        # TikTok would answer 36004001; no call needed to know, and nothing to retry.
        reason = (
            f"the refresh token expired at {refresh_expiry:%Y-%m-%d %H:%M} UTC; {REAUTHORIZE_HINT}"
        )
        if not dry_run:
            store.tokens.set_authorization_status(authorization.id, ShopStatus.NEEDS_REAUTH, reason)
            log.warning("authorization %s needs re-authorization: %s", authorization.id, reason)
        return AuthorizationRefresh(**base, outcome=RefreshOutcome.NEEDS_REAUTH, detail=reason)
    expires_at = authorization.access_token_expires_at
    if expires_at is not None and expires_at > now + within:
        return AuthorizationRefresh(**base, outcome=RefreshOutcome.SKIPPED, detail="not due")
    if dry_run:
        return AuthorizationRefresh(**base, outcome=RefreshOutcome.DUE)
    assert client is not None
    secrets = [authorization.access_token, authorization.refresh_token, client.app_secret_value]
    calls = 0

    def call_tiktok(refresh_token: str) -> Mapping[str, Any]:
        nonlocal calls
        calls += 1
        return client.auth.refresh_access_token(refresh_token)["data"]

    # The store judges "due" on its own clock; shift the margin so that it judges against ``now``.
    margin = now + within - utcnow()
    try:
        updated = store.tokens.refresh(
            authorization.id, refresh=call_tiktok, margin=margin, force=expires_at is None
        )
    except (RefreshTokenInvalid, ReauthorizationRequired) as exc:
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.warning("authorization %s needs re-authorization: %s", authorization.id, detail)
        return AuthorizationRefresh(**base, outcome=RefreshOutcome.NEEDS_REAUTH, detail=detail)
    except TikTokAPIError as exc:
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.error("authorization %s could not be refreshed: %s", authorization.id, detail)
        return AuthorizationRefresh(
            **base, outcome=RefreshOutcome.FAILED, detail=detail, retryable=exc.retryable
        )
    base |= {
        "access_token_expires_at": updated.access_token_expires_at,
        "refresh_token_expires_at": updated.refresh_token_expires_at,
    }
    if calls == 0:
        return AuthorizationRefresh(
            **base, outcome=RefreshOutcome.SKIPPED, detail="refreshed meanwhile by another process"
        )
    log.info(
        "refreshed authorization %s (shops %s); access token now expires at %s",
        authorization.id,
        ", ".join(shop_ids) or "none",
        iso_seconds(updated.access_token_expires_at),
    )
    return AuthorizationRefresh(
        **base,
        outcome=RefreshOutcome.REFRESHED,
        refresh_token_rotated=updated.refresh_token != authorization.refresh_token,
    )
