"""Applying an authorization's shop list to the store (SQLite and Postgres)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tiktok_pipeline.errors import ReauthorizationRequired
from tiktok_pipeline.store import ShopStatus, Store, UnknownAuthorizationError
from tiktok_pipeline.store.schema import tiktok_authorizations, tiktok_shops
from tiktok_pipeline_tests.test_store.fakes import OPEN_ID, FakeTokenEndpoint, shop, token_data

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"
SHOP_C = "7494049642642441623"
OTHER_OPEN_ID = "7010736057180325999"


def _stored_tokens(store: Store) -> list[tuple]:
    query = sa.select(
        tiktok_authorizations.c.id,
        tiktok_authorizations.c.access_token,
        tiktok_authorizations.c.refresh_token,
        tiktok_authorizations.c.access_token_expires_at,
        tiktok_authorizations.c.updated_at,
    ).order_by(tiktok_authorizations.c.id)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _updated_at(store: Store, shop_id: str):
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(tiktok_shops.c.updated_at).where(tiktok_shops.c.id == shop_id)
        ).scalar_one()


def test_a_shop_list_adds_updates_and_departs_and_says_so(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(), [shop(SHOP_A, "Alpha"), shop(SHOP_B, "Beta")]
    )
    tokens_before = _stored_tokens(store)
    untouched_since = _updated_at(store, SHOP_A)

    change = store.tokens.update_shop_list(
        authorization.id,
        [shop(SHOP_A, "Alpha"), shop(SHOP_C, "Gamma"), shop(SHOP_B, "Beta Renamed", "GCP_new")],
    )

    assert (change.added, change.returned, change.departed) == ((SHOP_C,), (), ())
    assert change.updated == (SHOP_B,) and change.unchanged == (SHOP_A,)
    assert change.changed and change.listed == (SHOP_A, SHOP_B, SHOP_C)
    gamma = store.tokens.get_shop(SHOP_C)
    assert gamma.status is ShopStatus.ACTIVE and gamma.authorization_id == authorization.id
    beta = store.tokens.get_shop(SHOP_B)
    assert (beta.name, beta.cipher) == ("Beta Renamed", "GCP_new")
    assert _updated_at(store, SHOP_A) == untouched_since  # an unchanged row is not rewritten
    assert _stored_tokens(store) == tokens_before  # never the tokens, nor the authorization

    change = store.tokens.update_shop_list(OPEN_ID, [shop(SHOP_A, "Alpha")])

    assert change.departed == (SHOP_B, SHOP_C) and change.unchanged == (SHOP_A,)
    for departed in (SHOP_B, SHOP_C):
        gone = store.tokens.get_shop(departed)
        assert gone.status is ShopStatus.DEPARTED and gone.deauthorized_at is not None
        assert gone.status_reason is not None
        assert "no longer in the shop list of its authorization" in gone.status_reason
        assert OPEN_ID in gone.status_reason
        assert gone.authorization_id == authorization.id
    assert store.tokens.get_authorization(authorization.id).status is ShopStatus.ACTIVE
    # Applying the same list again changes nothing.
    assert not store.tokens.update_shop_list(authorization.id, [shop(SHOP_A, "Alpha")]).changed


def test_a_shop_that_comes_back_is_active_again(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])
    store.tokens.update_shop_list(authorization.id, [shop(SHOP_A)])

    change = store.tokens.update_shop_list(authorization.id, [shop(SHOP_A), shop(SHOP_B)])

    assert change.returned == (SHOP_B,) and change.added == () and change.departed == ()
    back = store.tokens.get_shop(SHOP_B)
    assert back.status is ShopStatus.ACTIVE
    assert back.status_reason is None and back.deauthorized_at is None


def test_a_shop_moving_to_another_sellers_list_follows_it(store: Store) -> None:
    first, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])
    second, _ = store.tokens.save_authorization(
        token_data("TTP_access_x", "TTP_refresh_x", open_id=OTHER_OPEN_ID), [shop(SHOP_C)]
    )

    change = store.tokens.update_shop_list(second.id, [shop(SHOP_C), shop(SHOP_B)])

    assert change.returned == (SHOP_B,)
    assert store.tokens.get_shop(SHOP_B).authorization_id == second.id
    # The first seller's list no longer holds it either: it is not "departed" from there twice.
    assert store.tokens.update_shop_list(first.id, [shop(SHOP_A)]).departed == ()
    assert store.tokens.get_shop(SHOP_B).status is ShopStatus.ACTIVE


def test_the_consent_and_the_refresh_share_one_behaviour(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    store.tokens.save_authorization(token_data("TTP_access_2", "TTP_refresh_2"), [shop(SHOP_A)])

    dropped = store.tokens.get_shop(SHOP_B)
    assert dropped.status is ShopStatus.DEPARTED
    assert "no longer in the shop list of its authorization" in (dropped.status_reason or "")


def test_nothing_is_applied_to_an_inactive_or_renewed_authorization(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    store.tokens.set_authorization_status(authorization.id, "needs_reauth", "rt expired")

    change = store.tokens.update_shop_list(authorization.id, [shop(SHOP_A), shop(SHOP_B)])

    assert change.skipped is not None and "needs_reauth" in change.skipped
    assert not change.changed
    assert [s.id for s in store.tokens.list_shops()] == [SHOP_A]

    # The seller consents again after the list was read: the older list is not applied.
    seen = store.tokens.get_authorization(authorization.id).authorized_at
    store.tokens.save_authorization(token_data("TTP_access_2", "TTP_refresh_2"), [shop(SHOP_A)])
    change = store.tokens.update_shop_list(authorization.id, [shop(SHOP_B)], consented_at=seen)
    assert change.skipped is not None and "authorized again" in change.skipped
    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.ACTIVE
    renewed = store.tokens.get_authorization(authorization.id).authorized_at
    applied = store.tokens.update_shop_list(authorization.id, [shop(SHOP_B)], consented_at=renewed)
    assert applied.added == (SHOP_B,) and applied.departed == (SHOP_A,)


def test_unknown_authorizations_and_bad_lists_are_refused_before_writing(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])

    with pytest.raises(UnknownAuthorizationError, match="999"):
        store.tokens.update_shop_list(999, [shop(SHOP_A)])
    with pytest.raises(UnknownAuthorizationError, match="open_id 1234"):
        store.tokens.update_shop_list("1234", [shop(SHOP_A)])
    with pytest.raises(ValueError, match="without an id"):
        store.tokens.update_shop_list(authorization.id, [shop(SHOP_B), {"name": "no id"}])
    too_long = shop(SHOP_B) | {"region": "R" * 17}
    with pytest.raises(ValueError, match="`region` is longer than 16"):
        store.tokens.update_shop_list(authorization.id, [shop(SHOP_A), too_long])
    assert [s.id for s in store.tokens.list_shops()] == [SHOP_A]


def test_a_departed_shop_is_not_active_and_a_deauthorized_one_stays_deauthorized(
    store: Store,
) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(), [shop(SHOP_A), shop(SHOP_B), shop(SHOP_C)]
    )
    store.tokens.set_shop_status(SHOP_C, "deauthorized", "SELLER_DEAUTHORIZATION webhook")

    change = store.tokens.update_shop_list(authorization.id, [shop(SHOP_A)])

    assert change.departed == (SHOP_B,)
    assert [s.id for s in store.tokens.list_shops([ShopStatus.ACTIVE])] == [SHOP_A]
    assert [s.id for s in store.tokens.list_shops(["departed"])] == [SHOP_B]
    webhook = store.tokens.get_shop(SHOP_C)
    assert webhook.status is ShopStatus.DEAUTHORIZED
    assert webhook.status_reason == "SELLER_DEAUTHORIZATION webhook"
    with pytest.raises(ReauthorizationRequired, match=f"{SHOP_B}.* is departed"):
        store.tokens.credentials(SHOP_B, refresh=FakeTokenEndpoint("TTP_refresh_1"))

    # The seller removes the app: its shops are deauthorized, the departed one stays departed.
    store.tokens.set_authorization_status(authorization.id, "deauthorized", "app removed")
    assert {s.id: s.status for s in store.tokens.list_shops()} == {
        SHOP_A: ShopStatus.DEAUTHORIZED,
        SHOP_B: ShopStatus.DEPARTED,
        SHOP_C: ShopStatus.DEAUTHORIZED,
    }
    with pytest.raises(ValueError, match="cannot be departed"):
        store.tokens.set_authorization_status(authorization.id, "departed")

    # A new consent naming it brings the departed shop back.
    _, shops = store.tokens.save_authorization(
        token_data("TTP_access_2", "TTP_refresh_2"), [shop(SHOP_A), shop(SHOP_B)]
    )
    assert [(s.id, s.status) for s in shops] == [
        (SHOP_A, ShopStatus.ACTIVE),
        (SHOP_B, ShopStatus.ACTIVE),
    ]
    assert store.tokens.get_shop(SHOP_B).status_reason is None


def test_only_a_shop_may_be_departed_in_the_database(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])

    with store.engine.begin() as conn:
        conn.execute(sa.update(tiktok_shops).values(status="departed"))
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.update(tiktok_authorizations).values(status="departed"))
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(sa.update(tiktok_shops).values(status="gone"))

    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.DEPARTED
