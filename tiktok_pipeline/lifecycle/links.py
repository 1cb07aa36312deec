"""Where a seller goes to authorize the app again."""

from __future__ import annotations

from tiktok_pipeline.config import load_settings

AUTHORIZE_PATH = "/tiktok/seller/authorize"
#: Where TikTok sends the seller back (the redirect URL registered in Partner Center).
AUTHORIZED_PATH = "/tiktok/seller/authorized"


def reauthorize_url(public_url: str | None = None) -> str:
    """The link that fixes a ``needs_reauth`` shop: ``/tiktok/seller/authorize`` on the web service.

    ``public_url`` defaults to ``TIKTOK_PUBLIC_URL`` (http://127.0.0.1:8000 when unset).
    """
    base = public_url if public_url is not None else load_settings().public_url
    return base.rstrip("/") + AUTHORIZE_PATH


def redirect_url(public_url: str | None = None) -> str:
    """The redirect URL to register in Partner Center: ``/tiktok/seller/authorized``.

    ``public_url`` defaults to ``TIKTOK_PUBLIC_URL`` (http://127.0.0.1:8000 when unset).
    """
    base = public_url if public_url is not None else load_settings().public_url
    return base.rstrip("/") + AUTHORIZED_PATH
