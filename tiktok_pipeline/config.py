"""Settings read from the environment in one place, validated with errors that name the variable.

Nothing reads the environment at import time: call :func:`load_settings` when you need the values.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

DEFAULT_API_BASE_URL = "https://open-api.tiktokglobalshop.com"
DEFAULT_AUTH_BASE_URL = "https://auth.tiktok-shops.com"

DEFAULT_SYNC_CRON = "*/15 * * * *"
DEFAULT_LATE_UPDATES_CRON = "30 0 * * *"
DEFAULT_REFRESH_CRON = "0 3 * * *"
DEFAULT_FLUSH_CRON = "0 4 * * 0"
DEFAULT_TOKENS_CHECK_CRON = "0 * * * *"
#: Hourly, off the quarter hours of the sync: a shop added to an authorization gets its history
#: within the hour, for one call per seller per hour.
DEFAULT_SHOP_LISTS_CRON = "5 * * * *"
DEFAULT_UNSETTLED_CRON = "0 * * * *"
DEFAULT_PRODUCT_CATALOG_CRON = "0 3 * * 0"
DEFAULT_HISTORY_DAYS = 90
DEFAULT_WEBHOOK_SENSOR_SECONDS = 10
#: A backfill's days per run: a year is one run. See the README's "Backfills" for the trade-off.
DEFAULT_BACKFILL_DAYS_PER_RUN = 366
#: The first daily partition in production: TikTok's 202309 API keeps no older history.
DEFAULT_PARTITIONS_START = date(2023, 1, 1)


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


#: The Fernet key(s) that encrypt seller tokens at rest, comma-separated: the first encrypts.
TOKEN_KEY_VARIABLE = "TIKTOK_TOKEN_KEY"
NEW_TOKEN_KEY_HINT = (
    'make one with `tiktok-pipeline tokens new-key` (or `python -c "from cryptography.fernet '
    'import Fernet; print(Fernet.generate_key().decode())"`)'
)


def load_token_keys(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The Fernet keys of ``TIKTOK_TOKEN_KEY`` (default: the environment); () when unset.

    Several keys are separated by commas: the first encrypts, every one decrypts (list the new
    key first and the old one after it, then run ``tiktok-pipeline tokens rotate-key``). A
    malformed key raises ConfigurationError naming its position, never echoing it.
    """
    env = os.environ if environ is None else environ
    return parse_token_keys(env.get(TOKEN_KEY_VARIABLE) or "", TOKEN_KEY_VARIABLE)


def parse_token_keys(text: str, source: str) -> tuple[str, ...]:
    """The Fernet keys in ``text`` (separated by commas or lines); ``source`` names it in errors."""
    keys = tuple(k.strip() for k in re.split(r"[,\s]+", text) if k.strip())
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(key) == 44 and len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (ValueError, UnicodeEncodeError):
            valid = False
        if not valid:
            which = f"key {position} of {len(keys)}" if len(keys) > 1 else "the key"
            raise ConfigurationError(
                f"{source}: {which} is not a Fernet key (44 characters of URL-safe base64); "
                f"{NEW_TOKEN_KEY_HINT}"
            )
    return keys


DEFAULT_SMTP_PORT = 587
#: The port of SMTP over TLS from the first byte ("SMTPS"); other ports speak plain SMTP first.
SMTPS_PORT = 465
_SMTP_VARIABLES = ("PORT", "USER", "PASSWORD", "FROM", "TO", "STARTTLS")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class AlertSettings:
    """Where the alert sensors send failed runs and shops needing re-authorization.

    A Slack incoming webhook, e-mail over SMTP, both, or neither (the sensors then skip, saying
    which variables to set). The webhook URL and the SMTP password are secrets: never shown.
    """

    slack_webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_starttls: bool = True

    @property
    def destinations(self) -> list[str]:
        """The configured destinations, named without secrets (e.g. ``e-mail to ops@x.com``)."""
        found = ["Slack"] if self.slack_webhook_url else []
        if self.smtp_host:
            found.append(f"e-mail to {', '.join(self.smtp_to)}")
        return found

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values no alert, log line or error may contain."""
        return tuple(s for s in (self.slack_webhook_url, self.smtp_password) if s)


def load_alert_settings(environ: Mapping[str, str] | None = None) -> AlertSettings:
    """Read and validate the alert destinations from ``environ`` (default: the environment).

    ``TIKTOK_ALERT_SLACK_WEBHOOK_URL``: a Slack incoming webhook. ``TIKTOK_ALERT_SMTP_HOST``
    turns e-mail on, with ``TIKTOK_ALERT_SMTP_TO`` (addresses separated by commas),
    ``TIKTOK_ALERT_SMTP_FROM`` (default: the user when it is an address),
    ``TIKTOK_ALERT_SMTP_PORT`` (587; 465 speaks TLS from the start), ``TIKTOK_ALERT_SMTP_USER``
    and ``TIKTOK_ALERT_SMTP_PASSWORD`` (log in when set) and ``TIKTOK_ALERT_SMTP_STARTTLS``
    (true: refuse to send unless the server switches to TLS; false for a local relay).
    A malformed value raises ConfigurationError naming the variable, never echoing a secret.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return (env.get(f"TIKTOK_ALERT_{name}") or "").strip() or None

    webhook = get("SLACK_WEBHOOK_URL")
    if webhook and not webhook.startswith(("https://", "http://")):
        raise ConfigurationError(
            "TIKTOK_ALERT_SLACK_WEBHOOK_URL is not an http(s) URL; set it to the Slack incoming "
            "webhook URL (https://hooks.slack.com/services/...)"
        )
    host = get("SMTP_HOST")
    if not host:
        stray = [f"TIKTOK_ALERT_SMTP_{name}" for name in _SMTP_VARIABLES if get(f"SMTP_{name}")]
        if stray:
            raise ConfigurationError(
                f"{', '.join(stray)} set but TIKTOK_ALERT_SMTP_HOST is not: set the SMTP server "
                "(TIKTOK_ALERT_SMTP_HOST=smtp.example.com) or unset them"
            )
        return AlertSettings(slack_webhook_url=webhook)
    user, password = get("SMTP_USER"), get("SMTP_PASSWORD")
    if bool(user) != bool(password):
        raise ConfigurationError(
            "TIKTOK_ALERT_SMTP_USER and TIKTOK_ALERT_SMTP_PASSWORD go together: set both to log "
            "in to the SMTP server, or neither"
        )
    to = tuple(a for a in re.split(r"[,;\s]+", get("SMTP_TO") or "") if a)
    sender = get("SMTP_FROM") or (user if user and "@" in user else None)
    for variable, addresses in (("TIKTOK_ALERT_SMTP_TO", to), ("TIKTOK_ALERT_SMTP_FROM", [sender])):
        if not addresses or any(not a or "@" not in a for a in addresses):
            raise ConfigurationError(
                f"{variable} needs e-mail address(es) when TIKTOK_ALERT_SMTP_HOST is set; set it "
                f"like {variable}=ops@example.com"
            )
    return AlertSettings(
        slack_webhook_url=webhook,
        smtp_host=host,
        smtp_port=_port(env, "TIKTOK_ALERT_SMTP_PORT", DEFAULT_SMTP_PORT),
        smtp_user=user,
        smtp_password=password,
        smtp_from=sender,
        smtp_to=to,
        smtp_starttls=_flag(env, "TIKTOK_ALERT_SMTP_STARTTLS", default=True),
    )


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    text = (environ.get(variable) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigurationError(
            f"{variable}={text!r} is not a port number (1 to 65535); set it like "
            f"{variable}={default}"
        )
    return int(text)


def _flag(environ: Mapping[str, str], variable: str, *, default: bool) -> bool:
    text = (environ.get(variable) or "").strip().lower()
    if not text:
        return default
    if text in _TRUE + _FALSE:
        return text in _TRUE
    raise ConfigurationError(
        f"{variable}={text!r} is not true or false; set it like {variable}=true"
    )


@dataclass(frozen=True)
class ScheduleSettings:
    """When the Dagster schedules and sensors run; read when the code location loads."""

    sync_cron: str = DEFAULT_SYNC_CRON
    late_updates_cron: str = DEFAULT_LATE_UPDATES_CRON
    refresh_cron: str = DEFAULT_REFRESH_CRON
    flush_cron: str = DEFAULT_FLUSH_CRON
    tokens_check_cron: str = DEFAULT_TOKENS_CHECK_CRON
    shop_lists_cron: str = DEFAULT_SHOP_LISTS_CRON
    unsettled_cron: str = DEFAULT_UNSETTLED_CRON
    product_catalog_cron: str = DEFAULT_PRODUCT_CATALOG_CRON
    history_days: int = DEFAULT_HISTORY_DAYS
    webhook_sensor_seconds: int = DEFAULT_WEBHOOK_SENSOR_SECONDS
    backfill_days_per_run: int = DEFAULT_BACKFILL_DAYS_PER_RUN
    partitions_start: date = DEFAULT_PARTITIONS_START


def load_schedule_settings(environ: Mapping[str, str] | None = None) -> ScheduleSettings:
    """Read and validate the schedule settings from ``environ`` (default: the environment).

    ``TIKTOK_SYNC_CRON`` and ``TIKTOK_LATE_UPDATES_CRON`` (incremental sync),
    ``TIKTOK_REFRESH_CRON``, ``TIKTOK_FLUSH_CRON`` and ``TIKTOK_TOKENS_CHECK_CRON`` (token
    maintenance), ``TIKTOK_SHOP_LISTS_CRON`` (authorizations' shop lists, hourly) and
    ``TIKTOK_UNSETTLED_CRON`` (the unsettled-transactions snapshot) and
    ``TIKTOK_PRODUCT_CATALOG_CRON`` (every shop's whole product catalog, weekly) are
    five-field cron expressions in UTC; ``TIKTOK_HISTORY_DAYS`` is the history
    a newly authorized shop gets (days, 0 or more); ``TIKTOK_WEBHOOK_SENSOR_SECONDS`` how often
    the webhook sensor runs (1 or more); ``TIKTOK_BACKFILL_DAYS_PER_RUN`` the most days one
    backfill or history run covers (1 or more); ``TIKTOK_PARTITIONS_START`` the first daily
    partition of every partitioned asset, job, schedule and sensor (``YYYY-MM-DD``, UTC, not
    after today; default 2023-01-01). A malformed value raises ConfigurationError naming it.
    """
    env = os.environ if environ is None else environ
    return ScheduleSettings(
        sync_cron=_cron(env, "TIKTOK_SYNC_CRON", DEFAULT_SYNC_CRON),
        late_updates_cron=_cron(env, "TIKTOK_LATE_UPDATES_CRON", DEFAULT_LATE_UPDATES_CRON),
        refresh_cron=_cron(env, "TIKTOK_REFRESH_CRON", DEFAULT_REFRESH_CRON),
        flush_cron=_cron(env, "TIKTOK_FLUSH_CRON", DEFAULT_FLUSH_CRON),
        tokens_check_cron=_cron(env, "TIKTOK_TOKENS_CHECK_CRON", DEFAULT_TOKENS_CHECK_CRON),
        shop_lists_cron=_cron(env, "TIKTOK_SHOP_LISTS_CRON", DEFAULT_SHOP_LISTS_CRON),
        unsettled_cron=_cron(env, "TIKTOK_UNSETTLED_CRON", DEFAULT_UNSETTLED_CRON),
        product_catalog_cron=_cron(
            env, "TIKTOK_PRODUCT_CATALOG_CRON", DEFAULT_PRODUCT_CATALOG_CRON
        ),
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
        partitions_start=_partitions_start(env),
    )


def _partitions_start(environ: Mapping[str, str]) -> date:
    variable = "TIKTOK_PARTITIONS_START"
    text = (environ.get(variable) or "").strip()
    if not text:
        return DEFAULT_PARTITIONS_START
    default = DEFAULT_PARTITIONS_START.isoformat()
    try:
        start = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        start = None
    if start is None:
        raise ConfigurationError(
            f"{variable}={text!r} is not a day as YYYY-MM-DD; set it like {variable}={default} "
            "(the first daily partition, UTC), or unset it for that default"
        )
    today = datetime.now(UTC).date()
    if start > today:
        raise ConfigurationError(
            f"{variable}={text!r} is after today ({today}, UTC): no partition would exist; set "
            f"it like {variable}={default}, or to any day up to today"
        )
    return start


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


#: Days after an order completes that its buyer's personal data is kept in the warehouse.
DEFAULT_BUYER_DATA_RETENTION_DAYS = 90
_RETENTION_OFF = ("off", "never", "forever")


def load_buyer_data_retention(environ: Mapping[str, str] | None = None) -> int | None:
    """``TIKTOK_BUYER_DATA_RETENTION_DAYS``: days after an order is COMPLETED or CANCELLED
    that the buyer's name, address, phone and e-mail stay in the warehouse (default 90).

    ``off`` (or ``never``) keeps them forever and gives None; ``0`` removes them at the
    first run after the order completes. A malformed value raises ConfigurationError.
    """
    env = os.environ if environ is None else environ
    variable = "TIKTOK_BUYER_DATA_RETENTION_DAYS"
    if (env.get(variable) or "").strip().lower() in _RETENTION_OFF:
        return None
    try:
        return _whole_number(
            env, variable, DEFAULT_BUYER_DATA_RETENTION_DAYS, minimum=0, unit="days"
        )
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc}, or to off to keep buyer data forever") from None


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
