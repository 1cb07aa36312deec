"""Keep secrets (app secret, tokens, auth codes, signs) out of logs, tables, pages and errors."""

from __future__ import annotations

import functools
import json
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


#: Loggers that print whole request URLs (token calls carry secrets in their query string).
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")

#: How much of a request body the request log keeps.
MAX_BODY_CHARS = 4096
_TRUNCATED = "...[truncated]"


@functools.cache
def _pair_patterns(keys: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
    # ``"key": "value"`` (or a bare JSON value), also in JSON cut off mid-string.
    json_pair = re.compile(
        rf'(?i)("(?:{names})"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|[^\s,{{}}\[\]][^\s,}}\]]*)'
    )
    # ``key=value`` (query strings, form bodies) and ``key: value`` (headers, messages).
    pair = re.compile(rf"(?i)(\b(?:{names})\b\s*[=:]\s*)([^&\s,;\"']+)")
    return json_pair, pair


def scrub_secret_pairs(text: str, extra_keys: Iterable[str] = ()) -> str:
    """``text`` with the values of secret keys hidden, whatever the notation.

    Covers ``key=value`` (URLs, form bodies), ``key: value`` and ``"key": "value"`` (JSON, even
    truncated), for :data:`SECRET_KEYS` plus ``extra_keys``, ignoring case.
    """
    keys = SECRET_KEYS | {k.lower() for k in extra_keys} if extra_keys else SECRET_KEYS
    json_pair, pair = _pair_patterns(frozenset(keys))
    text = json_pair.sub(lambda m: f'{m[1]}"{REDACTED}"', text)
    return pair.sub(lambda m: f"{m[1]}{REDACTED}", text)


def redact_body(body: str | bytes | None, max_chars: int = MAX_BODY_CHARS) -> str | None:
    """A request body safe to log or store, at most ``max_chars`` long.

    A JSON body has its secret keys' values replaced at any depth (see :func:`redact`); any
    other body (form-encoded, cut off) goes through :func:`scrub_secret_pairs`.
    """
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        text = scrub_secret_pairs(text)
    else:
        if isinstance(parsed, dict | list):
            text = json.dumps(redact(parsed), ensure_ascii=False, separators=(",", ":"))
    if len(text) > max_chars:
        text = text[: max_chars - len(_TRUNCATED)] + _TRUNCATED
    return text


class SecretQueryFilter(logging.Filter):
    """Redacts secret query parameters from records of loggers that print whole URLs.

    urllib3 logs every request line at DEBUG, and token calls carry the app secret and the
    auth code or refresh token in their query string. ``extra_keys`` are hidden too (the web
    service's access log also hides the OAuth ``code`` and ``state``).
    """

    def __init__(self, extra_keys: Iterable[str] = ()) -> None:
        super().__init__()
        self.extra_keys = frozenset(k.lower() for k in extra_keys)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments (or, failing that, its message); never drops it."""
        if isinstance(record.args, tuple):
            # Arguments one by one, so formatters that read them (uvicorn's) keep working.
            record.args = tuple(
                scrub_secret_pairs(a, self.extra_keys) if isinstance(a, str) else a
                for a in record.args
            )
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        scrubbed = scrub_secret_pairs(message, self.extra_keys)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install_url_log_filter(*logger_names: str, extra_keys: Iterable[str] = ()) -> None:
    """Attach :class:`SecretQueryFilter` to each logger (default: :data:`URL_LOGGERS`) once."""
    wanted = frozenset(k.lower() for k in extra_keys)
    for name in logger_names or URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(
            isinstance(f, SecretQueryFilter) and f.extra_keys == wanted for f in logger.filters
        ):
            logger.addFilter(SecretQueryFilter(wanted))
