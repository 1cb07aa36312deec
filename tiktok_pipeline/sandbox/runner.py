"""Run the sandbox in a background thread (for tests, benchmarks and scripts)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import uvicorn
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tiktok_pipeline.sandbox.app import create_app
from tiktok_pipeline.sandbox.config import SandboxConfig
from tiktok_pipeline.sandbox.shops import SellerInfo, ShopInfo
from tiktok_pipeline.sandbox.state import SandboxState


class SandboxControl:
    """A small client of the /sandbox/ control endpoints."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        # A kept-alive connection the server has just closed as idle answers with a reset;
        # read-only calls are sent again on a new one.
        retry = Retry(total=2, connect=2, read=2, status=0, allowed_methods=frozenset({"GET"}))
        self._session.mount("http://", HTTPAdapter(max_retries=retry))

    def _call(
        self, method: str, path: str, json_body: dict | None = None, params: dict | None = None
    ) -> Any:
        response = self._session.request(
            method, f"{self.base_url}{path}", json=json_body, params=params, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"sandbox control call {method} {path} failed with HTTP "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def advance(self, seconds: int) -> dict:
        """Move the virtual clock forward; webhooks of what changed are pushed."""
        return self._call("POST", "/sandbox/clock/advance", {"seconds": seconds})

    def now(self) -> int:
        """The virtual clock."""
        return self._call("GET", "/sandbox/clock")["now"]

    def set_faults(self, **settings: Any) -> dict:
        """Replace the fault settings (see FaultSettings for the names)."""
        return self._call("POST", "/sandbox/faults", settings)

    def clear_faults(self) -> dict:
        """No faults."""
        return self._call("DELETE", "/sandbox/faults")

    def expire_tokens(self, open_id: str | None = None, which: str = "access") -> dict:
        """Make tokens expire now (``which``: access, refresh or both)."""
        body: dict[str, Any] = {"which": which}
        if open_id is not None:
            body["open_id"] = open_id
        return self._call("POST", "/sandbox/tokens/expire", body)

    def config(self, **settings: Any) -> dict:
        """Change run-time settings (no arguments: read them)."""
        if not settings:
            return self._call("GET", "/sandbox/config")
        return self._call("POST", "/sandbox/config", settings)

    def stats(self) -> dict:
        """Request counts, token calls, rejections per code, faults."""
        return self._call("GET", "/sandbox/stats")

    def reset_stats(self) -> dict:
        """Zero the statistics."""
        return self._call("POST", "/sandbox/stats/reset")

    def state(self) -> dict:
        """Clock, shops, sellers, faults and config."""
        return self._call("GET", "/sandbox/state")

    def reset(self, auth: bool = False) -> dict:
        """Back to the start (``auth=True`` also forgets tokens)."""
        return self._call("POST", "/sandbox/reset", {"auth": auth})

    def truth(self, entity: str, shop_id: str | None = None, **filters: Any) -> list[dict]:
        """The objects the API would serve now (``orders``, ``products`` or ``returns``)."""
        params = {k: v for k, v in filters.items() if v is not None}
        if shop_id is not None:
            params["shop_id"] = shop_id
        return self._call("GET", f"/sandbox/truth/{entity}", params=params)[entity]

    def counts(self, shop_id: str | None = None, **filters: Any) -> dict:
        """Counts per entity (orders, order_line_items, products, product_skus, returns ...)."""
        params = {k: v for k, v in filters.items() if v is not None}
        if shop_id is not None:
            params["shop_id"] = shop_id
        return self._call("GET", "/sandbox/truth/counts", params=params)

    def authorize(self, open_id: str | None = None) -> str:
        """An auth code for a seller (default: the first), without the browser."""
        body = {"open_id": open_id} if open_id else {}
        return self._call("POST", "/sandbox/authorize", body)["code"]

    def add_seller(self, shops: int = 1, **options: Any) -> dict:
        """A new seller with new shops: ``{"seller": {...}, "shops": [...]}``."""
        return self._call("POST", "/sandbox/sellers", {"shops": shops, **options})

    def add_shop(self, open_id: str, **options: Any) -> dict:
        """A shop joins a seller's authorization (``shop_id=``: a removed one comes back):
        ``{"seller": {...}, "shop": {...}}``."""
        return self._call("POST", f"/sandbox/sellers/{open_id}/shops", options)

    def remove_shop(self, open_id: str, shop_id: str) -> dict:
        """A shop leaves a seller's authorization: ``{"seller": {...}, "removed": {...}}``."""
        return self._call("DELETE", f"/sandbox/sellers/{open_id}/shops/{shop_id}")

    def deauthorize(self, open_id: str) -> dict:
        """Revoke a seller's tokens and push SELLER_DEAUTHORIZATION for its shops."""
        return self._call("POST", f"/sandbox/sellers/{open_id}/deauthorize")

    def authorization_expiring(self, open_id: str, days: int = 7) -> dict:
        """Push UPCOMING_AUTHORIZATION_EXPIRATION for a seller's shops."""
        return self._call("POST", f"/sandbox/sellers/{open_id}/expiring", {"days": days})

    def deliveries(self, wait: float | None = None, **filters: Any) -> dict:
        """Webhook push attempts; ``wait`` seconds for pending pushes to finish first."""
        params = {k: v for k, v in filters.items() if v is not None}
        if wait is not None:
            params["wait"] = wait
        return self._call("GET", "/sandbox/webhooks/deliveries", params=params)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


class RunningSandbox:
    """A sandbox running in a background thread."""

    def __init__(self, state: SandboxState, base_url: str) -> None:
        self.state = state
        self.config = state.config
        self.base_url = base_url
        self.control = SandboxControl(base_url)

    @property
    def shops(self) -> list[ShopInfo]:
        """Every shop (including those of sellers added later)."""
        return self.state.shops

    @property
    def sellers(self) -> list[SellerInfo]:
        """Every seller."""
        return self.state.seller_list()

    def authorize(self, open_id: str | None = None) -> str:
        """An auth code, as the consent redirect would give it (default: the first seller)."""
        return self.control.authorize(open_id)

    def consent_url(self, state: str = "") -> str:
        """The consent (authorization) link of this sandbox."""
        return f"{self.base_url}/open/authorize?service_id={self.config.service_id}&state={state}"


@contextlib.contextmanager
def run_sandbox(
    config: SandboxConfig | None = None, *, startup_timeout: float = 30.0
) -> Iterator[RunningSandbox]:
    """Serve a sandbox with uvicorn in a background thread until the block exits.

    The server listens on ``config.host``/``config.port`` (port 0: a free port) and is ready
    when the block starts.
    """
    config = config or SandboxConfig()
    state = SandboxState(config)
    app = create_app(state=state)
    server = uvicorn.Server(
        # No access log (token calls carry secrets in their query strings); a short graceful
        # shutdown so that a "slow" fault in flight does not hold the exit.
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, name="tiktok-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            state.close()
            raise RuntimeError(
                f"the sandbox did not start on {config.host}:{config.port}; is the port free?"
            )
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    running = RunningSandbox(state, f"http://{config.host}:{port}")
    try:
        yield running
    finally:
        running.control.close()
        server.should_exit = True
        thread.join(timeout=10)
        state.close()
