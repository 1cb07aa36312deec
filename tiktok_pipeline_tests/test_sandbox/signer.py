"""A small signed TikTok client for the sandbox tests.

Written here from the documented algorithm on purpose: the tests must not use
``tiktok_pipeline.client`` (nor the sandbox's own signing module) to talk to the sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

_UNSET: Any = object()


def tiktok_sign(app_secret: str, path: str, query: dict[str, str], body: bytes = b"") -> str:
    """Sorted query (minus sign and access_token) as key+value, path first, body last,
    wrapped in the secret, HMAC-SHA256 keyed by the secret, lowercase hex."""
    text = path + "".join(
        f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token")
    )
    message = app_secret.encode() + text.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def push_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """The Authorization header TikTok puts on a webhook push."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


class SignedClient:
    """Signs and sends Open API calls; every part can be overridden to provoke errors."""

    def __init__(
        self, base_url: str, app_key: str, app_secret: str, access_token: str | None = None
    ) -> None:
        self.base_url = base_url
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.session = requests.Session()

    def authorize(self, code: str) -> dict:
        """Exchange an auth code for tokens and keep the access token."""
        data = self.token_get(code).json()["data"]
        self.access_token = data["access_token"]
        return data

    def token_get(self, code: str, **overrides: str) -> requests.Response:
        """GET /api/v2/token/get."""
        params = {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "auth_code": code,
            "grant_type": "authorized_code",
            **overrides,
        }
        return self.session.get(f"{self.base_url}/api/v2/token/get", params=params, timeout=30)

    def token_refresh(self, refresh_token: str, **overrides: str) -> requests.Response:
        """GET /api/v2/token/refresh."""
        params = {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
            **overrides,
        }
        return self.session.get(f"{self.base_url}/api/v2/token/refresh", params=params, timeout=30)

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        *,
        cipher: str | None = None,
        token: Any = _UNSET,
        app_key: Any = _UNSET,
        timestamp: Any = _UNSET,
        sign: Any = _UNSET,
        raw_body: bytes | None = None,
        sent_body: bytes | None = None,
        secret: str | None = None,
        timeout: float = 60,
    ) -> requests.Response:
        """Send a signed call. ``sent_body`` lets a test send other bytes than it signed."""
        q = {k: str(v) for k, v in (query or {}).items()}
        if cipher is not None:
            q["shop_cipher"] = cipher
        key = self.app_key if app_key is _UNSET else app_key
        if key is not None:
            q["app_key"] = key
        ts = str(int(time.time())) if timestamp is _UNSET else timestamp
        if ts is not None:
            q["timestamp"] = str(ts)
        if raw_body is None and body is not None:
            raw_body = json.dumps(body, separators=(",", ":")).encode()
        raw_body = raw_body or b""
        signature = tiktok_sign(secret or self.app_secret, path, q, raw_body)
        if sign is _UNSET:
            q["sign"] = signature
        elif sign is not None:
            q["sign"] = sign
        headers = {"content-type": "application/json"}
        tok = self.access_token if token is _UNSET else token
        if tok is not None:
            headers["x-tts-access-token"] = tok
        payload = raw_body if sent_body is None else sent_body
        return self.session.request(
            method,
            f"{self.base_url}{path}",
            params=q,
            data=payload or None,
            headers=headers,
            timeout=timeout,
        )

    def ok(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        **kwargs: Any,
    ) -> dict:
        """A call that must succeed; returns ``data``."""
        response = self.call(method, path, query, body, **kwargs)
        payload = response.json()
        assert response.status_code == 200 and payload["code"] == 0, payload
        return payload["data"]

    def walk(
        self,
        path: str,
        list_key: str,
        page_size: int,
        body: Any = None,
        *,
        cipher: str,
        method: str = "POST",
        query: dict | None = None,
    ) -> tuple[list[dict], list[int]]:
        """Every item of a paged search, and the total_count each page reported."""
        items: list[dict] = []
        totals: list[int] = []
        token = ""
        for _ in range(10_000):
            q = {"page_size": page_size, **(query or {})}
            if token:
                q["page_token"] = token
            data = self.ok(
                method,
                path,
                q,
                body if body is not None else ({} if method == "POST" else None),
                cipher=cipher,
            )
            items.extend(data[list_key])
            if "total_count" in data:
                totals.append(data["total_count"])
            token = data["next_page_token"]
            if not token:
                return items, totals
        raise AssertionError("paging did not end")
