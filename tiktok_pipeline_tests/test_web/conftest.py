"""Fixtures of the web tests: the web service on a free port (fresh SQLite), the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktok_pipeline.config import Settings
from tiktok_pipeline.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from tiktok_pipeline.web import WebhookHooks, WebService, run_web_service
from tiktok_pipeline_tests.test_web.helpers import APP_KEY, APP_SECRET, BROWSER


@pytest.fixture(autouse=True)
def fresh_browser() -> None:
    """Each test starts with a browser that holds no cookie of an earlier test."""
    BROWSER.cookies.clear()


@pytest.fixture
def settings(sqlite_db_url: str) -> Settings:
    """Settings with the official vector's app key and secret and a fresh SQLite file."""
    return Settings(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        service_id="test-service",
        database_url=sqlite_db_url,
    )


@pytest.fixture
def hooks() -> WebhookHooks:
    """An empty listener registry the service uses."""
    return WebhookHooks()


@pytest.fixture
def service(settings: Settings, hooks: WebhookHooks) -> Iterator[WebService]:
    """The web service on a free port, its store made from ``settings`` (SQLite)."""
    with run_web_service(settings=settings, hooks=hooks) as running:
        yield running


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A small sandbox (one seller with two shops), shared by a test module."""
    config = SandboxConfig(sellers=1, shops=2, orders_per_shop=5, products_per_shop=2, days=2)
    with run_sandbox(config) as running:
        yield running
