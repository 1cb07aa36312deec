"""Flushing: only authorizations whose refresh token expired go; old rows go in batches."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle import RefreshOutcome, flush, refresh_expiring, token_status
from tiktok_pipeline.sandbox import RunningSandbox
from tiktok_pipeline.store import RequestLogEntry, Store
from tiktok_pipeline.store.schema import tiktok_requests, tiktok_webhooks
from tiktok_pipeline_tests.test_lifecycle.sandbox_helpers import connect, shop_ids

HOUR = timedelta(hours=1)


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _three_sellers(sandbox: RunningSandbox, store: Store, client: TikTokShopClient):
    # In three hours: seller 0's access token has expired but its refresh token has not,
    # seller 1's refresh token has expired, seller 2 is fine.
    refreshable = connect(sandbox, store, client, 0, access=HOUR)
    dead = connect(sandbox, store, client, 1, access=HOUR, refresh=2 * HOUR)
    healthy = connect(sandbox, store, client, 2)
    return refreshable, dead, healthy


def test_flush_keeps_refreshable_authorizations_and_removes_the_rest(
    sandbox: RunningSandbox, any_store: Store, any_client: TikTokShopClient
) -> None:
    refreshable, dead, healthy = _three_sellers(sandbox, any_store, any_client)

    report = flush(any_store, now=utcnow() + 3 * HOUR)

    assert [a.authorization_id for a in report.authorizations] == [dead.id]
    assert report.kept_refreshable == 1
    assert report.shops_unlinked == shop_ids(sandbox, 1)
    remaining = {a.id for a in any_store.tokens.list_authorizations()}
    assert remaining == {refreshable.id, healthy.id}
    orphan = any_store.tokens.get_shop(shop_ids(sandbox, 1)[0])
    assert orphan.status.value == "needs_reauth" and orphan.authorization_id is None
    assert "refresh token expired" in (orphan.status_reason or "")
    # The shop stays visible as a problem until the seller authorizes again.
    (status,) = token_status(any_store, shop_id=orphan.id)
    assert not status.ok
    # The kept one really is refreshable: TikTok (the sandbox) accepts its refresh token.
    kept = refresh_expiring(any_client, any_store, shop_id=shop_ids(sandbox, 0)[0])
    assert [r.outcome for r in kept.results] == [RefreshOutcome.REFRESHED]

    connect(sandbox, any_store, any_client, 1)

    back = any_store.tokens.get_shop(orphan.id)
    assert back.status.value == "active" and back.authorization_id is not None


def test_flush_dry_run_lists_but_removes_nothing(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    refreshable, dead, healthy = _three_sellers(sandbox, store, client)

    report = flush(store, now=utcnow() + 3 * HOUR, dry_run=True)

    assert report.dry_run
    assert [a.authorization_id for a in report.authorizations] == [dead.id]
    assert report.shops_unlinked == shop_ids(sandbox, 1)
    assert len(store.tokens.list_authorizations()) == 3
    assert store.tokens.get_shop(shop_ids(sandbox, 1)[0]).status.value == "active"
    assert "would remove 1 authorization" in report.summary()
    secrets = [a.access_token for a in (refreshable, dead, healthy)]
    assert not [s for s in secrets if s in json.dumps(report.to_dict())]


def test_an_authorization_renewed_during_the_flush_is_not_removed(
    sandbox: RunningSandbox, store: Store, client: TikTokShopClient
) -> None:
    dead = connect(sandbox, store, client, 1, access=HOUR, refresh=2 * HOUR)
    later = utcnow() + 3 * HOUR
    listed = store.tokens.expired_authorizations(later)
    connect(sandbox, store, client, 1)  # the seller authorizes again before the delete runs

    deleted = store.tokens.delete_expired_authorizations([a.id for a in listed], now=later)

    assert [a.id for a in listed] == [dead.id]
    assert deleted == {}
    assert store.tokens.get_authorization(dead.id).status.value == "active"
    assert store.tokens.get_shop(shop_ids(sandbox, 1)[0]).authorization_id == dead.id


def test_old_request_log_rows_go_in_batches_and_recent_ones_stay(any_store: Store) -> None:
    now = utcnow()
    for days_ago in (40, 39, 35, 32, 31, 29, 1):
        any_store.request_log.record(
            RequestLogEntry(
                action="order.list",
                method="POST",
                path="/order/202309/orders/search",
                created_at=now - timedelta(days=days_ago),
            )
        )
    any_store.request_log.flush()

    dry = flush(any_store, now=now, batch_size=2, dry_run=True)
    assert dry.request_log_rows == 5 and _count(any_store, tiktok_requests) == 7
    report = flush(any_store, now=now, batch_size=2)

    assert report.request_log_rows == 5
    with any_store.engine.connect() as conn:
        left = conn.execute(sa.select(tiktok_requests.c.created_at)).scalars().all()
    assert sorted(round((now - c).total_seconds() / 86400) for c in left) == [1, 29]


def test_processed_webhook_rows_go_after_their_retention(any_store: Store) -> None:
    ids = {}
    for n, status in enumerate(["processed", "processed", "ignored", "failed", "pending"]):
        payload = {"type": 1, "tts_notification_id": f"n{n}", "shop_id": "1", "data": {}}
        row_id, _ = any_store.webhooks.add(
            raw_body=json.dumps(payload).encode(), payload=payload, route="all"
        )
        if status != "pending":
            any_store.webhooks.mark([row_id], status)
        ids[status] = row_id

    assert flush(any_store).webhook_rows == 0  # all finished just now
    later = utcnow() + timedelta(days=91)
    assert flush(any_store, now=later, webhook_retention=timedelta(days=120)).webhook_rows == 0
    report = flush(any_store, now=later, batch_size=2)

    assert report.webhook_rows == 3
    with any_store.engine.connect() as conn:
        left = conn.execute(sa.select(tiktok_webhooks.c.status)).scalars().all()
    assert sorted(left) == ["failed", "pending"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"request_log_retention": timedelta(0)}, "request_log_retention must be a positive"),
        ({"webhook_retention": timedelta(days=-1)}, "webhook_retention must be a positive"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
    ],
)
def test_bad_options_say_what_to_change(store: Store, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        flush(store, **options)
