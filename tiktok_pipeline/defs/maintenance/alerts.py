"""The alert the UI shows before a shop goes dark: the ``shops_connected`` check.

``tiktok_authorizations`` is an external asset (the operational store's table, written by the
web service's authorization callback and the refresh job); its check fails, with severity
ERROR, while any shop needs re-authorization or is deauthorized, or a refresh token or the
authorization itself (as TikTok announced with webhook 7, UPCOMING_AUTHORIZATION_EXPIRATION,
which the webhook sensor records) ends within the warning window. A job that runs only this
check, on an hourly schedule, keeps the alert current.

``departed`` shops (no longer in their authorization's shop list: the seller removed them from
the app, or they left the seller) are not counted among the shops that must be connected, and
never turn the check red: re-authorizing, the only fix the check offers, would not bring them
back, and an alert nobody can clear teaches people to ignore it. They are named in the
``shops_departed`` metadata and the description, so that a shop missing from the count is
explained.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from tiktok_pipeline.defs.resources import StoreResource
from tiktok_pipeline.lifecycle import ShopTokenStatus, format_duration, reauthorize_url
from tiktok_pipeline.lifecycle.status import DEFAULT_WARN_WITHIN, token_status
from tiktok_pipeline.warehouse.dictionary import markdown_cell

GROUP = "tiktok_tokens"
CHECK_NAME = "shops_connected"

tiktok_authorizations = dg.AssetSpec(
    key="tiktok_authorizations",
    group_name=GROUP,
    kinds={"tiktok"},
    description=(
        "Seller authorizations and their tokens (table tiktok_authorizations of the operational "
        "store), one per seller; shops point at them. Written by the seller authorization "
        "callback, kept fresh by tiktok_refresh_tokens_job, pruned by "
        "tiktok_flush_expired_tokens_job."
    ),
)


def problems_table(rows: list[ShopTokenStatus]) -> str:
    """A markdown table of the shops that need attention, one line per problem."""
    lines = ["| shop | name | status | problem |", "|---|---|---|---|"]
    for row in rows:
        for problem in row.problems:
            cells = (row.shop_id, row.name or "-", row.status, problem)
            lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def departed_text(shop_ids: list[str]) -> str:
    """The check's note on departed shops: which, and that they need nothing."""
    more = len(shop_ids) - 10
    listed = ", ".join(shop_ids[:10]) + (f" and {more} more" if more > 0 else "")
    return (
        f"Not counted: {len(shop_ids)} departed shop(s) ({listed}), no longer in their "
        "authorization's shop list (the seller removed them from the app); nothing to fix, "
        "they are active again when the seller adds them back."
    )


def build_shops_connected_check(
    warn_within: timedelta = DEFAULT_WARN_WITHIN,
) -> dg.AssetChecksDefinition:
    """The ``shops_connected`` check, warning ``warn_within`` before a refresh token or
    authorization ends (default 14 days)."""
    window = format_duration(warn_within)

    @dg.asset_check(
        asset=tiktok_authorizations.key,
        name=CHECK_NAME,
        description=(
            "Every shop is connected: none needs re-authorization or is deauthorized, and no "
            f"refresh token or authorization ends within {window}. Shops the seller removed "
            "from the app (departed) are not expected to be connected."
        ),
    )
    def shops_connected(store: StoreResource) -> dg.AssetCheckResult:
        everything = token_status(store.get(), warn_within=warn_within)
        departed = [row.shop_id for row in everything if row.departed]
        rows = [row for row in everything if not row.departed]
        bad = [row for row in rows if not row.ok]
        link = reauthorize_url()
        texts = []
        if bad:
            texts.append(
                f"{len(bad)} of {len(rows)} shop(s) need attention: "
                + "; ".join(f"{row.shop_id}: {row.problems[0]}" for row in bad[:10])
                + f". Fix: the seller opens {link} and authorizes the app again."
            )
        if departed:
            texts.append(departed_text(departed))
        return dg.AssetCheckResult(
            passed=not bad,
            severity=dg.AssetCheckSeverity.ERROR,
            description=" ".join(texts) or None,
            metadata={
                "shops": len(rows),
                "shops_needing_attention": dg.MetadataValue.json([row.shop_id for row in bad]),
                "shops_departed": dg.MetadataValue.json(departed),
                "problems": dg.MetadataValue.md(problems_table(bad)),
                "reauthorize_url": dg.MetadataValue.url(link),
                "warn_within": dg.MetadataValue.text(window),
            },
        )

    return shops_connected


shops_connected = build_shops_connected_check()

tokens_check_job = dg.define_asset_job(
    "tiktok_tokens_check_job",
    selection=dg.AssetSelection.checks(shops_connected),
    description="Evaluate the shops_connected alert (shops needing re-authorization or expiring).",
    tags={"tiktok/maintenance": "check"},
)
