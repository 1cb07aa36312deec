"""Connecting a seller: exchange the authorization code, list the shops, store them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktok_pipeline.client import TikTokShopClient
    from tiktok_pipeline.store import Authorization, Shop, Store


def connect_seller(
    client: TikTokShopClient, store: Store, auth_code: str
) -> tuple[Authorization, list[Shop]]:
    """Exchange ``auth_code`` (from the consent redirect) and store the seller's shops.

    One authorization row holds the tokens; each authorized shop points at it. Raises the
    client's errors (``AuthorizationCodeInvalid`` for a used or expired code) and ValueError
    when TikTok's answer lacks the access token or the open_id.
    """
    token = client.auth.access_token(auth_code)["data"]
    access_token = token.get("access_token")
    if not access_token:
        raise ValueError("TikTok's token answer holds no access_token")
    listing = client.shop(access_token=access_token).authorization.shops()
    shops = list((listing.get("data") or {}).get("shops") or [])
    return store.tokens.save_authorization(token, shops)
