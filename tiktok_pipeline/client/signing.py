"""TikTok Shop request and webhook signatures.

Request ``sign`` (reference §3): every query parameter except ``sign`` and ``access_token``, sorted
by key, concatenated as ``key + value``, prefixed with the path and followed by the raw body (unless
the request is multipart), wrapped in the app secret on both sides, then HMAC-SHA256 keyed by the
app secret, as lowercase hex. Webhook ``Authorization`` (reference §9): HMAC-SHA256 keyed by the
app secret over ``app_key + raw body``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

#: Query parameters that never take part in the signature.
UNSIGNED_PARAMS = frozenset({"sign", "access_token", "x-tts-access-token"})


def string_to_sign(path: str, query: Mapping[str, str], body: bytes | None = None) -> bytes:
    """The bytes TikTok signs, without the app secret around them."""
    parts = [path.encode()]
    for key in sorted(k for k in query if k not in UNSIGNED_PARAMS):
        parts.append(key.encode())
        parts.append(str(query[key]).encode())
    if body:
        parts.append(body)
    return b"".join(parts)


def sign_request(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes | None = None,
    *,
    multipart: bool = False,
) -> str:
    """The ``sign`` query parameter for a request with these exact query values and body bytes."""
    secret = app_secret.encode()
    message = secret + string_to_sign(path, query, None if multipart else body) + secret
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """The ``Authorization`` header TikTok sends with a webhook push of ``raw_body``."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


def verify_webhook(
    app_key: str, app_secret: str, raw_body: bytes, authorization: str | None
) -> bool:
    """True when ``authorization`` is TikTok's signature of ``raw_body`` (constant-time compare)."""
    if not authorization:
        return False
    expected = webhook_signature(app_key, app_secret, raw_body)
    return hmac.compare_digest(expected.encode(), authorization.strip().lower().encode())
