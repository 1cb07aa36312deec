"""Fixtures for the sandbox tests: a running sandbox and an authorized signed client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret"
ANCHOR = 1_767_225_600  # 2026-01-01 00:00 UTC


def small_config(**overrides) -> SandboxConfig:
    """A small, frozen-clock sandbox configuration."""
    values: dict[str, Any] = dict(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=7,
        shops=2,
        orders_per_shop=400,
        products_per_shop=40,
        days=30,
        anchor=ANCHOR,
        frozen_clock=True,
        webhook_retry_scale=0.0001,
        render_cache_mb=16,
    )
    values.update(overrides)
    return SandboxConfig(**values)


def authorized_client(sandbox: RunningSandbox, open_id: str | None = None) -> SignedClient:
    """A client holding a fresh access token of a seller."""
    client = SignedClient(sandbox.base_url, sandbox.config.app_key, sandbox.config.app_secret)
    client.authorize(sandbox.authorize(open_id))
    return client


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox shared by a test module (tests must not change its data or clock)."""
    with run_sandbox(small_config()) as running:
        yield running


@pytest.fixture(scope="module")
def client(sandbox: RunningSandbox) -> SignedClient:
    """An authorized client of the module's sandbox."""
    return authorized_client(sandbox)


@pytest.fixture
def fresh() -> Iterator[RunningSandbox]:
    """A sandbox of the test's own (for tests that move the clock or change settings)."""
    with run_sandbox(small_config()) as running:
        yield running
