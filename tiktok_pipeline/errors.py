"""The errors of a TikTok Shop call, shared by the client (which raises them from TikTok's
answers) and the store (which raises them when a shop or its authorization cannot be used).

One hierarchy rooted at :class:`TikTokAPIError`. Every message says what to do next and never
contains a secret. Which TikTok code maps to which class is the client's business
(:mod:`tiktok_pipeline.client.errors`).
"""

from __future__ import annotations

from typing import Any

from tiktok_pipeline.config import ConfigurationError

REAUTHORIZE_HINT = (
    "the seller must authorize the app again: open /tiktok/seller/authorize on the web service "
    "(`tiktok-pipeline serve`)"
)


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
    #: The last attempt's request record when the error is raised for the caller to recover
    #: from (an expired token) and not yet reported to the failure observers.
    failed_attempt: Any = None

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
    """The shop's authorization is marked ``needs_reauth`` or ``deauthorized`` in the store.

    Attributes:
        shop_id: the shop that cannot be used, when the error is about one shop.
    """

    hint = REAUTHORIZE_HINT
    shop_id: str | None = None


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
