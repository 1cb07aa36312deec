"""Settings from the environment: defaults, accepted values, errors that name the variable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import pytest

from tiktok_pipeline.config import (
    ConfigurationError,
    ScheduleSettings,
    ca_bundle,
    load_schedule_settings,
)
from tiktok_pipeline.definitions import defs as load_definitions
from tiktok_pipeline.defs.ingestion.automation import history_ranges

SCHEDULE_VARIABLES = (
    "TIKTOK_SYNC_CRON",
    "TIKTOK_LATE_UPDATES_CRON",
    "TIKTOK_REFRESH_CRON",
    "TIKTOK_FLUSH_CRON",
    "TIKTOK_TOKENS_CHECK_CRON",
    "TIKTOK_HISTORY_DAYS",
    "TIKTOK_WEBHOOK_SENSOR_SECONDS",
    "TIKTOK_BACKFILL_DAYS_PER_RUN",
    "TIKTOK_PARTITIONS_START",
)


def test_schedule_defaults_when_nothing_or_blanks_are_set() -> None:
    expected = ScheduleSettings(
        sync_cron="*/15 * * * *",
        late_updates_cron="30 0 * * *",
        refresh_cron="0 3 * * *",
        flush_cron="0 4 * * 0",
        tokens_check_cron="0 * * * *",
        history_days=90,
        webhook_sensor_seconds=10,
        backfill_days_per_run=366,
        partitions_start=date(2023, 1, 1),
    )
    assert load_schedule_settings({}) == expected
    assert load_schedule_settings(dict.fromkeys(SCHEDULE_VARIABLES, "  ")) == expected


def test_schedule_values_are_read() -> None:
    settings = load_schedule_settings(
        {
            "TIKTOK_SYNC_CRON": "*/5  * * * *",
            "TIKTOK_LATE_UPDATES_CRON": "15 1 * * *",
            "TIKTOK_REFRESH_CRON": "0 */6 * * *",
            "TIKTOK_FLUSH_CRON": "0 4 * * SUN",
            "TIKTOK_TOKENS_CHECK_CRON": "*/30 * * * mon-fri",
            "TIKTOK_HISTORY_DAYS": " 0 ",
            "TIKTOK_WEBHOOK_SENSOR_SECONDS": "30",
            "TIKTOK_BACKFILL_DAYS_PER_RUN": "31",
            "TIKTOK_PARTITIONS_START": " 2026-09-03 ",
        }
    )
    assert settings == ScheduleSettings(
        sync_cron="*/5 * * * *",
        late_updates_cron="15 1 * * *",
        refresh_cron="0 */6 * * *",
        flush_cron="0 4 * * SUN",
        tokens_check_cron="*/30 * * * mon-fri",
        history_days=0,
        webhook_sensor_seconds=30,
        backfill_days_per_run=31,
        partitions_start=date(2026, 9, 3),
    )


@pytest.mark.parametrize(
    ("variable", "value", "explanation"),
    [
        pytest.param(
            "TIKTOK_HISTORY_DAYS", "ninety", "whole number of days", id="days-not-a-number"
        ),
        pytest.param("TIKTOK_HISTORY_DAYS", "7.5", "whole number of days", id="days-fractional"),
        pytest.param("TIKTOK_HISTORY_DAYS", "-1", "0 or more", id="days-negative"),
        pytest.param("TIKTOK_WEBHOOK_SENSOR_SECONDS", "0", "1 or more", id="sensor-zero-seconds"),
        pytest.param("TIKTOK_BACKFILL_DAYS_PER_RUN", "0", "1 or more", id="backfill-zero-days"),
        pytest.param(
            "TIKTOK_WEBHOOK_SENSOR_SECONDS", "10s", "whole number of seconds", id="sensor-unit"
        ),
        pytest.param("TIKTOK_SYNC_CRON", "every 15 minutes", "3 fields", id="cron-words"),
        pytest.param("TIKTOK_LATE_UPDATES_CRON", "0 30 0 * * *", "6 fields", id="cron-seconds"),
        pytest.param("TIKTOK_REFRESH_CRON", "61 3 * * *", "minute '61'", id="cron-minute-61"),
        pytest.param("TIKTOK_FLUSH_CRON", "0 4 * * funday", "day of week", id="cron-day-name"),
        pytest.param("TIKTOK_TOKENS_CHECK_CRON", "*/0 * * * *", "step 0", id="cron-step-0"),
        pytest.param("TIKTOK_SYNC_CRON", "0 24 * * *", "hour '24'", id="cron-hour-24"),
        pytest.param("TIKTOK_PARTITIONS_START", "2026/09/03", "YYYY-MM-DD", id="start-slashes"),
        pytest.param("TIKTOK_PARTITIONS_START", "20260903", "YYYY-MM-DD", id="start-compact"),
        pytest.param("TIKTOK_PARTITIONS_START", "2026-02-30", "YYYY-MM-DD", id="start-no-day"),
        pytest.param("TIKTOK_PARTITIONS_START", "3 months ago", "YYYY-MM-DD", id="start-words"),
        pytest.param("TIKTOK_PARTITIONS_START", "2999-01-01", "after today", id="start-future"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str, explanation: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_schedule_settings({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value.strip()!r}")
    assert explanation in message
    assert f"set it like {variable}=" in message or f"like {variable}='" in message


def test_the_definitions_use_the_settings(monkeypatch) -> None:
    for variable in SCHEDULE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("TIKTOK_SYNC_CRON", "*/5 * * * *")
    monkeypatch.setenv("TIKTOK_FLUSH_CRON", "0 5 * * 1")
    monkeypatch.setenv("TIKTOK_HISTORY_DAYS", "14")
    monkeypatch.setenv("TIKTOK_WEBHOOK_SENSOR_SECONDS", "45")
    monkeypatch.setenv("TIKTOK_BACKFILL_DAYS_PER_RUN", "31")

    definitions = load_definitions()

    def cron(name: str) -> str | Sequence[str]:
        return definitions.resolve_schedule_def(name).cron_schedule

    assert cron("tiktok_incremental_schedule") == "*/5 * * * *"
    assert cron("tiktok_late_updates_schedule") == "30 0 * * *"
    assert cron("tiktok_flush_schedule") == "0 5 * * 1"
    webhooks = definitions.resolve_sensor_def("tiktok_webhook_sensor")
    assert webhooks.minimum_interval_seconds == 45
    history = definitions.resolve_sensor_def("tiktok_new_shop_history_sensor")
    assert "last 14 days" in (history.description or "")
    orders = definitions.resolve_assets_def("tiktok_orders")
    assert orders.backfill_policy == dg.BackfillPolicy.multi_run(max_partitions_per_run=31)
    assert "up to 31 days each" in (history.description or "")


def test_bad_definitions_settings_fail_the_load_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_HISTORY_DAYS", "a quarter")
    with pytest.raises(ConfigurationError, match=r"^TIKTOK_HISTORY_DAYS='a quarter'"):
        load_definitions()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, None, id="none"),
        pytest.param({"CURL_CA_BUNDLE": "/etc/curl.pem"}, "/etc/curl.pem", id="curl"),
        pytest.param(
            {"REQUESTS_CA_BUNDLE": "/etc/req.pem", "CURL_CA_BUNDLE": "/etc/curl.pem"},
            "/etc/req.pem",
            id="requests-wins",
        ),
    ],
)
def test_the_ca_bundle_follows_requests_rules(environ: dict, expected: str | None) -> None:
    assert ca_bundle(environ) == expected


def test_the_partitions_start_where_the_setting_says(monkeypatch) -> None:
    for variable in SCHEDULE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=90)
    monkeypatch.setenv("TIKTOK_PARTITIONS_START", start.isoformat())
    monkeypatch.setenv("TIKTOK_HISTORY_DAYS", "365")

    definitions = load_definitions()

    # The 90 days before today and today: the partitions the UI counts (none before).
    for node in definitions.resolve_asset_graph().asset_nodes:
        if node.partitions_def is not None:
            assert node.partitions_def.get_first_partition_key() == start.isoformat(), node.key
            assert node.partitions_def.get_num_partitions() == 91, node.key
    job = definitions.resolve_job_def("tiktok_sync_job")
    assert job.partitions_def is not None
    assert job.partitions_def.get_first_partition_key() == start.isoformat()
    # A new shop's 365 days of history start at the first partition.
    assert history_ranges(datetime.now(UTC), 365, 366, start)[0][0] == start.isoformat()
    assert "last 365 days" in (
        definitions.resolve_sensor_def("tiktok_new_shop_history_sensor").description or ""
    )
    # Yesterday is before the first partition when it starts today: the late sync skips it.
    monkeypatch.setenv("TIKTOK_PARTITIONS_START", today.isoformat())
    late = load_definitions().resolve_schedule_def("tiktok_late_updates_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime.combine(today, time(0, 30), tzinfo=UTC)
    )
    skipped = late(context)
    assert isinstance(skipped, dg.SkipReason)
    assert "before the first partition" in (skipped.skip_message or "")


def test_today_is_a_valid_partitions_start() -> None:
    today = datetime.now(UTC).date()
    settings = load_schedule_settings({"TIKTOK_PARTITIONS_START": today.isoformat()})
    assert settings.partitions_start == today
