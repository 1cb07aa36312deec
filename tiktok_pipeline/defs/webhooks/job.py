"""The run a webhook batch launches: fetch the named objects again and mark the inbox rows."""

import dagster as dg
from pydantic import Field

from tiktok_pipeline.client import TokenError, UnknownShopError
from tiktok_pipeline.defs.resources import StoreResource, TikTokResource, WarehouseResource
from tiktok_pipeline.defs.webhooks.refresh import refresh_shop
from tiktok_pipeline.defs.webhooks.routing import plan
from tiktok_pipeline.store.models import InboxStatus

#: A row whose refresh failed this many times is marked failed (the scheduled pulls still
#: bring its object in: polling is the source of truth, webhooks make it fast).
MAX_ATTEMPTS = 5
OP_NAME = "apply_webhooks"


class WebhookRefreshConfig(dg.Config):
    """Which inbox rows this run applies."""

    inbox_ids: list[int] = Field(description="Ids of tiktok_webhooks rows to apply.")
    max_attempts: int = Field(
        default=MAX_ATTEMPTS, description="Attempts before a row is marked failed."
    )


def _final(error: BaseException, attempts: int, max_attempts: int) -> bool:
    """True when retrying the row cannot help (token trouble, unknown shop) or was tried enough."""
    return isinstance(error, TokenError | UnknownShopError) or attempts >= max_attempts


@dg.op(name=OP_NAME, pool="tiktok_api")
def apply_webhooks(
    context: dg.OpExecutionContext,
    config: WebhookRefreshConfig,
    tiktok: TikTokResource,
    store: StoreResource,
    warehouse: WarehouseResource,
) -> None:
    """Fetch the orders, returns, products and cancellations the pushes named (orders 50 ids a
    call) and write them with the pipeline's loading rules (`_source = webhook`); mark the rows."""
    inbox = store.get().webhooks
    wanted = {InboxStatus.PENDING.value, InboxStatus.PROCESSING.value}
    rows = [row for row in inbox.get_many(config.inbox_ids) if row.status in wanted]
    work = plan(rows)
    row_ids = [row_id for shop in work.refresh.values() for row_id in shop.row_ids]
    inbox.mark(row_ids, InboxStatus.PROCESSING.value, run_id=context.run_id)
    attempts = {row.id: row.attempts + 1 for row in rows}
    failed: dict[str, BaseException] = {}
    for shop_id, shop in sorted(work.refresh.items()):
        try:
            result = refresh_shop(tiktok.shop(shop_id), warehouse.get(), shop)
        except Exception as error:  # one shop's failure must not block the others
            failed[shop_id] = error
            message = f"{type(error).__name__}: {error}"
            final = [i for i in shop.row_ids if _final(error, attempts[i], config.max_attempts)]
            retry = [i for i in shop.row_ids if i not in final]
            inbox.mark(final, InboxStatus.FAILED.value, error=message)
            inbox.mark(retry, InboxStatus.PENDING.value, error=message)
            context.log.warning("webhook refresh of shop %s failed: %s", shop_id, message)
            continue
        inbox.mark(shop.row_ids, InboxStatus.PROCESSED.value)
        for table, counts in result.items():
            context.log_event(
                dg.AssetObservation(
                    asset_key=table,
                    metadata={
                        "source": "webhook",
                        "shop_id": shop_id,
                        "inbox_rows": len(shop.row_ids),
                        **counts.as_dict(),
                    },
                )
            )
        context.log.info(
            "shop %s: %d order(s), %d return(s), %d product(s), %d cancellation(s) refreshed "
            "from %d push(es)",
            shop_id,
            len(shop.orders),
            len(shop.returns),
            len(shop.products),
            len(shop.cancellations),
            len(shop.row_ids),
        )
    if failed:
        raise dg.Failure(
            description="webhook refresh failed for shop(s) "
            + "; ".join(f"{shop}: {type(e).__name__}: {e}" for shop, e in failed.items())
            + ". Their rows are retried by the next sensor ticks (or marked failed); the "
            "scheduled syncs bring the objects in regardless.",
            allow_retries=False,
        )


@dg.job(
    name="tiktok_webhook_refresh_job",
    description="Apply a batch of webhook pushes: refresh exactly the objects they named.",
    tags={"tiktok/trigger": "webhook"},
)
def webhook_refresh_job() -> None:
    """One op: the refresh of the batch."""
    apply_webhooks()
