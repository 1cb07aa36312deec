"""Refreshing tokens against the sandbox over HTTP: only what is due, once, rotation kept."""

from __future__ import annotations

import json
import logging
import multiprocessing
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import RefreshTokenInvalid, TikTokShopClient, UnknownShopError
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle import RefreshOutcome, refresh_expiring
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.schema import tiktok_requests
from tiktok_pipeline_tests.test_lifecycle.refresh_worker import refresh_in_process
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import (
    FAST_RETRY,
    TOKEN_REFRESH_PATH,
    connect,
    refresh_calls,
    shop_ids,
)

HOUR = timedelta(hours=1)


def _outcomes(report) -> dict[str, str]:
    return {r.open_id: r.outcome.value for r in report.results}


def test_token_near_expiry_is_refreshed_and_one_far_from_expiry_is_not(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    near = connect(sandbox, any_store, any_client, 0, access=HOUR)
    far = connect(sandbox, any_store, any_client, 1, access=timedelta(days=7))
    sandbox.control.reset_stats()

    report = refresh_expiring(any_client, any_store)

    assert report.ok
    assert _outcomes(report) == {near.open_id: "refreshed", far.open_id: "skipped"}
    assert refresh_calls(sandbox) == 1
    refreshed = any_store.tokens.get_authorization(near.id)
    assert refreshed.access_token != near.access_token
    assert refreshed.access_token_expires_at > near.access_token_expires_at + timedelta(days=6)
    assert refreshed.last_refreshed_at is not None
    untouched = any_store.tokens.get_authorization(far.id)
    assert untouched.access_token == far.access_token
    # The new token is what the shops' calls now use, and TikTok accepts it.
    for shop_id in shop_ids(sandbox, 0):
        listed = any_client.shop(shop_id).authorization.shops()["data"]["shops"]
        assert shop_id in {s["id"] for s in listed}
    by_seller = {r.open_id: r for r in report.results}
    assert sorted(by_seller[near.open_id].shop_ids) == shop_ids(sandbox, 0)


def test_one_refresh_per_authorization_not_per_shop(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    connect(sandbox, store, client, 0, access=HOUR)  # two shops, one seller
    sandbox.control.reset_stats()

    report = refresh_expiring(client, store)

    assert [r.outcome for r in report.results] == [RefreshOutcome.REFRESHED]
    assert refresh_calls(sandbox) == 1


def test_rotated_refresh_token_is_persisted(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    before = connect(sandbox, store, client, 0, access=HOUR)

    first = refresh_expiring(client, store)

    after = store.tokens.get_authorization(before.id)
    assert first.results[0].refresh_token_rotated
    assert after.refresh_token != before.refresh_token
    # The sandbox killed the old refresh token, so only the stored new one can work again.
    with pytest.raises(RefreshTokenInvalid):
        client.auth.refresh_access_token(before.refresh_token)
    second = refresh_expiring(client, store, within=timedelta(days=8))
    assert [r.outcome for r in second.results] == [RefreshOutcome.REFRESHED]
    assert store.tokens.get_authorization(before.id).status.value == "active"


def test_dead_refresh_token_marks_needs_reauth_and_is_not_retried(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient, caplog
) -> None:
    dead = connect(sandbox, any_store, any_client, 0, access=HOUR)
    alive = connect(sandbox, any_store, any_client, 1, access=HOUR)
    sandbox.control.expire_tokens(open_id=dead.open_id, which="refresh")
    sandbox.control.reset_stats()
    caplog.set_level(logging.DEBUG, logger="tiktok_pipeline")

    report = refresh_expiring(any_client, any_store)

    assert not report.ok
    assert _outcomes(report) == {dead.open_id: "needs_reauth", alive.open_id: "refreshed"}
    assert report.shops_needing_reauth == shop_ids(sandbox, 0)
    assert refresh_calls(sandbox) == 2  # one each; the dead token was not retried
    for shop_id in shop_ids(sandbox, 0):
        assert any_store.tokens.get_shop(shop_id).status.value == "needs_reauth"
    assert any_store.tokens.get_shop(shop_ids(sandbox, 1)[0]).status.value == "active"
    assert "36004001" in (report.results[0].detail or "")
    secrets = [dead.access_token, dead.refresh_token, alive.access_token, alive.refresh_token]
    text = json.dumps(report.to_dict()) + caplog.text
    assert not [s for s in secrets if s in text]

    again = refresh_expiring(any_client, any_store)

    assert refresh_calls(sandbox) == 2 + 0  # known dead: no call at all
    assert not again.ok
    assert again.shops_needing_reauth == shop_ids(sandbox, 0)


def test_transient_errors_are_retried_with_backoff(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    authorization = connect(sandbox, store, client, 0, access=HOUR)
    sandbox.control.set_faults(error_503_share=1.0, paths=[TOKEN_REFRESH_PATH])

    failed = refresh_expiring(client, store)

    assert not failed.ok
    assert [r.outcome for r in failed.results] == [RefreshOutcome.FAILED]
    assert failed.results[0].retryable and failed.retryable
    assert failed.failed_shops == shop_ids(sandbox, 0)
    assert store.tokens.get_authorization(authorization.id).status.value == "active"
    store.request_log.flush()
    with store.engine.connect() as conn:
        attempts = (
            conn.execute(
                sa.select(tiktok_requests.c.attempt)
                .where(tiktok_requests.c.path == TOKEN_REFRESH_PATH)
                .order_by(tiktok_requests.c.id)
            )
            .scalars()
            .all()
        )
    assert attempts == list(range(1, FAST_RETRY.max_attempts + 1))

    sandbox.control.set_faults(error_503_share=1.0, paths=[TOKEN_REFRESH_PATH], limit=1)
    recovered = refresh_expiring(client, store)

    assert recovered.ok
    assert [r.outcome for r in recovered.results] == [RefreshOutcome.REFRESHED]


def _refresh_in_two_processes(
    sandbox: RunningSandbox, database_url: str, lease_seconds: float | None = None
) -> list[str]:
    """Two processes run the refresh job at once; returns their outcomes, sorted."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    args = (
        database_url,
        sandbox.base_url,
        sandbox.config.app_key,
        sandbox.config.app_secret,
        barrier,
        results,
        lease_seconds,
    )
    processes = [context.Process(target=refresh_in_process, args=args) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    return sorted(o for _, found in outcomes for o in found)


def test_two_processes_refreshing_at_once_make_one_call(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient, database_url: str
) -> None:
    connect(sandbox, any_store, any_client, 0, access=HOUR)
    # Slow answers make both processes want the refresh while the first one is in flight.
    sandbox.control.set_faults(latency_ms=300, paths=[TOKEN_REFRESH_PATH])
    sandbox.control.reset_stats()

    assert _refresh_in_two_processes(sandbox, database_url) == ["refreshed", "skipped"]
    assert refresh_calls(sandbox) == 1


def test_a_refresh_slower_than_the_lease_keeps_the_seller_connected(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient, database_url: str
) -> None:
    """TikTok answers the refresh after 1.5 s, first with a 503, so one refresh lasts about
    three 1 s leases. The other process must wait for it, not take the lease over and spend
    the rotated-away refresh token (which would mark a healthy seller needs_reauth)."""
    authorization = connect(sandbox, any_store, any_client, 0, access=HOUR)
    sandbox.control.set_faults(
        latency_ms=1500, error_503_share=1.0, paths=[TOKEN_REFRESH_PATH], limit=1
    )
    sandbox.control.reset_stats()

    outcomes = _refresh_in_two_processes(sandbox, database_url, lease_seconds=1.0)

    assert outcomes == ["refreshed", "skipped"]
    assert refresh_calls(sandbox) == 1
    stored = any_store.tokens.get_authorization(authorization.id)
    assert stored.status == "active"
    assert stored.refresh_token != authorization.refresh_token
    assert {shop.status for shop in any_store.tokens.list_shops()} == {"active"}
    # The rotated refresh token the store kept is the one TikTok honours now.
    sandbox.control.set_faults()
    assert any_client.auth.refresh_access_token(stored.refresh_token)["data"]["access_token"]


def test_shop_option_refreshes_only_that_shops_authorization(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    other = connect(sandbox, store, client, 0, access=HOUR)
    target = connect(sandbox, store, client, 1, access=HOUR)
    sandbox.control.reset_stats()

    report = refresh_expiring(client, store, shop_id=shop_ids(sandbox, 1)[0])

    assert _outcomes(report) == {target.open_id: "refreshed"}
    assert refresh_calls(sandbox) == 1
    assert store.tokens.get_authorization(other.id).access_token == other.access_token
    with pytest.raises(UnknownShopError, match="no shop '404'"):
        refresh_expiring(client, store, shop_id="404")


def test_dry_run_calls_and_changes_nothing(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    due = connect(sandbox, store, client, 0, access=HOUR)
    later = connect(sandbox, store, client, 1, access=timedelta(days=7))
    sandbox.control.reset_stats()

    report = refresh_expiring(None, store, dry_run=True)

    assert report.ok
    assert _outcomes(report) == {due.open_id: "due", later.open_id: "skipped"}
    assert refresh_calls(sandbox) == 0
    assert store.tokens.get_authorization(due.id).access_token == due.access_token


def test_refresh_token_known_to_be_expired_needs_reauth_without_a_call(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    authorization = connect(sandbox, store, client, 0, refresh=timedelta(days=30))
    sandbox.control.reset_stats()

    report = refresh_expiring(client, store, now=utcnow() + timedelta(days=31))

    assert _outcomes(report) == {authorization.open_id: "needs_reauth"}
    assert "refresh token expired" in (report.results[0].detail or "")
    assert refresh_calls(sandbox) == 0
    assert store.tokens.get_authorization(authorization.id).status.value == "needs_reauth"


def test_threshold_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        refresh_expiring(None, store, within=timedelta(0), dry_run=True)
