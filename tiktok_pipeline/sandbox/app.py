"""The sandbox's ASGI application."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from tiktok_pipeline.sandbox import consent, console, control
from tiktok_pipeline.sandbox.config import SandboxConfig
from tiktok_pipeline.sandbox.gateway import SandboxGateway
from tiktok_pipeline.sandbox.state import SandboxState


def create_app(
    config: SandboxConfig | None = None, *, state: SandboxState | None = None
) -> Starlette:
    """The Starlette app serving both TikTok hosts, the /sandbox/ control endpoints and console.

    Args:
        config: the settings (default: ``SandboxConfig()``); ignored when ``state`` is given.
        state: an existing state to serve (the app closes it on shutdown only if it made it).

    The state is available as ``app.state.sandbox``.
    """
    owned = state is None
    sandbox = state if state is not None else SandboxState(config or SandboxConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """Close the state on shutdown (when the app made it)."""
        try:
            yield
        finally:
            if owned:
                sandbox.close()

    app = Starlette(
        routes=[*consent.routes(sandbox), *control.routes(sandbox), *console.routes()],
        middleware=[Middleware(SandboxGateway, state=sandbox)],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
