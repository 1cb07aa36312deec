"""The consent link's ``state``: signed, expiring and bound to the browser that asked for it.

``/tiktok/seller/authorize`` issues a state and sets a cookie holding a random *binding* for it. A
state is ``v2.<issued at>.<nonce>.<mac>``: the Unix time it was issued, 16 random bytes and an
HMAC-SHA256 over both and the binding, with a key derived from the app secret (so the state never
reveals the secret and a key for another purpose is never reused). The callback is accepted only
from the browser holding the binding's cookie, which stops a login CSRF (someone else's callback
link, pasted into this browser). A state expires after 10 minutes; that it is used only once is
kept in the store (:class:`~tiktok_pipeline.store.consent_states.ConsentStates`), so it holds
across web workers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "v2"
DEFAULT_TTL_SECONDS = 600
#: A state "issued" further ahead than this (clock trouble or forgery) is refused.
MAX_CLOCK_SKEW_SECONDS = 60
_KEY_CONTEXT = b"tiktok-pipeline/consent-state/v1"
_MAX_STATE_LENGTH = 200


class InvalidState(ValueError):
    """The callback's ``state`` is missing, not one we issued, altered, from another browser,
    expired or already used.

    Attributes:
        reason: ``missing``, ``malformed``, ``browser``, ``signature``, ``expired`` or
            ``reused``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StateClaims:
    """What a valid state says: when it was issued and expires (Unix times), and its nonce."""

    issued_at: int
    expires_at: int
    nonce: str


@dataclass(frozen=True)
class IssuedState:
    """A new state for the consent link and the binding the browser keeps in a cookie."""

    state: str
    binding: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class StateSigner:
    """Issue and check consent states.

    Args:
        app_secret: the app secret; the signing key is derived from it.
        ttl_seconds: how long a state stays valid (default 10 minutes).
        clock: returns the current Unix time (tests pass a fake).
    """

    def __init__(
        self,
        app_secret: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not app_secret:
            raise ValueError("app_secret is empty: the state key is derived from it")
        self._key = hmac.new(app_secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _mac(self, issued_at: str, nonce: str, binding: str) -> str:
        message = f"{VERSION}.{issued_at}.{nonce}.{binding}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self) -> IssuedState:
        """A new state for one consent link, and the binding to set as the browser's cookie."""
        issued_at = str(int(self._clock()))
        nonce = _b64(secrets.token_bytes(16))
        binding = _b64(secrets.token_bytes(16))
        state = f"{VERSION}.{issued_at}.{nonce}.{self._mac(issued_at, nonce, binding)}"
        return IssuedState(state=state, binding=binding)

    def verify(self, state: str | None, binding: str | None) -> StateClaims:
        """The claims of a valid state; raises :class:`InvalidState` saying what is wrong.

        Args:
            state: the callback's ``state`` parameter.
            binding: the browser's consent cookie (None when it sent none).
        """
        if not state:
            raise InvalidState(
                "missing",
                "the callback has no state, so it did not start from this service",
            )
        parts = state.split(".") if len(state) <= _MAX_STATE_LENGTH else []
        if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit():
            raise InvalidState("malformed", "the state parameter was not issued by this service")
        if not binding:
            raise InvalidState(
                "browser",
                "this browser did not start the authorization (its consent cookie is missing; "
                "start in the same browser, with cookies allowed for this site)",
            )
        _, issued_text, nonce, mac = parts
        expected = self._mac(issued_text, nonce, binding[:_MAX_STATE_LENGTH])
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            raise InvalidState(
                "signature",
                "the state parameter was altered, or the authorization was started in another "
                "browser",
            )
        issued_at = int(issued_text)
        now = int(self._clock())
        if issued_at > now + MAX_CLOCK_SKEW_SECONDS:
            raise InvalidState("malformed", "the state parameter was issued in the future")
        expires_at = issued_at + self.ttl_seconds
        if now > expires_at:
            raise InvalidState(
                "expired",
                f"the authorization link expired (links work for {self.ttl_seconds // 60} minutes)",
            )
        return StateClaims(issued_at=issued_at, expires_at=expires_at, nonce=nonce)
