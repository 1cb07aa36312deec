"""The client's exceptions: one hierarchy rooted at :class:`TikTokAPIError`.

TikTok reports most failures in the body ``code`` (often with HTTP 200), so errors are mapped
from the code first and the HTTP status second. Every message says what to do next and never
contains a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tiktok_pipeline.config import ConfigurationError

REAUTHORIZE_HINT = (
    "the seller must authorize the app again: open /tiktok/seller/authorize on the web service "
    "(`tiktok-pipeline serve`)"
)

#: Refresh-token failures that no retry can fix: the seller must authorize again.
DEAD_REFRESH_TOKEN_CODES = frozenset({36004001, 36004005, 105001})
ACCESS_TOKEN_EXPIRED_CODES = frozenset({105002})
ACCESS_TOKEN_INVALID_CODES = frozenset({105001, 101000})
RATE_LIMITED_CODES = frozenset({36009002})
SERVER_ERROR_CODES = frozenset({36009003, 36009007})
MISSING_SCOPE_CODES = frozenset({105005, 10006402})
BAD_SIGNATURE_CODES = frozenset({106001})


class TikTokAPIError(Exception):
    """A TikTok Shop API call failed.

    Attributes:
        code: TikTok's body ``code`` (None when there was no JSON body).
        message: TikTok's ``message`` (or a description of the transport failure).
        request_id: TikTok's ``request_id``, to quote to TikTok support.
        http_status: the HTTP status, when a response arrived.
        data: the ``data`` of the response, if any.
        endpoint: the client method, e.g. ``order.list``.
    """

    hint = "check the request against TikTok's API reference"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        data: Any = None,
        endpoint: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.data = data
        self.endpoint = endpoint
        if hint is not None:
            self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.endpoint}: " if self.endpoint else ""
        details = []
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.request_id:
            details.append(f"request_id {self.request_id}")
        text = f"{where}{self.message}"
        if details:
            text += f" ({', '.join(details)})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    @property
    def retryable(self) -> bool:
        """True when repeating the same request later may succeed."""
        return False


class TikTokConfigurationError(TikTokAPIError, ConfigurationError):
    """The client is misconfigured (missing key or secret, no token store, no cipher)."""

    hint = ""


class UnknownShopError(TikTokConfigurationError, LookupError):
    """The token store has no shop with this id."""


class TokenError(TikTokAPIError):
    """A problem with an access or refresh token."""


class AccessTokenExpired(TokenError):
    """TikTok says the access token has expired (``105002``); refresh it and retry."""

    hint = "refresh the access token (the client does this itself for shops in the token store)"


class AccessTokenInvalid(TokenError):
    """The access token is invalid, revoked, or not for this shop (``105001``, ``101000``)."""

    hint = REAUTHORIZE_HINT


class RefreshTokenInvalid(TokenError):
    """The refresh token is expired or unknown (``36004001``, ``36004005``, ``105001``)."""

    hint = REAUTHORIZE_HINT


class AuthorizationCodeInvalid(TokenError):
    """TikTok refused the authorization code: unknown, already used, or older than 30 minutes."""

    hint = "ask the seller to authorize again; a code works once and for 30 minutes"


class ReauthorizationRequired(TokenError):
    """The shop's authorization is marked ``needs_reauth`` or ``deauthorized`` in the store."""

    hint = REAUTHORIZE_HINT


class RateLimited(TikTokAPIError):
    """TikTok throttled the call (HTTP 429 or ``36009002``)."""

    hint = "lower the client's qps or retry later"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)

    @property
    def retryable(self) -> bool:
        return True


class ServerError(TikTokAPIError):
    """TikTok failed on its side (HTTP 5xx, ``36009003``); retrying usually works."""

    hint = "retry later; if it persists, quote the request_id to TikTok support"

    @property
    def retryable(self) -> bool:
        return True


class MissingScope(TikTokAPIError):
    """The app or token lacks the scope for this API (``105005``)."""

    hint = (
        "add the API's permission package to the app in Partner Center, then have the seller "
        "authorize again"
    )


class SignatureError(TikTokAPIError):
    """TikTok rejected the ``sign`` (``106001``): usually a wrong app secret."""

    hint = (
        "check TIKTOK_APP_KEY and TIKTOK_APP_SECRET (and the server clock, which must be within "
        "5 minutes of TikTok's)"
    )


class TransportError(TikTokAPIError):
    """The call did not produce a usable TikTok response."""

    hint = "check the network and the base URL; the call can be retried"

    @property
    def retryable(self) -> bool:
        return True


class TikTokTimeout(TransportError):
    """The connection or the response timed out."""


class ConnectionFailed(TransportError):
    """The connection was refused or dropped."""


class InvalidResponse(TransportError):
    """The response was not a JSON TikTok envelope (HTML error page, truncated body...)."""

    hint = "the server did not answer like TikTok; check the base URL (TIKTOK_API_BASE_URL)"

    @property
    def retryable(self) -> bool:
        return False


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
