"""``tiktok_run_failure_alert_sensor``: every failed run of the code location reaches people.

A Dagster run failure sensor: it watches every job of this code location (sync and its
backfills, webhook refreshes, token refresh and flush, the alert check) and sends one alert per
failed run, naming the job, the shops involved, the fix (the authorize link for shops that need
re-authorization) and the run's page. The shops come from the failure's metadata and from the
operational store: every known shop whose id the error names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg

from tiktok_pipeline.config import Settings, load_alert_settings, load_settings
from tiktok_pipeline.defs.alerting.delivery import deliver_and_report
from tiktok_pipeline.defs.alerting.message import Alert, safe_text, shops_phrase
from tiktok_pipeline.defs.resources import StoreResource
from tiktok_pipeline.lifecycle import ShopTokenStatus, reauthorize_url, token_status

RUN_FAILURE_SENSOR = "tiktok_run_failure_alert_sensor"
#: Shop statuses that only the seller can fix, by authorizing the app again.
REAUTH_STATUSES = frozenset({"needs_reauth", "deauthorized"})
#: Failure metadata (lists of shop ids) the jobs attach: refresh, flush, sync.
SHOP_METADATA = ("shops_needing_reauth", "failed_shops", "shops_unlinked")
NOT_CONFIGURED = (
    "no alert destination configured: set TIKTOK_ALERT_SLACK_WEBHOOK_URL (Slack) or "
    "TIKTOK_ALERT_SMTP_HOST with TIKTOK_ALERT_SMTP_TO (e-mail); see the README's Alerts section"
)
MAX_STEPS_QUOTED = 3


def run_url(settings: Settings, run_id: str) -> str:
    """The run's page in the Dagster UI (``TIKTOK_DAGSTER_UI_URL``)."""
    return f"{settings.dagster_ui_url.rstrip('/')}/runs/{run_id}"


def _partition(tags: dict[str, str]) -> str | None:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    return f"{start}...{end}" if start and end else None


def _failure_texts(context: dg.RunFailureSensorContext) -> tuple[list[str], list[Any]]:
    """The failed steps' messages (``step: description``) and their metadata mappings."""
    texts, metadata = [], []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        user = data.user_failure_data
        text = (user.description if user else None) or (data.error.message if data.error else "")
        texts.append(f"{event.step_key}: {text.strip()}")
        if user is not None:
            metadata.append(user.metadata)
    if not texts:  # the run failed outside any step (launch, run worker, cancellation)
        texts.append(context.failure_event.message or "the run failed")
    return texts, metadata


def _metadata_shops(metadata: Iterable[Any]) -> tuple[set[str], set[str]]:
    named: set[str] = set()
    reauth: set[str] = set()
    for entries in metadata:
        for key in SHOP_METADATA:
            value = getattr(entries.get(key), "value", None)
            if isinstance(value, list):
                named.update(str(v) for v in value)
                if key == "shops_needing_reauth":
                    reauth.update(str(v) for v in value)
    return named, reauth


def _shops_in_text(text: str, shops: Sequence[ShopTokenStatus]) -> set[str]:
    return {
        s.shop_id for s in shops if re.search(rf"(?<![\w-]){re.escape(s.shop_id)}(?![\w-])", text)
    }


def run_failure_alert(
    context: dg.RunFailureSensorContext,
    settings: Settings,
    shops: Sequence[ShopTokenStatus] | None,
    secrets: Sequence[str] = (),
) -> Alert:
    """The alert of a failed run: job, partition, shops, fix, error and run link.

    ``shops`` is every shop of the store with its status (None when the store is unreachable:
    the alert then names the shops the failure metadata lists).
    """
    run = context.dagster_run
    texts, metadata = _failure_texts(context)
    named, reauth = _metadata_shops(metadata)
    by_id = {s.shop_id: s for s in shops or ()}
    named |= _shops_in_text("\n".join(texts), shops or ())
    reauth |= {s for s in named if s in by_id and by_id[s].status in REAUTH_STATUSES}
    partition = _partition(dict(run.tags))

    def label(shop_id: str) -> str:
        shop = by_id.get(shop_id)
        if shop is None:
            return shop_id
        return f"{shop_id} ({', '.join(filter(None, (shop.name, shop.status)))})"

    fields = [("Job", run.job_name)]
    if partition:
        fields.append(("Partition", partition))
    if named:
        fields.append(("Shops", ", ".join(label(s) for s in sorted(named))))
    if reauth:
        fields.append(
            (
                "Fix",
                f"{shops_phrase(reauth)} {'needs' if len(reauth) == 1 else 'need'} "
                f"re-authorization: the seller opens "
                f"{reauth_link(settings)} and authorizes the app again, then re-execute the run",
            )
        )
    else:
        fields.append(("Fix", "read the error and the run's logs, then re-execute the run"))
    quoted = texts[:MAX_STEPS_QUOTED] + (
        [f"... and {len(texts) - MAX_STEPS_QUOTED} more failed step(s)"]
        if len(texts) > MAX_STEPS_QUOTED
        else []
    )
    fields.append(("Error", safe_text("\n".join(quoted), secrets)))
    fields.append(("Run", run_url(settings, run.run_id)))
    about = f" for {shops_phrase(named)}" if named else ""
    return Alert(
        title=f"{run.job_name} failed{about}",
        summary=(
            f"Run {run.run_id[:8]} of {run.job_name} failed."
            + (" Some shops need re-authorization." if reauth else "")
        ),
        fields=tuple(fields),
        secrets=tuple(secrets),
    )


def reauth_link(settings: Settings) -> str:
    """The authorize link of the web service (``TIKTOK_PUBLIC_URL``)."""
    return reauthorize_url(settings.public_url)


def store_view(store: StoreResource, log: Any) -> tuple[list[ShopTokenStatus] | None, list[str]]:
    """Every shop's status and the token values to keep out of alerts; (None, []) when the
    store cannot be read (the alert still goes out, with what the run itself says)."""
    try:
        the_store = store.get()
        tokens = [
            value
            for a in the_store.tokens.list_authorizations()
            for value in (a.access_token, a.refresh_token)
            if value
        ]
        return token_status(the_store), tokens
    except Exception as exc:  # the database may be why the run failed
        log.warning("Alert without shop details: the store is unreachable (%s)", type(exc).__name__)
        return None, []


def build_run_failure_alert_sensor(
    *,
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """``tiktok_run_failure_alert_sensor``: one alert per failed run of any job here.

    One failed run per tick (a tick ends within Dagster's 60 s even when a destination times
    out); the tick's skip reason says where the alert went. A failed delivery is logged at
    ERROR and not retried: Dagster's run status cursor moves on, so a bad webhook cannot loop.
    """

    @dg.run_failure_sensor(
        name=RUN_FAILURE_SENSOR,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Sends every failed run of this code location (sync, backfills, token refresh, "
            "flush, ...) to Slack and/or e-mail (TIKTOK_ALERT_*), naming the shops, the fix "
            "and the run. Skips when no destination is configured."
        ),
    )
    def run_failure_alert_sensor(
        context: dg.RunFailureSensorContext, store: StoreResource
    ) -> dg.SkipReason:
        alerts = load_alert_settings()
        if not alerts.destinations:
            return dg.SkipReason(NOT_CONFIGURED)
        settings = load_settings()
        shops, tokens = store_view(store, context.log)
        secrets = [s for s in (settings.app_secret, *tokens, *alerts.secrets) if s]
        alert = run_failure_alert(context, settings, shops, secrets)
        # A SkipReason (not None) ends the tick after this run; the next tick takes the next.
        return dg.SkipReason(deliver_and_report(alert, alerts, context.log))

    return run_failure_alert_sensor
