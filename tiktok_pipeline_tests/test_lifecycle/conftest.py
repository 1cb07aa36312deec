"""Fixtures: a running sandbox, a store (SQLite, or SQLite and Postgres) and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.sandbox import RunningSandbox, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import make_client, sandbox_config


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A fresh sandbox on a free port."""
    with run_sandbox(sandbox_config()) as running:
        yield running


@pytest.fixture
def store(sqlite_db_url: str) -> Iterator[Store]:
    """A migrated store in a SQLite file."""
    store = Store.from_url(sqlite_db_url, upgrade=True)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def any_store(database_url: str) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on a fresh Postgres database."""
    store = Store.from_url(database_url, upgrade=True)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def client(sandbox: RunningSandbox, store: Store) -> Iterator[TikTokShopClient]:
    """A client of the sandbox using the SQLite store."""
    with make_client(sandbox, store) as client:
        yield client


@pytest.fixture
def any_client(sandbox: RunningSandbox, any_store: Store) -> Iterator[TikTokShopClient]:
    """A client of the sandbox using ``any_store``."""
    with make_client(sandbox, any_store) as client:
        yield client
