"""The token maintenance jobs: refresh expiring tokens, flush what is dead.

Both are op jobs with run config (``dg.Config``) so that the launchpad and the schedules can
tune them; the work itself lives in :mod:`tiktok_pipeline.lifecycle`, shared with the CLI.
"""

# No ``from __future__ import annotations``: Dagster reads the Config annotations at run time.
from datetime import datetime
from typing import Any

import dagster as dg

from tiktok_pipeline.config import ConfigurationError
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource
from tiktok_pipeline.lifecycle import (
    FlushReport,
    RefreshOutcome,
    RefreshReport,
    flush,
    format_duration,
    parse_duration,
    reauthorize_url,
    refresh_expiring,
)
from tiktok_pipeline.warehouse.dictionary import markdown_cell

#: Tags every maintenance run carries (filter on them in the UI).
MAINTENANCE_TAG = "tiktok/maintenance"


class RefreshTokensConfig(dg.Config):
    """Run config of ``tiktok_refresh_tokens_job``."""

    within: str = "48h"
    """Refresh access tokens expiring within this duration (e.g. 90m, 48h, 2d)."""
    shop_id: str | None = None
    """Only the authorization of this shop (default: every authorization)."""
    dry_run: bool = False
    """Report what would be refreshed; call nothing, change nothing."""


class FlushTokensConfig(dg.Config):
    """Run config of ``tiktok_flush_expired_tokens_job``."""

    request_log_retention: str = "30d"
    """Keep ``tiktok_requests`` rows younger than this."""
    webhook_retention: str = "90d"
    """Keep processed ``tiktok_webhooks`` rows younger than this."""
    batch_size: int = 1000
    """Rows (or authorizations) deleted per transaction."""
    dry_run: bool = False
    """Count what would be removed; delete nothing."""


def _duration(name: str, text: str) -> Any:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise dg.Failure(f"run config {name}: {exc}", allow_retries=False) from None
    if value.total_seconds() <= 0:
        raise dg.Failure(
            f"run config {name}: {text!r} is not a positive duration", allow_retries=False
        )
    return value


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def refresh_table(report: RefreshReport) -> str:
    """A markdown table with one row per shop (and per authorization without shops)."""
    lines = [
        "| shop | seller | authorization | outcome | access token expires | "
        "refresh token expires | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in report.results:
        authorization = result.authorization_id if result.authorization_id is not None else "-"
        cells = (
            result.seller_name or result.open_id or "-",
            authorization,
            result.outcome.value,
            _when(result.access_token_expires_at),
            _when(result.refresh_token_expires_at),
            result.detail or "",
        )
        lines += [
            "| " + " | ".join(markdown_cell(c) for c in (shop_id, *cells)) + " |"
            for shop_id in result.shop_ids or ("-",)
        ]
    return "\n".join(lines)


def refresh_metadata(report: RefreshReport, link: str) -> dict[str, Any]:
    """The run metadata of a refresh: counts, shops to re-authorize, the fix link, a table."""
    counts = report.counts()
    return {
        "authorizations_checked": len(report.results),
        "refreshed": counts[RefreshOutcome.REFRESHED.value],
        "skipped_not_due": counts[RefreshOutcome.SKIPPED.value],
        "due_dry_run": counts[RefreshOutcome.DUE.value],
        "needs_reauth": counts[RefreshOutcome.NEEDS_REAUTH.value],
        "failed": counts[RefreshOutcome.FAILED.value],
        "within": dg.MetadataValue.text(format_duration(report.within)),
        "dry_run": dg.MetadataValue.bool(report.dry_run),
        "shops_needing_reauth": dg.MetadataValue.json(report.shops_needing_reauth),
        "failed_shops": dg.MetadataValue.json(report.failed_shops),
        "reauthorize_url": dg.MetadataValue.url(link),
        "shops": dg.MetadataValue.md(refresh_table(report)),
    }


@dg.op(
    pool="tiktok_api",
    retry_policy=dg.RetryPolicy(
        max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
    out=dg.Out(dg.Nothing),
    tags={MAINTENANCE_TAG: "refresh"},
)
def refresh_expiring_tokens(
    context: dg.OpExecutionContext, config: RefreshTokensConfig, tiktok: TikTokResource
) -> None:
    """Refresh every seller authorization whose access token expires within ``within``.

    One TikTok call per authorization (not per shop), shared with any other process refreshing
    at the same time. A dead refresh token marks the authorization and its shops
    ``needs_reauth`` and is never retried; the op then fails naming the shops and the link that
    fixes them. Transient failures (after the client's own retries) fail the op with retries
    allowed; already refreshed authorizations are skipped on the retry.
    """
    within = _duration("within", config.within)
    link = reauthorize_url()
    client = tiktok.client()
    try:
        report = refresh_expiring(
            None if config.dry_run else client,
            tiktok.store.get(),  # the store the client was built with (StoreResource caches it)
            within=within,
            shop_id=config.shop_id,
            dry_run=config.dry_run,
        )
    except ConfigurationError as exc:  # e.g. an unknown shop_id
        raise dg.Failure(str(exc), allow_retries=False) from None
    metadata = refresh_metadata(report, link)
    context.log.info("%s", report.summary())
    if report.ok:
        context.add_output_metadata(metadata)
        return
    problems = []
    if report.shops_needing_reauth:
        problems.append(
            f"shop(s) {', '.join(report.shops_needing_reauth)} need re-authorization: the "
            f"seller opens {link} and authorizes the app again"
        )
    if report.failed_shops:
        problems.append(
            f"the tokens of shop(s) {', '.join(report.failed_shops)} could not be refreshed "
            "(transient errors after retries; see the shops table)"
        )
    raise dg.Failure(
        description="; ".join(problems),
        metadata=metadata,
        allow_retries=report.retryable,
    )


def flush_metadata(report: FlushReport) -> dict[str, Any]:
    """The run metadata of a flush: what went (or would go) and the cutoffs."""
    return {
        "authorizations_removed": len(report.authorizations),
        "kept_refreshable": report.kept_refreshable,
        "shops_unlinked": dg.MetadataValue.json(report.shops_unlinked),
        "removed": dg.MetadataValue.json([a.to_dict() for a in report.authorizations]),
        "request_log_rows": report.request_log_rows,
        "request_log_cutoff": dg.MetadataValue.text(_when(report.request_log_cutoff)),
        "webhook_rows": report.webhook_rows,
        "webhook_cutoff": dg.MetadataValue.text(_when(report.webhook_cutoff)),
        "dry_run": dg.MetadataValue.bool(report.dry_run),
    }


@dg.op(out=dg.Out(dg.Nothing), tags={MAINTENANCE_TAG: "flush"})
def flush_expired_tokens(
    context: dg.OpExecutionContext, config: FlushTokensConfig, store: StoreResource
) -> None:
    """Remove authorizations whose refresh token expired, and old request log and webhook rows.

    Authorizations whose access token alone has expired are kept: they are refreshable. The
    removed authorizations' shops stay, marked ``needs_reauth``, until the seller authorizes
    again. Deletes run in batches; nothing here asks for confirmation.
    """
    if config.batch_size < 1:
        raise dg.Failure("run config batch_size must be at least 1", allow_retries=False)
    report = flush(
        store.get(),
        request_log_retention=_duration("request_log_retention", config.request_log_retention),
        webhook_retention=_duration("webhook_retention", config.webhook_retention),
        batch_size=config.batch_size,
        dry_run=config.dry_run,
    )
    context.log.info("%s", report.summary())
    context.add_output_metadata(flush_metadata(report))


@dg.job(
    name="tiktok_refresh_tokens_job",
    description="Refresh the TikTok access tokens that expire soon (one call per seller).",
    tags={MAINTENANCE_TAG: "refresh"},
)
def refresh_tokens_job() -> None:
    """Refresh expiring access tokens."""
    refresh_expiring_tokens()


@dg.job(
    name="tiktok_flush_expired_tokens_job",
    description=(
        "Remove authorizations whose refresh token expired, and old request log and processed "
        "webhook rows."
    ),
    tags={MAINTENANCE_TAG: "flush"},
)
def flush_expired_tokens_job() -> None:
    """Flush dead authorizations and old rows."""
    flush_expired_tokens()
