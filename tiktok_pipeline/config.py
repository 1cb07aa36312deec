"""Settings read from the environment in one place, validated with errors that name the variable.

Nothing reads the environment at import time: call :func:`load_settings` when you need the values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE_URL = "https://open-api.tiktokglobalshop.com"
DEFAULT_AUTH_BASE_URL = "https://auth.tiktok-shops.com"

DEFAULT_SYNC_CRON = "*/15 * * * *"
DEFAULT_LATE_UPDATES_CRON = "30 0 * * *"
DEFAULT_REFRESH_CRON = "0 3 * * *"
DEFAULT_FLUSH_CRON = "0 4 * * 0"
DEFAULT_TOKENS_CHECK_CRON = "0 * * * *"
DEFAULT_HISTORY_DAYS = 90
DEFAULT_WEBHOOK_SENSOR_SECONDS = 10
#: A backfill's days per run: a year is one run. See the README's "Backfills" for the trade-off.
DEFAULT_BACKFILL_DAYS_PER_RUN = 366


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names the variable and how to set it."""


@dataclass(frozen=True)
class Settings:
    """The project's configuration, as read from environment variables."""

    app_key: str | None = None
    app_secret: str | None = field(default=None, repr=False)
    service_id: str | None = None
    shop_id: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    auth_base_url: str = DEFAULT_AUTH_BASE_URL
    data_dir: Path = Path("data")
    database_url: str = ""
    warehouse_url: str = ""
    public_url: str = "http://127.0.0.1:8000"
    consent_base_url: str | None = None
    dagster_ui_url: str = "http://127.0.0.1:3000"

    def require(self, name: str) -> str:
        """Return a setting that must be present, or raise naming its environment variable."""
        value = getattr(self, name)
        if not value:
            variable = ENV_NAMES[name]
            raise ConfigurationError(
                f"{variable} is not set: export it (`export {variable}=...`); see the README's "
                "Configuration section."
            )
        return value


ENV_NAMES = {
    "app_key": "TIKTOK_APP_KEY",
    "app_secret": "TIKTOK_APP_SECRET",
    "service_id": "TIKTOK_SERVICE_ID",
    "shop_id": "TIKTOK_SHOP_ID",
    "api_base_url": "TIKTOK_API_BASE_URL",
    "auth_base_url": "TIKTOK_AUTH_BASE_URL",
    "data_dir": "TIKTOK_DATA_DIR",
    "database_url": "TIKTOK_DATABASE_URL",
    "warehouse_url": "TIKTOK_WAREHOUSE_URL",
    "public_url": "TIKTOK_PUBLIC_URL",
    "consent_base_url": "TIKTOK_CONSENT_BASE_URL",
    "dagster_ui_url": "TIKTOK_DAGSTER_UI_URL",
}


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file, absolute so that every process finds the same file."""
    return f"sqlite:///{path.expanduser().resolve()}"


def _base_url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = (environ.get(ENV_NAMES[name]) or default).rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"{ENV_NAMES[name]}={value!r} is not an http(s) URL; set it like {default}."
        )
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from ``environ`` (default: the process environment).

    The operational database defaults to a SQLite file in the data folder (``TIKTOK_DATA_DIR``,
    default ``./data``); the warehouse defaults to the operational database.
    ``TIKTOK_PUBLIC_URL`` is where sellers and TikTok reach the web service (consent redirect,
    webhooks); ``TIKTOK_CONSENT_BASE_URL`` overrides TikTok's seller consent host (the sandbox
    sets it to itself).
    """
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("TIKTOK_DATA_DIR") or "data").expanduser().resolve()
    database_url = env.get("TIKTOK_DATABASE_URL") or sqlite_url(data_dir / "tiktok.db")
    return Settings(
        app_key=env.get("TIKTOK_APP_KEY") or None,
        app_secret=env.get("TIKTOK_APP_SECRET") or None,
        service_id=env.get("TIKTOK_SERVICE_ID") or None,
        shop_id=env.get("TIKTOK_SHOP_ID") or None,
        api_base_url=_base_url(env, "api_base_url", DEFAULT_API_BASE_URL),
        auth_base_url=_base_url(env, "auth_base_url", DEFAULT_AUTH_BASE_URL),
        data_dir=data_dir,
        database_url=database_url,
        warehouse_url=env.get("TIKTOK_WAREHOUSE_URL") or database_url,
        public_url=_base_url(env, "public_url", "http://127.0.0.1:8000"),
        consent_base_url=(
            _base_url(env, "consent_base_url", "") if env.get("TIKTOK_CONSENT_BASE_URL") else None
        ),
        dagster_ui_url=_base_url(env, "dagster_ui_url", "http://127.0.0.1:3000"),
    )


def dagster_home(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of the Dagster instance (``DAGSTER_HOME``), made absolute as Dagster wants it.

    Raises ConfigurationError when it is unset or not a folder.
    """
    env = os.environ if environ is None else environ
    home = env.get("DAGSTER_HOME")
    if not home:
        raise ConfigurationError(
            "DAGSTER_HOME is not set: point it at the folder of the Dagster instance the daemon "
            "uses (./.dagster_home under `tiktok-pipeline dev`; see Production in the README)"
        )
    path = Path(home).expanduser().resolve()
    if not path.is_dir():
        raise ConfigurationError(
            f"DAGSTER_HOME={home} is not a folder: create it, or point DAGSTER_HOME at the "
            "instance the daemon uses"
        )
    return path


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle ``requests`` would use (``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE``).

    The client reads it once per session instead of ``requests`` reading it on every call.
    """
    env = os.environ if environ is None else environ
    return env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None


@dataclass(frozen=True)
class ScheduleSettings:
    """When the Dagster schedules and sensors run; read when the code location loads."""

    sync_cron: str = DEFAULT_SYNC_CRON
    late_updates_cron: str = DEFAULT_LATE_UPDATES_CRON
    refresh_cron: str = DEFAULT_REFRESH_CRON
    flush_cron: str = DEFAULT_FLUSH_CRON
    tokens_check_cron: str = DEFAULT_TOKENS_CHECK_CRON
    history_days: int = DEFAULT_HISTORY_DAYS
    webhook_sensor_seconds: int = DEFAULT_WEBHOOK_SENSOR_SECONDS
    backfill_days_per_run: int = DEFAULT_BACKFILL_DAYS_PER_RUN


def load_schedule_settings(environ: Mapping[str, str] | None = None) -> ScheduleSettings:
    """Read and validate the schedule settings from ``environ`` (default: the environment).

    ``TIKTOK_SYNC_CRON`` and ``TIKTOK_LATE_UPDATES_CRON`` (incremental sync),
    ``TIKTOK_REFRESH_CRON``, ``TIKTOK_FLUSH_CRON`` and ``TIKTOK_TOKENS_CHECK_CRON`` (token
    maintenance) are five-field cron expressions in UTC; ``TIKTOK_HISTORY_DAYS`` is the history
    a newly authorized shop gets (days, 0 or more); ``TIKTOK_WEBHOOK_SENSOR_SECONDS`` how often
    the webhook sensor runs (1 or more); ``TIKTOK_BACKFILL_DAYS_PER_RUN`` the most days one
    backfill or history run covers (1 or more). A malformed value raises ConfigurationError
    naming it.
    """
    env = os.environ if environ is None else environ
    return ScheduleSettings(
        sync_cron=_cron(env, "TIKTOK_SYNC_CRON", DEFAULT_SYNC_CRON),
        late_updates_cron=_cron(env, "TIKTOK_LATE_UPDATES_CRON", DEFAULT_LATE_UPDATES_CRON),
        refresh_cron=_cron(env, "TIKTOK_REFRESH_CRON", DEFAULT_REFRESH_CRON),
        flush_cron=_cron(env, "TIKTOK_FLUSH_CRON", DEFAULT_FLUSH_CRON),
        tokens_check_cron=_cron(env, "TIKTOK_TOKENS_CHECK_CRON", DEFAULT_TOKENS_CHECK_CRON),
        history_days=_whole_number(
            env, "TIKTOK_HISTORY_DAYS", DEFAULT_HISTORY_DAYS, minimum=0, unit="days"
        ),
        webhook_sensor_seconds=_whole_number(
            env,
            "TIKTOK_WEBHOOK_SENSOR_SECONDS",
            DEFAULT_WEBHOOK_SENSOR_SECONDS,
            minimum=1,
            unit="seconds",
        ),
        backfill_days_per_run=_whole_number(
            env,
            "TIKTOK_BACKFILL_DAYS_PER_RUN",
            DEFAULT_BACKFILL_DAYS_PER_RUN,
            minimum=1,
            unit="days",
        ),
    )


def _whole_number(
    environ: Mapping[str, str], variable: str, default: int, *, minimum: int, unit: str
) -> int:
    text = (environ.get(variable) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigurationError(
            f"{variable}={text!r} is not a whole number of {unit} ({minimum} or more); "
            f"set it like {variable}={default}"
        )
    return value


#: Each cron field: its name, smallest and largest value, and the names it accepts for values.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan feb mar apr may jun jul aug sep oct nov dec").split()),
    ("day of week", 0, 7, "sun mon tue wed thu fri sat".split()),
)
_CRON_ITEM = re.compile(r"^(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?$")


def _cron(environ: Mapping[str, str], variable: str, default: str) -> str:
    text = " ".join((environ.get(variable) or "").split())
    if not text:
        return default
    problem = _cron_problem(text)
    if problem:
        raise ConfigurationError(
            f"{variable}={text!r} is not a cron expression ({problem}); set five fields "
            f"(minute hour day-of-month month day-of-week, UTC) like {variable}='{default}'"
        )
    return text


def _cron_problem(text: str) -> str | None:
    """What is wrong with a five-field cron expression, or None when it is well formed."""
    fields = text.split(" ")
    if len(fields) != 5:
        return f"{len(fields)} fields instead of 5"
    for value, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in value.split(","):
            match = _CRON_ITEM.match(item)
            if match is None:
                return f"{name} {item!r} is malformed"
            bounds = [b for b in match.group(2, 3) if b is not None]
            for bound in bounds:
                number = names.index(bound.lower()) + low if bound.lower() in names else None
                if number is None and bound.isdigit():
                    number = int(bound)
                if number is None or not low <= number <= high:
                    return f"{name} {bound!r} is not between {low} and {high}"
            if match.group(4) is not None and int(match.group(4)) == 0:
                return f"{name} step 0"
    return None
