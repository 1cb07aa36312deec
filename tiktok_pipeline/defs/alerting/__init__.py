"""Alerts that reach people: failed runs and the ``shops_connected`` check, to Slack and e-mail.

Destinations come from ``TIKTOK_ALERT_*`` variables (:func:`tiktok_pipeline.config.
load_alert_settings`), read at each sensor tick. Two sensors, on by default::

    dg.Definitions(sensors=[..., *build_alert_sensors(shops_connected.check_key)])

``tiktok_run_failure_alert_sensor`` sends each failed run of the code location;
``tiktok_shops_connected_alert_sensor`` sends the check's turn to red and its recovery.
"""

from __future__ import annotations

import dagster as dg

from tiktok_pipeline.defs.alerting.delivery import AlertDeliveryError, Delivery, deliver
from tiktok_pipeline.defs.alerting.message import Alert
from tiktok_pipeline.defs.alerting.run_failure import (
    NOT_CONFIGURED,
    RUN_FAILURE_SENSOR,
    build_run_failure_alert_sensor,
    run_failure_alert,
)
from tiktok_pipeline.defs.alerting.shops_connected import (
    SHOPS_CONNECTED_SENSOR,
    build_shops_connected_alert_sensor,
    transition_alert,
)


def build_alert_sensors(check_key: dg.AssetCheckKey) -> list[dg.SensorDefinition]:
    """The run failure alert sensor and the alert sensor of the check ``check_key``."""
    return [build_run_failure_alert_sensor(), build_shops_connected_alert_sensor(check_key)]


__all__ = [
    "NOT_CONFIGURED",
    "RUN_FAILURE_SENSOR",
    "SHOPS_CONNECTED_SENSOR",
    "Alert",
    "AlertDeliveryError",
    "Delivery",
    "build_alert_sensors",
    "build_run_failure_alert_sensor",
    "build_shops_connected_alert_sensor",
    "deliver",
    "run_failure_alert",
    "transition_alert",
]
