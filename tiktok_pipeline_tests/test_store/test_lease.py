"""The refresh lease on its own: one holder at a time, expiry, release, waiting (both backends)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline.errors import TokenError
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.lease import RefreshLease, lease_owner
from tiktok_pipeline.store.schema import tiktok_authorizations
from tiktok_pipeline_tests.test_store.fakes import shop, token_data


@pytest.fixture
def authorization_id(store: Store) -> int:
    """A stored authorization whose row carries the lease."""
    authorization, _ = store.tokens.save_authorization(token_data(), [shop("7494049642642441621")])
    return authorization.id


def _holder(store: Store, authorization_id: int) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(tiktok_authorizations.c.refresh_lease_owner).where(
                tiktok_authorizations.c.id == authorization_id
            )
        ).scalar_one()


def test_one_holder_at_a_time(store: Store, authorization_id: int) -> None:
    first = RefreshLease(store.engine, authorization_id)
    second = RefreshLease(store.engine, authorization_id)

    assert first.acquire()
    assert not second.acquire()
    assert _holder(store, authorization_id) == first.owner
    first.release()
    assert _holder(store, authorization_id) is None
    assert second.acquire()
    assert _holder(store, authorization_id) == second.owner


def test_only_the_holder_releases(store: Store, authorization_id: int) -> None:
    holder = RefreshLease(store.engine, authorization_id)
    other = RefreshLease(store.engine, authorization_id)
    assert holder.acquire()

    other.release()

    assert _holder(store, authorization_id) == holder.owner


def test_an_expired_lease_is_taken_over(store: Store, authorization_id: int) -> None:
    crashed = RefreshLease(store.engine, authorization_id, duration=timedelta(seconds=-1))
    assert crashed.acquire()
    successor = RefreshLease(store.engine, authorization_id)

    assert successor.acquire()
    assert _holder(store, authorization_id) == successor.owner
    crashed.release()  # too late: no longer its lease
    assert _holder(store, authorization_id) == successor.owner


def test_a_waiter_returns_once_the_holder_releases(store: Store, authorization_id: int) -> None:
    holder = RefreshLease(store.engine, authorization_id)
    waiter = RefreshLease(store.engine, authorization_id)
    assert holder.acquire()
    releaser = threading.Timer(0.3, holder.release)
    started = time.monotonic()
    releaser.start()
    try:
        waiter.wait_for_release(deadline=time.monotonic() + 10)
    finally:
        releaser.join()
    assert time.monotonic() - started >= 0.3
    assert waiter.acquire()


def test_a_waiter_gives_up_at_its_deadline_naming_the_holder(
    store: Store, authorization_id: int
) -> None:
    holder = RefreshLease(store.engine, authorization_id, owner="worker-7:4242")
    assert holder.acquire()
    waiter = RefreshLease(store.engine, authorization_id)

    with pytest.raises(TokenError) as caught:
        waiter.wait_for_release(deadline=time.monotonic() + 0.2)

    assert "worker-7:4242" in str(caught.value)
    assert f"authorization {authorization_id}" in str(caught.value)
    assert _holder(store, authorization_id) == "worker-7:4242"


def test_owner_names_are_unique_and_fit_the_column() -> None:
    names = {lease_owner() for _ in range(100)}
    assert len(names) == 100
    assert all(len(name) <= 255 for name in names)
