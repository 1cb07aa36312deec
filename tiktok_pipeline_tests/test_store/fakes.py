"""A stand-in for TikTok's token endpoint, and token data shaped like TikTok's."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.errors import RefreshTokenInvalid

OPEN_ID = "7010736057180325637"


def epoch_in(delta: timedelta) -> int:
    """Unix seconds ``delta`` from now (TikTok's *_expire_in values are absolute)."""
    return int((utcnow() + delta).timestamp())


def token_data(
    access_token: str = "TTP_access_1",
    refresh_token: str = "TTP_refresh_1",
    *,
    open_id: str = OPEN_ID,
    access_in: timedelta = timedelta(days=7),
    refresh_in: timedelta = timedelta(days=60),
) -> dict[str, Any]:
    """The ``data`` of a token/get response."""
    return {
        "access_token": access_token,
        "access_token_expire_in": epoch_in(access_in),
        "refresh_token": refresh_token,
        "refresh_token_expire_in": epoch_in(refresh_in),
        "open_id": open_id,
        "seller_name": "Maomao Shop",
        "seller_base_region": "GB",
        "user_type": 0,
        "granted_scopes": ["seller.authorization.info", "seller.order.info"],
    }


def shop(shop_id: str, name: str = "", cipher: str | None = None) -> dict[str, Any]:
    """One entry of ``data.shops`` from GET /authorization/202309/shops."""
    return {
        "id": shop_id,
        "name": name or f"Shop {shop_id}",
        "region": "GB",
        "seller_type": "LOCAL",
        "cipher": cipher if cipher is not None else f"GCP_cipher_{shop_id}",
        "code": f"GB{shop_id[-4:]}",
    }


class FakeTokenEndpoint:
    """Behaves like token/refresh: rotates both tokens, rejects any refresh token but the last.

    Rejecting superseded refresh tokens is what makes stale copies (the original's bug) fail.
    """

    def __init__(self, refresh_token: str = "TTP_refresh_1", *, delay: float = 0.0) -> None:
        self.valid_refresh_token = refresh_token
        self.delay = delay
        self.calls = 0
        self.dead = False
        self.error: Exception | None = None
        self._lock = threading.Lock()

    def __call__(self, refresh_token: str) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            number = self.calls
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        if self.dead or refresh_token != self.valid_refresh_token:
            raise RefreshTokenInvalid(
                "rt has expired", code=36004001, endpoint="auth.refresh_token"
            )
        with self._lock:
            self.valid_refresh_token = f"TTP_refresh_{number + 1}"
        return token_data(f"TTP_access_{number + 1}", f"TTP_refresh_{number + 1}")
