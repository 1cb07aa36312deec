"""Refreshing authorizations' shop lists against the sandbox over HTTP (SQLite and Postgres).

A seller adds a shop to, or removes one from, the app's existing authorization at TikTok (the
sandbox's control routes); no new consent happens. The refresh must make the token store match.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from tiktok_pipeline.client import ReauthorizationRequired, TikTokShopClient
from tiktok_pipeline.lifecycle.shop_lists import ShopListOutcome, refresh_shop_lists
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import ShopStatus, Store, UnknownAuthorizationError
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import (
    connect,
    refresh_calls,
    shop_ids,
)


def _statuses(store: Store) -> dict[str, str]:
    return {shop.id: shop.status.value for shop in store.tokens.list_shops()}


def test_a_shop_added_at_tiktok_is_active_after_the_refresh_with_its_details(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    seller = connect(sandbox, any_store, any_client, 0)
    connect(sandbox, any_store, any_client, 1)
    before = any_store.tokens.get_authorization(seller.id)
    known = shop_ids(sandbox, 0)
    new = sandbox.control.add_shop(seller.open_id, region="GB")["shop"]

    report = refresh_shop_lists(any_client, any_store)

    assert report.ok
    assert report.added == [new["id"]]
    assert report.departed == [] and report.returned == [] and report.updated == []
    by_seller = {r.open_id: r for r in report.results}
    assert by_seller[seller.open_id].outcome is ShopListOutcome.APPLIED
    assert by_seller[seller.open_id].change.unchanged == tuple(known)
    shop = any_store.tokens.get_shop(new["id"])
    assert shop.status is ShopStatus.ACTIVE and shop.authorization_id == seller.id
    assert (shop.name, shop.code, shop.region, shop.seller_type, shop.cipher) == (
        new["name"],
        new["code"],
        new["region"],
        new["seller_type"],
        new["cipher"],
    )
    # The new shop's data is reachable through the store at once, with the seller's token.
    orders = any_client.shop(new["id"]).order.list(query={"page_size": 5}, body={})
    total = orders["data"]["total_count"]
    assert total > 0 and total == sandbox.control.counts(shop_id=new["id"])["orders"]
    # Tokens are not touched, and nothing else changed.
    after = any_store.tokens.get_authorization(seller.id)
    assert (after.access_token, after.refresh_token) == (before.access_token, before.refresh_token)
    assert after.authorized_at == before.authorized_at
    again = refresh_shop_lists(any_client, any_store)
    assert again.ok and not any(r.change.changed for r in again.results)
    assert "no change" in again.summary()


def test_a_removed_shop_is_departed_with_the_reason_and_comes_back_active(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    seller = connect(sandbox, any_store, any_client, 0)
    leaving, staying = shop_ids(sandbox, 0)

    sandbox.control.remove_shop(seller.open_id, leaving)
    report = refresh_shop_lists(any_client, any_store)

    assert report.ok and report.departed == [leaving] and report.added == []
    gone = any_store.tokens.get_shop(leaving)
    assert gone.status is ShopStatus.DEPARTED and gone.deauthorized_at is not None
    assert "no longer in the shop list of its authorization" in (gone.status_reason or "")
    assert seller.open_id in (gone.status_reason or "")
    assert any_store.tokens.get_shop(staying).status is ShopStatus.ACTIVE
    assert any_store.tokens.get_authorization(seller.id).status is ShopStatus.ACTIVE
    # Its syncs stop with a clear error instead of TikTok's rejection.
    with pytest.raises(ReauthorizationRequired, match="no longer in the shop list"):
        any_client.shop(leaving).order.list(query={"page_size": 5}, body={})

    sandbox.control.add_shop(seller.open_id, shop_id=leaving)
    report = refresh_shop_lists(any_client, any_store)

    assert report.ok and report.returned == [leaving] and report.added == []
    back = any_store.tokens.get_shop(leaving)
    assert back.status is ShopStatus.ACTIVE
    assert back.status_reason is None and back.deauthorized_at is None
    assert any_client.shop(leaving).order.list(query={"page_size": 5}, body={})["code"] == 0


def test_a_failing_authorization_is_reported_and_the_others_continue(
    sandbox: RunningSandbox,
    any_store: Store,
    any_client: TikTokShopClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = connect(sandbox, any_store, any_client, 0)
    alive = connect(sandbox, any_store, any_client, 1)
    expired = connect(sandbox, any_store, any_client, 2)
    # The seller removed the app: both tokens are revoked (TikTok answers 105001).
    sandbox.control.deauthorize(dead.open_id)
    # This one's access token expired at TikTok before the store expected (105002).
    sandbox.control.expire_tokens(open_id=expired.open_id, which="access")
    new = sandbox.control.add_shop(alive.open_id)["shop"]
    sandbox.control.reset_stats()

    report = refresh_shop_lists(any_client, any_store)

    assert not report.ok and not report.retryable
    outcomes = {r.open_id: r.outcome for r in report.results}
    assert outcomes == {
        dead.open_id: ShopListOutcome.NEEDS_REAUTH,
        alive.open_id: ShopListOutcome.APPLIED,
        expired.open_id: ShopListOutcome.APPLIED,
    }
    assert report.added == [new["id"]]
    assert [r.open_id for r in report.problems] == [dead.open_id]
    # The dead seller follows the client's usual path: marked needs_reauth, shops kept.
    assert any_store.tokens.get_authorization(dead.id).status is ShopStatus.NEEDS_REAUTH
    for shop_id in shop_ids(sandbox, 0):
        assert any_store.tokens.get_shop(shop_id).status is ShopStatus.NEEDS_REAUTH
    # The expired access token was refreshed once and the list read with the new one.
    assert refresh_calls(sandbox) == 2  # the dead seller's attempt and the expired one's
    renewed = any_store.tokens.get_authorization(expired.id)
    assert renewed.access_token != expired.access_token
    # No secret in the report, its summary or the logs.
    secrets = [
        dead.access_token,
        dead.refresh_token,
        alive.access_token,
        alive.refresh_token,
        expired.access_token,
        expired.refresh_token,
        renewed.access_token,
        renewed.refresh_token,
        sandbox.config.app_secret,
    ]
    text = json.dumps(report.to_dict()) + report.summary() + caplog.text
    assert [s for s in secrets if s in text] == []
    # A second run leaves the marked seller out without calling TikTok for it.
    again = refresh_shop_lists(any_client, any_store)
    assert again.ok and {r.open_id for r in again.results} == {alive.open_id, expired.open_id}


def test_one_seller_by_open_id_and_unknown_or_inactive_ones(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    first = connect(sandbox, any_store, any_client, 0)
    second = connect(sandbox, any_store, any_client, 1)
    added_first = sandbox.control.add_shop(first.open_id)["shop"]
    added_second = sandbox.control.add_shop(second.open_id)["shop"]

    report = refresh_shop_lists(any_client, any_store, open_id=second.open_id)

    assert [r.open_id for r in report.results] == [second.open_id]
    assert report.added == [added_second["id"]]
    assert _statuses(any_store).get(added_first["id"]) is None
    with pytest.raises(UnknownAuthorizationError, match="7010000000000000000"):
        refresh_shop_lists(any_client, any_store, open_id="7010000000000000000")
    any_store.tokens.set_authorization_status(first.id, "needs_reauth", "refresh token expired")
    sandbox.control.reset_stats()
    marked = refresh_shop_lists(any_client, any_store, open_id=first.open_id)
    assert marked.results[0].outcome is ShopListOutcome.NEEDS_REAUTH
    assert "refresh token expired" in (marked.results[0].detail or "")
    assert sandbox.control.stats()["total_requests"] == 0


def test_a_token_due_for_refresh_is_refreshed_first_through_the_store(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    due = connect(sandbox, any_store, any_client, 0, access=timedelta(minutes=10))
    sandbox.control.reset_stats()

    report = refresh_shop_lists(any_client, any_store)

    assert report.ok and refresh_calls(sandbox) == 1
    refreshed = any_store.tokens.get_authorization(due.id)
    assert refreshed.access_token != due.access_token
    assert refreshed.access_token_expires_at > due.access_token_expires_at
