"""Token calls on TikTok's auth host (``/api/v2/token/get`` and ``/refresh``): unsigned GETs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_pipeline.client.transport import Call

if TYPE_CHECKING:
    from tiktok_pipeline.client.client import TikTokShopClient


class AuthAPI:
    """Exchange an authorization code for tokens, and refresh them."""

    def __init__(self, client: TikTokShopClient) -> None:
        self._client = client

    def access_token(self, auth_code: str) -> dict[str, Any]:
        """Exchange a seller's ``auth_code`` (from the consent redirect) for a token set.

        Returns TikTok's response; ``data`` holds ``access_token``, ``access_token_expire_in`` (an
        absolute Unix time), ``refresh_token``, ``refresh_token_expire_in``, ``open_id``,
        ``seller_name``, ``seller_base_region``, ``user_type`` and ``granted_scopes``.
        """
        if not auth_code:
            raise ValueError("auth_code is empty: pass the `code` of the consent redirect")
        return self._token_call(
            "auth.access_token",
            "/api/v2/token/get",
            {"auth_code": auth_code, "grant_type": "authorized_code"},
            secret=auth_code,
            token_call="exchange",
        )

    def refresh_access_token(self, refresh_token: str) -> dict[str, Any]:
        """Get a new token set for ``refresh_token``; TikTok may rotate the refresh token too.

        A dead refresh token raises :class:`~tiktok_pipeline.client.errors.RefreshTokenInvalid`.
        """
        if not refresh_token:
            raise ValueError("refresh_token is empty")
        return self._token_call(
            "auth.refresh_access_token",
            "/api/v2/token/refresh",
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            secret=refresh_token,
            token_call="refresh",
        )

    def _token_call(
        self, action: str, path: str, params: dict[str, str], *, secret: str, token_call: str
    ) -> dict[str, Any]:
        client = self._client
        call = Call(
            action=action,
            method="GET",
            base_url=client.auth_base_url,
            path=path,
            query={"app_key": client.app_key, "app_secret": client.app_secret_value, **params},
            signed=False,
            # A code works once and a rotated refresh token dies when used: never send either
            # twice unless the first attempt surely did not reach TikTok.
            idempotent=False,
            token_call=token_call,
        )
        response = client.transport.send(call, secrets=(secret,))
        data = response.get("data") or {}
        return response | {"data": data}
