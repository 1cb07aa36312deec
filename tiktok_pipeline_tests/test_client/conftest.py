"""A sandbox per test module and an authorized token set for its first seller."""

from __future__ import annotations

import pytest

from tiktok_pipeline.client import RetryPolicy, TikTokShopClient
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox

FAST_RETRIES = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05, jitter=0.01)


@pytest.fixture(scope="module")
def sandbox():
    """A small sandbox with a frozen clock: 2 shops of one seller, 300 orders each."""
    config = SandboxConfig(
        seed=11, shops=2, orders_per_shop=300, products_per_shop=30, days=20, frozen_clock=True
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(request):
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").control.clear_faults()


@pytest.fixture
def client(sandbox) -> TikTokShopClient:
    """A client for the sandbox without a token store."""
    with TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        retry=FAST_RETRIES,
        qps=None,
    ) as made:
        yield made


@pytest.fixture
def tokens(sandbox, client) -> dict:
    """A fresh token set of the first seller (the `data` of the token call)."""
    return client.auth.access_token(sandbox.authorize())["data"]


@pytest.fixture
def shop(sandbox):
    """The first sandbox shop."""
    return sandbox.shops[0]


@pytest.fixture
def api(client, tokens, shop):
    """The API of the first shop with explicit credentials."""
    return client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
