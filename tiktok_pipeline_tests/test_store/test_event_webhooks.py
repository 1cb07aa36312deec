"""The registry of per-shop webhook addresses is scoped to its shop."""

from __future__ import annotations

import pytest

from tiktok_pipeline.errors import UnknownShopError
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_store.fakes import shop, token_data

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"
HOOK = "https://example.com/tiktok/webhooks/all"


@pytest.fixture
def shops(store: Store) -> Store:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])
    return store


def test_record_upserts_per_shop_and_event(shops: Store) -> None:
    registry = shops.event_webhooks
    registry.record(SHOP_A, "ORDER_STATUS_CHANGE", HOOK)
    registry.record(SHOP_A, "ORDER_STATUS_CHANGE", HOOK + "?v=2")
    registry.record(SHOP_B, "ORDER_STATUS_CHANGE", HOOK)

    hooks = registry.list(SHOP_A)
    assert [(h.shop_id, h.event_type, h.address) for h in hooks] == [
        (SHOP_A, "ORDER_STATUS_CHANGE", HOOK + "?v=2")
    ]
    assert hooks[0].updated_at >= hooks[0].created_at
    assert len(registry.list()) == 2


def test_remove_deletes_only_that_shops_row(shops: Store) -> None:
    registry = shops.event_webhooks
    registry.record(SHOP_A, "ORDER_STATUS_CHANGE", HOOK)
    registry.record(SHOP_B, "ORDER_STATUS_CHANGE", HOOK)
    registry.record(SHOP_B, "PACKAGE_UPDATE", HOOK)

    registry.remove(SHOP_B, "ORDER_STATUS_CHANGE")

    assert [(h.shop_id, h.event_type) for h in registry.list()] == [
        (SHOP_A, "ORDER_STATUS_CHANGE"),
        (SHOP_B, "PACKAGE_UPDATE"),
    ]
    registry.remove(SHOP_B, "ORDER_STATUS_CHANGE")  # nothing left to remove: no error


def test_unknown_shop_cannot_get_a_webhook(shops: Store) -> None:
    with pytest.raises(UnknownShopError, match="999"):
        shops.event_webhooks.record("999", "ORDER_STATUS_CHANGE", HOOK)
