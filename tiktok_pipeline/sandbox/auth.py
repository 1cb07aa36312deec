"""Seller authorization: auth codes, access tokens and refresh tokens.

All expiry is measured on the real wall clock (``time.time()``) so that short lifetimes work
in tests, independently of the virtual clock of the data.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from tiktok_pipeline.sandbox import errors
from tiktok_pipeline.sandbox.catalog import GRANTED_SCOPES
from tiktok_pipeline.sandbox.config import SandboxConfig


@dataclass
class AuthCode:
    """A consent's auth code: single use, short-lived."""

    open_id: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    """An access or refresh token."""

    open_id: str
    kind: str
    expires_at: float
    revoked: bool = False


class TokenError(Exception):
    """A token endpoint failure: TikTok's code and message (HTTP 200)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AccessCheck:
    """The outcome of checking an access token: the open_id, or an error triple."""

    __slots__ = ("error", "open_id")

    def __init__(self, open_id: str | None, error: tuple[int, int, str] | None) -> None:
        self.open_id = open_id
        self.error = error


class AuthStore:
    """Auth codes and tokens of every seller."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._codes: dict[str, AuthCode] = {}
        self._tokens: dict[str, Token] = {}
        self.deauthorized: set[str] = set()

    def reset(self) -> None:
        """Forget every code and token."""
        with self._lock:
            self._codes.clear()
            self._tokens.clear()
            self.deauthorized.clear()

    # -- codes --------------------------------------------------------------------------------

    def issue_code(self, open_id: str) -> str:
        """A new auth code for ``open_id`` (as the consent redirect gives it)."""
        code = "ROW_" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = AuthCode(open_id, time.time() + self.config.auth_code_ttl)
            self.deauthorized.discard(open_id)
        return code

    # -- token endpoints ----------------------------------------------------------------------

    def _check_app(self, app_key: str | None, app_secret: str | None) -> None:
        ok_key = secrets.compare_digest(app_key or "", self.config.app_key)
        ok_secret = secrets.compare_digest(app_secret or "", self.config.app_secret)
        if not (ok_key and ok_secret):
            raise TokenError(*errors.INVALID_APP_CREDENTIALS)

    def _issue(self, open_id: str, refresh_token: str | None = None) -> dict:
        now = time.time()
        access = "TTP_" + secrets.token_urlsafe(40)
        access_exp = now + self.config.access_token_ttl
        self._tokens[access] = Token(open_id, "access", access_exp)
        if refresh_token is None:
            refresh_token = "TTP_" + secrets.token_urlsafe(40)
            self._tokens[refresh_token] = Token(
                open_id, "refresh", now + self.config.refresh_token_ttl
            )
        return {
            "access_token": access,
            "access_token_expire_in": int(access_exp),
            "refresh_token": refresh_token,
            "refresh_token_expire_in": int(self._tokens[refresh_token].expires_at),
        }

    def exchange_code(
        self,
        app_key: str | None,
        app_secret: str | None,
        auth_code: str | None,
        grant_type: str | None,
    ) -> dict:
        """The token/get answer's token fields; raises TokenError."""
        self._check_app(app_key, app_secret)
        if grant_type != "authorized_code":
            raise TokenError(*errors.INVALID_GRANT_TYPE)
        with self._lock:
            record = self._codes.get(auth_code or "")
            if record is None or record.used or record.expires_at < time.time():
                raise TokenError(*errors.AUTH_RECORD_NOT_FOUND)
            record.used = True
            return {"open_id": record.open_id, **self._issue(record.open_id)}

    def refresh(
        self,
        app_key: str | None,
        app_secret: str | None,
        refresh_token: str | None,
        grant_type: str | None,
    ) -> dict:
        """The token/refresh answer's token fields; raises TokenError."""
        self._check_app(app_key, app_secret)
        if grant_type != "refresh_token":
            raise TokenError(*errors.INVALID_GRANT_TYPE)
        now = time.time()
        with self._lock:
            token = self._tokens.get(refresh_token or "")
            if token is None or token.kind != "refresh" or token.revoked:
                raise TokenError(*errors.AUTH_RECORD_NOT_FOUND)
            if token.expires_at < now:
                raise TokenError(*errors.REFRESH_TOKEN_EXPIRED)
            open_id = token.open_id
            grace_end = now + self.config.refresh_grace
            for other in self._tokens.values():
                if other.kind == "access" and other.open_id == open_id and not other.revoked:
                    other.expires_at = min(other.expires_at, grace_end)
            if self.config.rotate_refresh_tokens:
                token.revoked = True
                issued = self._issue(open_id)
            else:
                issued = self._issue(open_id, refresh_token)
            return {"open_id": open_id, **issued}

    # -- Open API checks ----------------------------------------------------------------------

    def check_access(self, access_token: str) -> AccessCheck:
        """Which seller an access token belongs to, or why it is refused."""
        token = self._tokens.get(access_token)
        if token is None or token.kind != "access" or token.revoked:
            return AccessCheck(None, errors.INVALID_TOKEN)
        if token.expires_at < time.time():
            return AccessCheck(None, errors.EXPIRED_TOKEN)
        return AccessCheck(token.open_id, None)

    # -- control ------------------------------------------------------------------------------

    def expire(self, open_id: str | None, which: str) -> int:
        """Make tokens expire now; returns how many were touched."""
        kinds = {"access": ("access",), "refresh": ("refresh",), "both": ("access", "refresh")}
        if which not in kinds:
            raise ValueError('which must be "access", "refresh" or "both"')
        past = time.time() - 1
        n = 0
        with self._lock:
            for token in self._tokens.values():
                if token.kind in kinds[which] and (open_id is None or token.open_id == open_id):
                    if token.expires_at > past:
                        token.expires_at = past
                        n += 1
        return n

    def revoke(self, open_id: str) -> int:
        """Revoke every token of a seller (deauthorization); returns how many."""
        n = 0
        with self._lock:
            self.deauthorized.add(open_id)
            for token in self._tokens.values():
                if token.open_id == open_id and not token.revoked:
                    token.revoked = True
                    n += 1
        return n

    def token_counts(self) -> dict[str, int]:
        """Live tokens per kind (for /sandbox/state; never the values)."""
        now = time.time()
        out = {"access": 0, "refresh": 0}
        for token in list(self._tokens.values()):
            if not token.revoked and token.expires_at >= now:
                out[token.kind] += 1
        return out

    @staticmethod
    def granted_scopes() -> list[str]:
        """The scopes every sandbox authorization grants."""
        return list(GRANTED_SCOPES)
