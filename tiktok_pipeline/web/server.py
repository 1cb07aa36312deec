"""Running the web service with uvicorn: in the foreground (CLI) or in a thread (tests, demos).

uvicorn runs with httptools and uvloop when installed and without an access log: the receiver's
request path stays lean. When the access log is switched on, auth codes and states are blanked
out of its lines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tiktok_pipeline.redaction import install_url_log_filter
from tiktok_pipeline.web.app import create_app

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 15.0
#: Hidden from access log lines besides ``redaction.SECRET_KEYS``: the OAuth callback's
#: authorization code and state arrive in its query string.
ACCESS_LOG_SECRET_KEYS = frozenset({"code", "state"})


def uvicorn_config(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = False,
    log_level: str = "info",
    **options: Any,
) -> uvicorn.Config:
    """uvicorn's settings for the web service: httptools, uvloop if present, our logging."""
    if access_log:
        install_url_log_filter("uvicorn.access", extra_keys=ACCESS_LOG_SECRET_KEYS)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools" if importlib.util.find_spec("httptools") else "auto",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        lifespan="on",
        access_log=access_log,
        log_config=None,
        log_level=log_level,
        server_header=False,
        **options,
    )


def serve(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 8000, access_log: bool = False
) -> None:
    """Run the web service in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    uvicorn.Server(uvicorn_config(app, host=host, port=port, access_log=access_log)).run()


@dataclass
class WebService:
    """A web service running in a background thread (see :func:`run_web_service`).

    Attributes:
        base_url: ``http://host:port`` to send requests to.
        app: the Starlette app (``app.state.store`` and ``.hooks``).
    """

    base_url: str
    host: str
    port: int
    app: Starlette
    server: uvicorn.Server

    @property
    def store(self) -> Any:
        """The app's operational store."""
        return self.app.state.store

    @property
    def hooks(self) -> Any:
        """The app's webhook listener registry."""
        return self.app.state.hooks

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this service."""
        return f"{self.base_url}{path}"


@contextlib.contextmanager
def run_web_service(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    app: Starlette | None = None,
    access_log: bool = False,
    **app_options: Any,
) -> Iterator[WebService]:
    """Start the web service in a thread, yield it once it accepts connections, then stop it.

    Args:
        host: interface to bind.
        port: port to bind (0: a free one; read it from ``service.port``).
        app: an app to serve; otherwise one is made with ``create_app(**app_options)``.
        access_log: log every request (secrets blanked out).
        app_options: passed to :func:`~tiktok_pipeline.web.app.create_app`.
    """
    if app is None:
        app = create_app(**app_options)
    elif app_options:
        raise TypeError("pass either app= or create_app() options, not both")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn_config(
        app, host=host, port=bound_port, access_log=access_log, log_level="warning"
    )
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"web-service-{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if errors or not thread.is_alive():
            sock.close()
            raise RuntimeError(f"the web service failed to start: {errors[:1] or 'it exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise RuntimeError("the web service did not start within 15 seconds")
        time.sleep(0.01)
    service = WebService(
        base_url=f"http://{host}:{bound_port}", host=host, port=bound_port, app=app, server=server
    )
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        if thread.is_alive():
            log.warning("the web service thread did not stop within 15 seconds")
