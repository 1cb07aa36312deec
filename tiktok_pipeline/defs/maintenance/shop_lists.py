"""Keep every authorization's shop list current: a job and its schedule.

A seller can add a shop to an existing authorization at TikTok without consenting again; this
job asks TikTok for each active authorization's shops and applies the answer to the token
store (:func:`tiktok_pipeline.lifecycle.shop_lists.refresh_shop_lists`, shared with
``tiktok-pipeline shops refresh``). A new shop is active in the store at once, so the new-shop
history sensor gives it its history on its next tick; a shop that left is ``departed`` (not
an alert: the seller removed it), and gets the days it missed when it comes back.
"""

# No ``from __future__ import annotations``: Dagster reads the Config annotations at run time.
from typing import Any

import dagster as dg

from tiktok_pipeline.config import DEFAULT_SHOP_LISTS_CRON, ConfigurationError
from tiktok_pipeline.defs.maintenance.jobs import MAINTENANCE_TAG
from tiktok_pipeline.defs.resources import TikTokResource
from tiktok_pipeline.defs.runs import run_in_flight
from tiktok_pipeline.lifecycle.links import reauthorize_url
from tiktok_pipeline.lifecycle.shop_lists import ShopListReport, refresh_shop_lists
from tiktok_pipeline.warehouse.dictionary import markdown_cell

TAG_VALUE = "shop_lists"


class ShopListsConfig(dg.Config):
    """Run config of ``tiktok_shop_lists_job``."""

    open_id: str | None = None
    """Only this seller's authorization (default: every active authorization)."""


def shop_lists_table(report: ShopListReport) -> str:
    """A markdown table with one row per authorization: what joined, came back, left, changed."""
    lines = [
        "| seller | authorization | outcome | added | returned | departed | updated | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in report.results:
        change = result.change
        cells = (
            result.seller_name or result.open_id,
            result.authorization_id,
            result.outcome.value,
            *(
                ", ".join(getattr(change, name)) if change is not None else ""
                for name in ("added", "returned", "departed", "updated")
            ),
            result.detail or "",
        )
        lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def shop_lists_metadata(report: ShopListReport) -> dict[str, Any]:
    """The run metadata: shop ids that joined, came back, left or changed, and a table."""
    return {
        "authorizations_checked": len(report.results),
        "shops_added": dg.MetadataValue.json(report.added),
        "shops_returned": dg.MetadataValue.json(report.returned),
        "shops_departed": dg.MetadataValue.json(report.departed),
        "shops_updated": dg.MetadataValue.json(report.updated),
        "authorizations_failed": dg.MetadataValue.json([r.open_id for r in report.problems]),
        "authorizations": dg.MetadataValue.md(shop_lists_table(report)),
    }


@dg.op(
    name="refresh_shop_lists",
    pool="tiktok_api",
    retry_policy=dg.RetryPolicy(
        max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
    out=dg.Out(dg.Nothing),
    tags={MAINTENANCE_TAG: TAG_VALUE},
)
def refresh_shop_lists_op(
    context: dg.OpExecutionContext, config: ShopListsConfig, tiktok: TikTokResource
) -> None:
    """Ask TikTok for every active authorization's shops and apply the lists to the store.

    New shops become active (the new-shop history sensor then syncs their history), shops no
    longer listed become ``departed``, shops listed again are active again. One failing
    authorization does not stop the others; the op then fails naming it, with retries only
    when every failure is transient. A dead token marks the seller ``needs_reauth``.
    """
    try:
        report = refresh_shop_lists(tiktok.client(), tiktok.store.get(), open_id=config.open_id)
    except ConfigurationError as exc:  # e.g. an unknown open_id
        raise dg.Failure(str(exc), allow_retries=False) from None
    metadata = shop_lists_metadata(report)
    context.log.info("%s", report.summary())
    for result in report.results:
        if result.change is not None and result.change.changed:
            change = result.change
            context.log.info(
                "seller %s (authorization %s): added %s; returned %s; departed %s; updated %s",
                result.seller_name or result.open_id,
                result.authorization_id,
                ", ".join(change.added) or "none",
                ", ".join(change.returned) or "none",
                ", ".join(change.departed) or "none",
                ", ".join(change.updated) or "none",
            )
    if report.ok:
        context.add_output_metadata(metadata)
        return
    problems = "; ".join(
        f"seller {r.seller_name or r.open_id} (open_id {r.open_id}): {r.outcome.value}: {r.detail}"
        for r in report.problems
    )
    raise dg.Failure(
        description=(
            f"the shop list of {len(report.problems)} authorization(s) could not be read: "
            f"{problems}. A seller marked needs_reauth opens {reauthorize_url()} and authorizes "
            "the app again."
        ),
        metadata=metadata,
        allow_retries=report.retryable,
    )


@dg.job(
    name="tiktok_shop_lists_job",
    description=(
        "Refresh every seller authorization's shop list from TikTok: shops added to an "
        "authorization become active, shops removed from it departed."
    ),
    tags={MAINTENANCE_TAG: TAG_VALUE},
)
def shop_lists_job() -> None:
    """Refresh the authorizations' shop lists."""
    refresh_shop_lists_op()


def build_shop_lists_schedule(
    cron: str = DEFAULT_SHOP_LISTS_CRON,
    *,
    timezone: str = "UTC",
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """``tiktok_shop_lists_schedule``: the shop-list refresh (hourly by default)."""

    @dg.schedule(
        name="tiktok_shop_lists_schedule",
        cron_schedule=cron,
        job=shop_lists_job,
        execution_timezone=timezone,
        default_status=default_status,
        description="Refresh every seller authorization's shop list from TikTok.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if run_in_flight(context.instance, shop_lists_job.name):
            return dg.SkipReason("a shop-list refresh run is still queued or running")
        return dg.RunRequest(tags={MAINTENANCE_TAG: TAG_VALUE})

    return schedule
