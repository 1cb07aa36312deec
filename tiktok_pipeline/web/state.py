"""The consent link's ``state``: signed, expiring and single-use, so a callback is ours.

A state is ``v1.<issued at>.<nonce>.<mac>``: the Unix time it was issued, 16 random bytes and an
HMAC-SHA256 over both with a key derived from the app secret (so the state never reveals the
secret and a key for another purpose is never reused). It expires after 10 minutes. Each state is
accepted once per process: the nonces of accepted states are remembered until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "v1"
DEFAULT_TTL_SECONDS = 600
#: A state "issued" further ahead than this (clock trouble or forgery) is refused.
MAX_CLOCK_SKEW_SECONDS = 60
_KEY_CONTEXT = b"tiktok-pipeline/consent-state/v1"
_MAX_STATE_LENGTH = 200


class InvalidState(ValueError):
    """The callback's ``state`` is not one we issued, was altered, has expired or was used.

    Attributes:
        reason: ``malformed``, ``signature``, ``expired`` or ``reused``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StateClaims:
    """What a valid state says: when it was issued and its nonce."""

    issued_at: int
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class StateSigner:
    """Issue and check consent states.

    Args:
        app_secret: the app secret; the signing key is derived from it.
        ttl_seconds: how long a state stays valid (default 10 minutes).
        one_time: refuse a state that was already accepted (in this process).
        clock: returns the current Unix time (tests pass a fake).
    """

    def __init__(
        self,
        app_secret: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        one_time: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not app_secret:
            raise ValueError("app_secret is empty: the state key is derived from it")
        self._key = hmac.new(app_secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds
        self.one_time = one_time
        self._clock = clock
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def _mac(self, issued_at: str, nonce: str) -> str:
        message = f"{VERSION}.{issued_at}.{nonce}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self) -> str:
        """A new state for one consent link."""
        issued_at = str(int(self._clock()))
        nonce = _b64(secrets.token_bytes(16))
        return f"{VERSION}.{issued_at}.{nonce}.{self._mac(issued_at, nonce)}"

    def verify(self, state: str) -> StateClaims:
        """The claims of a valid state; raises :class:`InvalidState` saying what is wrong.

        With ``one_time`` a valid state is consumed: a second call with it raises ``reused``.
        """
        parts = state.split(".") if len(state) <= _MAX_STATE_LENGTH else []
        if len(parts) != 4 or parts[0] != VERSION or not parts[1].isdigit():
            raise InvalidState("malformed", "the state parameter was not issued by this service")
        _, issued_text, nonce, mac = parts
        if not hmac.compare_digest(self._mac(issued_text, nonce).encode(), mac.encode()):
            raise InvalidState(
                "signature", "the state parameter was altered or signed with another key"
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
        if self.one_time:
            with self._lock:
                self._forget_expired(now)
                if nonce in self._used:
                    raise InvalidState("reused", "this authorization link was already used")
                self._used[nonce] = expires_at
        return StateClaims(issued_at=issued_at, nonce=nonce)

    def _forget_expired(self, now: int) -> None:
        expired = [nonce for nonce, expires_at in self._used.items() if expires_at < now]
        for nonce in expired:
            del self._used[nonce]
