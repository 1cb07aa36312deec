"""Settings read from the environment in one place, validated with errors that name the variable.

Nothing reads the environment at import time: call :func:`load_settings` when you need the values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE_URL = "https://open-api.tiktokglobalshop.com"
DEFAULT_AUTH_BASE_URL = "https://auth.tiktok-shops.com"


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
    )
