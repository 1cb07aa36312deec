"""The sensor that consumes the webhook inbox."""

from datetime import timedelta

import dagster as dg

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.defs.maintenance.alerts import tokens_check_job
from tiktok_pipeline.defs.resources import StoreResource
from tiktok_pipeline.defs.webhooks.job import MAX_ATTEMPTS, OP_NAME, webhook_refresh_job
from tiktok_pipeline.defs.webhooks.routing import plan
from tiktok_pipeline.store import ShopStatus
from tiktok_pipeline.store.models import InboxStatus

#: Rows read per tick; the rest wait for the next tick (the cursor moves past what was read).
BATCH_SIZE = 500
#: A row handed to a run that has not started after this long is handed out again.
REDISPATCH_AFTER = timedelta(minutes=10)
ENDED_BADLY = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _recover_rows_of_dead_runs(instance: dg.DagsterInstance, inbox) -> int:
    """Rows left `processing` by a run that crashed go back to pending (or fail)."""
    moved = 0
    by_run: dict[str, list] = {}
    for row in inbox.in_status(InboxStatus.PROCESSING.value):
        by_run.setdefault(row.run_id or "", []).append(row)
    for run_id, rows in by_run.items():
        run = instance.get_run_by_id(run_id) if run_id else None
        if run is not None and run.status not in ENDED_BADLY:
            continue
        error = f"run {run_id or '(unknown)'} ended {run.status.value if run else 'missing'}"
        done = [r.id for r in rows if r.attempts >= MAX_ATTEMPTS]
        again = [r.id for r in rows if r.attempts < MAX_ATTEMPTS]
        inbox.mark(done, InboxStatus.FAILED.value, error=error)
        inbox.mark(again, InboxStatus.PENDING.value, error=error)
        moved += len(rows)
    return moved


def build_webhook_sensor(interval_seconds: int = 10) -> dg.SensorDefinition:
    """The sensor that turns inbox rows into refresh runs, every ``interval_seconds``."""

    @dg.sensor(
        name="tiktok_webhook_sensor",
        jobs=[webhook_refresh_job, tokens_check_job],
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Reads pending webhook rows past its cursor and launches runs that refresh exactly "
            "the orders, returns and products they name; applies deauthorizations and "
            "authorization-expiry warnings; marks the rest ignored with a reason."
        ),
    )
    def webhook_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
        the_store = store.get()
        inbox = the_store.webhooks
        cursor = int(context.cursor or 0)
        recovered = _recover_rows_of_dead_runs(context.instance, inbox)
        rows = inbox.ready(
            after_id=cursor, dispatched_before=utcnow() - REDISPATCH_AFTER, limit=BATCH_SIZE
        )
        if not rows:
            return dg.SensorResult(
                skip_reason=f"no pending webhook rows (recovered {recovered} from dead runs)"
            )
        work = plan(rows)
        requests: list[dg.RunRequest] = []
        # Rows to mark, by (status, error): one write per group, not one per row.
        marks: dict[tuple[str, str | None], list[int]] = {}
        for shop_id, row_ids in work.deauthorized.items():
            the_store.tokens.set_shop_status(
                shop_id,
                ShopStatus.DEAUTHORIZED,
                "the seller removed the app (SELLER_DEAUTHORIZATION)",
            )
            marks.setdefault((InboxStatus.PROCESSED.value, None), []).extend(row_ids)
        for shop_id, expires_at, row_id in work.expiring:
            try:
                the_store.tokens.record_authorization_expiry(shop_id, expires_at)
            except LookupError as error:
                marks.setdefault((InboxStatus.IGNORED.value, str(error)), []).append(row_id)
                continue
            marks.setdefault((InboxStatus.PROCESSED.value, None), []).append(row_id)
        if work.expiring:
            requests.append(
                dg.RunRequest(
                    job_name=tokens_check_job.name,
                    run_key=f"authorization-expiry:{max(r for _, _, r in work.expiring)}",
                )
            )
        for row_id, reason in work.ignored:
            marks.setdefault((InboxStatus.IGNORED.value, reason), []).append(row_id)
        for (status, problem), row_ids in marks.items():
            inbox.mark(row_ids, status, error=problem)
        refresh_ids = sorted(i for shop in work.refresh.values() for i in shop.row_ids)
        if refresh_ids:
            to_refresh = set(refresh_ids)
            retry_round = max(row.attempts for row in rows if row.id in to_refresh)
            requests.append(
                dg.RunRequest(
                    job_name=webhook_refresh_job.name,
                    run_key=f"webhooks:{refresh_ids[0]}-{refresh_ids[-1]}:{retry_round}",
                    run_config={"ops": {OP_NAME: {"config": {"inbox_ids": refresh_ids}}}},
                    tags={"tiktok/shops": ",".join(sorted(work.refresh))[:255]},
                )
            )
        context.log.info(
            "%d row(s): %d to refresh in %d shop(s), %d deauthorization(s), %d expiry "
            "warning(s), %d ignored",
            len(rows),
            len(refresh_ids),
            len(work.refresh),
            len(work.deauthorized),
            len(work.expiring),
            len(work.ignored),
        )
        return dg.SensorResult(
            run_requests=requests, cursor=str(max(cursor, max(row.id for row in rows)))
        )

    return webhook_sensor
