"""Keep secrets (app secret, tokens, auth codes, signs) out of logs, tables, pages and errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

#: Parameter, header and JSON keys whose values are secrets wherever they appear.
SECRET_KEYS = frozenset(
    {
        "app_secret",
        "access_token",
        "refresh_token",
        "auth_code",
        "sign",
        "x-tts-access-token",
        "authorization",
    }
)


def is_secret_key(key: str) -> bool:
    """True when values under ``key`` must never be shown."""
    return key.lower() in SECRET_KEYS


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret key's value replaced (recursing into containers)."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of the given secret values replaced by a marker."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text
