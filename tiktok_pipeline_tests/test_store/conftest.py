"""Fixtures of the store tests: a migrated store on SQLite and on Postgres."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktok_pipeline.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on a fresh database (once on SQLite, once on Postgres)."""
    store = Store.from_url(database_url, upgrade=True)
    try:
        yield store
    finally:
        store.close()
