"""``tiktok_shops_connected_alert_sensor``: the ``shops_connected`` check turning red, and back.

The check runs hourly (and whenever a webhook announces a deauthorization or an expiring
authorization). This sensor reads its latest evaluation from the instance and alerts on a
change only: once when it turns red (naming the shops, their problems and the authorize link),
once more when further shops join a red check, and once when it is green again. The cursor
holds the last evaluation seen and the shops it reported, so a red check that stays red for a
week sends one message, not one per tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import dagster as dg

from tiktok_pipeline.config import Settings, load_alert_settings, load_settings
from tiktok_pipeline.defs.alerting.delivery import deliver_and_report
from tiktok_pipeline.defs.alerting.message import Alert, count_phrase, safe_text, shops_phrase
from tiktok_pipeline.defs.alerting.run_failure import NOT_CONFIGURED, reauth_link, run_url

SHOPS_CONNECTED_SENSOR = "tiktok_shops_connected_alert_sensor"
#: Finished evaluations are looked for among this many latest executions (the newest may be
#: still running, or its run may have crashed before evaluating).
HISTORY_LIMIT = 5


@dataclass(frozen=True)
class CheckState:
    """What the sensor last saw: the evaluation's storage id and its red shops (None: green)."""

    record_id: int | None = None
    red: frozenset[str] | None = None

    @classmethod
    def from_cursor(cls, cursor: str | None) -> CheckState:
        """The state saved in the sensor's cursor (the empty state for none or a foreign one)."""
        try:
            data = json.loads(cursor or "")
            red = data.get("red")
            return cls(int(data["record_id"]), None if red is None else frozenset(red))
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()

    def to_cursor(self) -> str:
        """The cursor text of this state."""
        red = None if self.red is None else sorted(self.red)
        return json.dumps({"record_id": self.record_id, "red": red})


def latest_evaluation(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey
) -> tuple[int, str, dg.AssetCheckEvaluation] | None:
    """The newest finished evaluation of ``check_key``: (storage id, run id, evaluation)."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=HISTORY_LIMIT
    )
    for record in records:
        evaluation = record.event.asset_check_evaluation if record.event else None
        if evaluation is not None:
            return record.id, record.run_id, evaluation
    return None


def _shops(evaluation: dg.AssetCheckEvaluation) -> frozenset[str]:
    value = getattr(evaluation.metadata.get("shops_needing_attention"), "value", None)
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def transition_alert(
    before: CheckState,
    evaluation: dg.AssetCheckEvaluation,
    run_id: str,
    settings: Settings,
) -> Alert | None:
    """The alert the change from ``before`` to ``evaluation`` deserves, or None.

    Red after green or nothing: an alert naming every shop. Red with new shops: an alert
    naming them. Green after red: a recovery. Anything else: None.
    """
    check = evaluation.check_name
    run = ("Run", run_url(settings, run_id))
    if evaluation.passed:
        if before.red is None:
            return None
        return Alert(
            title=f"{check} is green again: every shop is connected",
            summary=(
                f"{shops_phrase(before.red).capitalize()} "
                f"{'needs' if len(before.red) == 1 else 'need'} no attention any more."
            ),
            fields=(run,),
            ok=True,
        )
    shops = _shops(evaluation)
    new = shops - (before.red or frozenset()) if before.red is not None else shops
    if before.red is not None and not new:
        return None
    title = (
        f"{check} is red: {count_phrase(len(shops), 'shop needs', 'shops need')} attention"
        if before.red is None
        else f"{check}: {count_phrase(len(new), 'more shop needs', 'more shops need')} attention"
    )
    return Alert(
        title=title,
        summary=safe_text(evaluation.description or ""),
        fields=(
            ("Shops", ", ".join(sorted(new))),
            *((("Still red", ", ".join(sorted(shops - new))),) if shops - new else ()),
            (
                "Fix",
                f"the seller opens {reauth_link(settings)} and authorizes the app again; for an "
                "expiring refresh token, tiktok_refresh_tokens_job renews it if the seller is "
                "still authorized",
            ),
            run,
        ),
    )


def build_shops_connected_alert_sensor(
    check_key: dg.AssetCheckKey,
    *,
    minimum_interval_seconds: int = 60,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """``tiktok_shops_connected_alert_sensor`` over the check ``check_key``.

    A failed delivery is logged at ERROR and shown as the tick's skip reason; the sensor moves
    on (a bad webhook would otherwise fail every tick). No destination: every tick skips saying
    which variables to set, and the first tick once one is set reports the current state.
    """

    @dg.sensor(
        name=SHOPS_CONNECTED_SENSOR,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            f"Alerts Slack and/or e-mail (TIKTOK_ALERT_*) once when {check_key.name} turns red "
            "(shops needing re-authorization, with the authorize link) and once when it is "
            "green again. Skips when no destination is configured."
        ),
    )
    def shops_connected_alert_sensor(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        alerts = load_alert_settings()
        if not alerts.destinations:
            return dg.SkipReason(NOT_CONFIGURED)
        latest = latest_evaluation(context.instance, check_key)
        if latest is None:
            return dg.SkipReason(f"{check_key.name} has not been evaluated yet")
        record_id, run_id, evaluation = latest
        before = CheckState.from_cursor(context.cursor)
        if before.record_id == record_id:
            return dg.SkipReason(f"no new evaluation of {check_key.name}")
        after = CheckState(record_id, None if evaluation.passed else _shops(evaluation))
        alert = transition_alert(before, evaluation, run_id, load_settings())
        if alert is None:
            colour = "green" if evaluation.passed else "red"
            message = f"{check_key.name} still {colour}: nothing new to alert"
        else:
            message = deliver_and_report(alert, alerts, context.log)
        return dg.SensorResult(skip_reason=message, cursor=after.to_cursor())

    return shops_connected_alert_sensor
