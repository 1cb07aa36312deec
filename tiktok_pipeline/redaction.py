"""Keep secrets (app secret, tokens, auth codes, signs) out of logs, tables, pages and errors."""

from __future__ import annotations

import logging
import re
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


_QUERY_SECRET = re.compile(
    r"(?i)\b(" + "|".join(re.escape(k) for k in sorted(SECRET_KEYS)) + r")=([^&\s\"']+)"
)


def scrub_query_strings(text: str) -> str:
    """``text`` with the values of secret ``key=value`` pairs (as in URLs) replaced."""
    return _QUERY_SECRET.sub(lambda m: f"{m[1]}={REDACTED}", text)


class SecretQueryFilter(logging.Filter):
    """Redacts secret query parameters from records of loggers that print whole URLs.

    urllib3 logs every request line at DEBUG, and token calls carry the app secret and the
    auth code or refresh token in their query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message; never drops it."""
        message = record.getMessage()
        scrubbed = scrub_query_strings(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install_url_log_filter(logger_name: str = "urllib3.connectionpool") -> None:
    """Attach :class:`SecretQueryFilter` to ``logger_name`` once per process."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, SecretQueryFilter) for f in logger.filters):
        logger.addFilter(SecretQueryFilter())
