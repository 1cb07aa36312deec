"""TikTok's request and webhook signatures, written from the documented algorithm.

This module deliberately shares nothing with ``tiktok_pipeline.client``: the sandbox checks
requests on its own so that a bug in one cannot hide a bug in the other.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

#: Query parameters left out of the string to sign.
EXCLUDED_PARAMS = frozenset({"sign", "access_token"})


def string_to_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes | None = None,
    content_type: str | None = None,
) -> bytes:
    """The wrapped string TikTok signs (reference section 3, steps 1-6).

    Args:
        app_secret: the app secret (wraps the string on both sides).
        path: the request path without host or query.
        query: the decoded query parameters.
        body: the raw request body; appended unless the content type is multipart.
        content_type: the request's content type.
    """
    parts = [app_secret.encode(), path.encode()]
    for key in sorted(k for k in query if k not in EXCLUDED_PARAMS):
        parts.append(key.encode())
        parts.append(str(query[key]).encode())
    is_multipart = (content_type or "").lower().startswith("multipart/form-data")
    if body and not is_multipart:
        parts.append(body)
    parts.append(app_secret.encode())
    return b"".join(parts)


def compute_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes | None = None,
    content_type: str | None = None,
) -> str:
    """The ``sign`` query parameter: lowercase hex HMAC-SHA256 keyed by the app secret."""
    message = string_to_sign(app_secret, path, query, body, content_type)
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def verify_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes | None,
    content_type: str | None,
    sign: str,
) -> bool:
    """True when ``sign`` is the request's signature (constant-time compare)."""
    expected = compute_sign(app_secret, path, query, body, content_type)
    return hmac.compare_digest(expected.encode(), sign.encode())


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """The ``Authorization`` header of a push: hex HMAC-SHA256(app_secret, app_key + body)."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()
