"""How TikTok's answers map to the error classes: the body ``code`` first, the HTTP status second.

TikTok reports most failures in the body ``code`` (often with HTTP 200). The classes live in
:mod:`tiktok_pipeline.errors` (the store raises them too) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_pipeline.errors import (
    REAUTHORIZE_HINT,
    AccessTokenExpired,
    AccessTokenInvalid,
    AuthorizationCodeInvalid,
    ConnectionFailed,
    InvalidResponse,
    MissingScope,
    RateLimited,
    ReauthorizationRequired,
    RefreshTokenInvalid,
    ServerError,
    SignatureError,
    TikTokAPIError,
    TikTokConfigurationError,
    TikTokTimeout,
    TokenError,
    TransportError,
    UnknownShopError,
)

__all__ = [
    "REAUTHORIZE_HINT",
    "AccessTokenExpired",
    "AccessTokenInvalid",
    "AuthorizationCodeInvalid",
    "ConnectionFailed",
    "InvalidResponse",
    "MissingScope",
    "RateLimited",
    "ReauthorizationRequired",
    "RefreshTokenInvalid",
    "ServerError",
    "SignatureError",
    "TikTokAPIError",
    "TikTokConfigurationError",
    "TikTokTimeout",
    "TokenError",
    "TransportError",
    "UnknownShopError",
    "error_from_response",
]

#: Refresh-token failures that no retry can fix: the seller must authorize again.
DEAD_REFRESH_TOKEN_CODES = frozenset({36004001, 36004005, 105001})
ACCESS_TOKEN_EXPIRED_CODES = frozenset({105002})
ACCESS_TOKEN_INVALID_CODES = frozenset({105001, 101000})
RATE_LIMITED_CODES = frozenset({36009002})
SERVER_ERROR_CODES = frozenset({36009003, 36009007})
MISSING_SCOPE_CODES = frozenset({105005, 10006402})
BAD_SIGNATURE_CODES = frozenset({106001})

#: The auth host's codes for a code that is unknown, used or expired (exchange) and for a
#: refresh token that is (refresh). 36004003 is a wrong app key or secret on either call.
BAD_AUTH_CODE_CODES = frozenset({36004004, 36004005})
BAD_APP_CREDENTIALS_CODES = frozenset({36004003})


def _error_class(
    code: int | None, http_status: int | None, token_call: str | None
) -> type[TikTokAPIError]:
    if code is not None:
        if code in BAD_APP_CREDENTIALS_CODES:
            return SignatureError
        if token_call == "exchange" and code in BAD_AUTH_CODE_CODES:
            return AuthorizationCodeInvalid
        if token_call == "refresh" and code in DEAD_REFRESH_TOKEN_CODES:
            return RefreshTokenInvalid
        if code in ACCESS_TOKEN_EXPIRED_CODES:
            return AccessTokenExpired
        if code in ACCESS_TOKEN_INVALID_CODES:
            return AccessTokenInvalid
        if code in RATE_LIMITED_CODES:
            return RateLimited
        if code in SERVER_ERROR_CODES:
            return ServerError
        if code in MISSING_SCOPE_CODES:
            return MissingScope
        if code in BAD_SIGNATURE_CODES:
            return SignatureError
        if code in DEAD_REFRESH_TOKEN_CODES:
            return RefreshTokenInvalid
    if http_status == 429:
        return RateLimited
    if http_status is not None and http_status >= 500:
        return ServerError
    return TikTokAPIError


def error_from_response(
    envelope: Mapping[str, Any] | None,
    *,
    http_status: int | None,
    endpoint: str | None,
    retry_after: float | None = None,
    token_call: str | None = None,
) -> TikTokAPIError:
    """The exception for a TikTok response whose ``code`` is not 0 (or whose status is an error).

    ``token_call`` (``"exchange"`` or ``"refresh"``) maps the auth host's codes to
    :class:`AuthorizationCodeInvalid` or :class:`RefreshTokenInvalid`.
    """
    envelope = envelope or {}
    code = envelope.get("code")
    code = int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else None
    message = str(envelope.get("message") or f"HTTP {http_status}")
    cls = _error_class(code, http_status, token_call)
    kwargs: dict[str, Any] = {
        "code": code,
        "request_id": envelope.get("request_id"),
        "http_status": http_status,
        "data": envelope.get("data"),
        "endpoint": endpoint,
    }
    if cls is RateLimited:
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)
