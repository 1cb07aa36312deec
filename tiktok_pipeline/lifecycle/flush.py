"""Remove what can never be used again: dead authorizations and old log and inbox rows.

Unlike the original package, an authorization is removed only when its **refresh** token has
expired: an expired access token is refreshable and is kept. The removed authorization's shops
stay in ``tiktok_shops``, unlinked and marked ``needs_reauth`` (``deauthorized`` ones stay so),
so that they keep showing in ``tokens status`` and in the alert until the seller authorizes
again, which links them to the new authorization. Nothing here is interactive.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle.durations import format_duration, iso_seconds

if TYPE_CHECKING:
    from tiktok_pipeline.store import Store

log = logging.getLogger(__name__)

DEFAULT_REQUEST_LOG_RETENTION = timedelta(days=30)
DEFAULT_WEBHOOK_RETENTION = timedelta(days=90)
DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class RemovedAuthorization:
    """An authorization whose refresh token had expired (removed, or to be in a dry run)."""

    authorization_id: int
    open_id: str
    seller_name: str | None
    refresh_token_expires_at: datetime | None
    shop_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "authorization_id": self.authorization_id,
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "refresh_token_expires_at": iso_seconds(self.refresh_token_expires_at),
            "shop_ids": list(self.shop_ids),
        }


@dataclass(frozen=True)
class FlushReport:
    """What a flush removed (or, in a dry run, would remove)."""

    flushed_at: datetime
    dry_run: bool
    request_log_cutoff: datetime
    webhook_cutoff: datetime
    authorizations: tuple[RemovedAuthorization, ...] = field(default_factory=tuple)
    #: Authorizations kept although their access token has expired (still refreshable).
    kept_refreshable: int = 0
    request_log_rows: int = 0
    webhook_rows: int = 0

    @property
    def shops_unlinked(self) -> list[str]:
        """Ids of the shops whose authorization was removed."""
        return sorted({s for a in self.authorizations for s in a.shop_ids})

    def summary(self) -> str:
        """One line for logs and run descriptions."""
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"flush {verb} {len(self.authorizations)} authorization(s) with an expired refresh "
            f"token (kept {self.kept_refreshable} with only the access token expired), "
            f"{self.request_log_rows} request log row(s) before "
            f"{self.request_log_cutoff:%Y-%m-%d %H:%M} UTC and {self.webhook_rows} processed "
            f"webhook row(s) before {self.webhook_cutoff:%Y-%m-%d %H:%M} UTC"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "flushed_at": iso_seconds(self.flushed_at),
            "dry_run": self.dry_run,
            "authorizations_removed": [a.to_dict() for a in self.authorizations],
            "shops_unlinked": self.shops_unlinked,
            "kept_refreshable": self.kept_refreshable,
            "request_log_rows": self.request_log_rows,
            "request_log_cutoff": iso_seconds(self.request_log_cutoff),
            "webhook_rows": self.webhook_rows,
            "webhook_cutoff": iso_seconds(self.webhook_cutoff),
        }


def flush(
    store: Store,
    *,
    now: datetime | None = None,
    request_log_retention: timedelta = DEFAULT_REQUEST_LOG_RETENTION,
    webhook_retention: timedelta = DEFAULT_WEBHOOK_RETENTION,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> FlushReport:
    """Remove dead authorizations, old request log rows and old processed webhook rows.

    Args:
        store: the operational store.
        now: the time expiry and retention are measured from (default: the current time).
        request_log_retention: keep ``tiktok_requests`` rows younger than this.
        webhook_retention: keep processed/ignored ``tiktok_webhooks`` rows finished more
            recently than this (pending and failed rows are never removed).
        batch_size: rows (or authorizations) deleted per transaction.
        dry_run: count what would go; change nothing.
    """
    for name, value in (
        ("request_log_retention", request_log_retention),
        ("webhook_retention", webhook_retention),
    ):
        if value <= timedelta(0):
            raise ValueError(f"{name} must be a positive duration such as 30d, not {value}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    now = now or utcnow()
    request_log_cutoff = now - request_log_retention
    webhook_cutoff = now - webhook_retention

    authorizations = store.tokens.list_authorizations()
    kept = sum(
        1
        for a in authorizations
        if a.access_token_expires_at is not None
        and a.access_token_expires_at <= now
        and (a.refresh_token_expires_at is None or a.refresh_token_expires_at >= now)
    )
    # As TokenStore.expired_authorizations selects them; the delete checks each one again.
    expired = [
        a
        for a in authorizations
        if a.refresh_token_expires_at is not None and a.refresh_token_expires_at < now
    ]
    if dry_run:
        shops_of: dict[int, list[str]] = {}
        for shop in store.tokens.list_shops():
            if shop.authorization_id is not None:
                shops_of.setdefault(shop.authorization_id, []).append(shop.id)
        removed = [_removed(a, shops_of.get(a.id, [])) for a in expired]
    else:
        by_id = {a.id: a for a in expired}
        ids = list(by_id)
        removed = []
        for start in range(0, len(ids), batch_size):
            deleted = store.tokens.delete_expired_authorizations(
                ids[start : start + batch_size], now=now
            )
            removed += [_removed(by_id[i], shop_ids) for i, shop_ids in deleted.items()]
    request_rows = store.request_log.purge(request_log_cutoff, batch_size, dry_run=dry_run)
    webhook_rows = store.webhooks.purge_processed(webhook_cutoff, batch_size, dry_run=dry_run)
    report = FlushReport(
        flushed_at=now,
        dry_run=dry_run,
        request_log_cutoff=request_log_cutoff,
        webhook_cutoff=webhook_cutoff,
        authorizations=tuple(removed),
        kept_refreshable=kept,
        request_log_rows=request_rows,
        webhook_rows=webhook_rows,
    )
    log.info(
        "%s (retention: request log %s, webhooks %s)",
        report.summary(),
        format_duration(request_log_retention),
        format_duration(webhook_retention),
    )
    return report


def _removed(authorization: Any, shop_ids: list[str]) -> RemovedAuthorization:
    return RemovedAuthorization(
        authorization_id=authorization.id,
        open_id=authorization.open_id,
        seller_name=authorization.seller_name,
        refresh_token_expires_at=authorization.refresh_token_expires_at,
        shop_ids=tuple(sorted(shop_ids)),
    )
