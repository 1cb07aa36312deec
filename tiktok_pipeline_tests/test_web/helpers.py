"""Helpers of the web tests: the official vector, signing, push bodies, posting."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tiktok_pipeline.config import Settings
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.web import WebService, run_web_service

#: The public signing vectors (a copy of /work/shared/test-vectors/signing.json).
VECTORS_FILE = Path(__file__).resolve().parents[1] / "test_client" / "signing_vectors.json"


def _load_official() -> dict[str, Any]:
    vectors = json.loads(VECTORS_FILE.read_text())["webhooks"]
    return next(v for v in vectors if v["name"] == "official-webhook-example")


OFFICIAL = _load_official()
APP_KEY = OFFICIAL["app_key"]
APP_SECRET = OFFICIAL["app_secret"]


def sign(body: bytes, app_key: str = APP_KEY, app_secret: str = APP_SECRET) -> str:
    """TikTok's ``Authorization`` header for ``body`` (computed here, independently)."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def push_body(
    type_number: int = 1, notification_id: str | None = "7380066284010030890", **data: Any
) -> bytes:
    """A compact push body like TikTok's."""
    payload: dict[str, Any] = {"type": type_number}
    if notification_id is not None:
        payload["tts_notification_id"] = notification_id
    payload |= {
        "shop_id": "7495540735365777507",
        "timestamp": 1718305585,
        "data": data or {"order_id": "576653688135258178", "order_status": "UNPAID"},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def post(
    service: WebService,
    route: str,
    body: bytes,
    *,
    signature: str | None = "sign",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST ``body`` to ``/tiktok/webhooks/<route>``, signed unless ``signature`` says otherwise."""
    sent = {"Content-Type": "application/json"}
    if signature == "sign":
        sent["Authorization"] = sign(body)
    elif signature is not None:
        sent["Authorization"] = signature
    sent |= headers or {}
    return requests.post(
        service.url(f"/tiktok/webhooks/{route}"), data=body, headers=sent, timeout=10
    )


def inbox(store: Store) -> list[Any]:
    """Every row of ``tiktok_webhooks`` (pending ones: nothing processes them in these tests)."""
    return store.webhooks.pending()


# ---- the sandbox and the seller's browser ----------------------------------------------------

CALLBACK = "/tiktok/seller/authorized"


def sandbox_settings(sandbox: RunningSandbox, database_url: str, **changes: Any) -> Settings:
    """Settings of a web service that talks to the sandbox for everything TikTok does."""
    values = {
        "app_key": sandbox.config.app_key,
        "app_secret": sandbox.config.app_secret,
        "service_id": sandbox.config.service_id,
        "api_base_url": sandbox.base_url,
        "auth_base_url": sandbox.base_url,
        "consent_base_url": sandbox.base_url,
        "database_url": database_url,
    }
    return Settings(**(values | changes))


def start(sandbox: RunningSandbox, settings: Settings, **options: Any) -> Iterator[WebService]:
    """The web service, with the sandbox's consent page redirecting to its callback."""
    with run_web_service(settings=settings, **options) as service:
        sandbox.control.config(redirect_url=service.url(CALLBACK))
        yield service


#: The seller's browser: keeps the consent cookie between steps, as a browser does.
BROWSER = requests.Session()


def get(url: str, browser: requests.Session = BROWSER) -> requests.Response:
    """One browser step: GET without following redirects (``browser``: another browser)."""
    return browser.get(url, allow_redirects=False, timeout=30)


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url``."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def signed_callback(service: WebService, code: str) -> str:
    """The callback URL for ``code`` with a fresh state, this browser holding its cookie (as
    when TikTok redirects back after "connect"), for tests about what follows the state."""
    to_tiktok = get(service.url("/tiktok/seller/authorize"))
    assert to_tiktok.status_code == 302
    state = query(to_tiktok.headers["location"])["state"]
    return service.url(f"{CALLBACK}?{urlencode({'code': code, 'state': state})}")


def consent(service: WebService, extra: str = "") -> str:
    """Click "connect" and consent on the sandbox; returns the callback URL it redirects to."""
    to_tiktok = get(service.url("/tiktok/seller/authorize"))
    assert to_tiktok.status_code == 302
    back = get(to_tiktok.headers["location"] + extra)
    assert back.status_code == 302
    return back.headers["location"]
