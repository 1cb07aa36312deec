"""The token store: authorizations, shops, credentials and refresh (SQLite and Postgres)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.errors import (
    ReauthorizationRequired,
    RefreshTokenInvalid,
    ServerError,
    UnknownShopError,
)
from tiktok_pipeline.store import ShopStatus, Store
from tiktok_pipeline.store.schema import tiktok_authorizations
from tiktok_pipeline_tests.test_store.fakes import FakeTokenEndpoint, shop, token_data

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"


def test_one_authorization_covers_many_shops(store: Store) -> None:
    authorization, shops = store.tokens.save_authorization(
        token_data(), [shop(SHOP_A, "Alpha"), shop(SHOP_B, "Beta")]
    )

    assert [s.id for s in shops] == [SHOP_A, SHOP_B]
    assert {s.authorization_id for s in store.tokens.list_shops()} == {authorization.id}
    assert len(store.tokens.list_authorizations()) == 1
    assert authorization.open_id == "7010736057180325637"
    assert authorization.seller_name == "Maomao Shop"
    assert authorization.granted_scopes == ["seller.authorization.info", "seller.order.info"]
    assert authorization.status is ShopStatus.ACTIVE
    expires_at = authorization.access_token_expires_at
    assert expires_at is not None and expires_at > utcnow() + timedelta(days=6)
    assert expires_at.tzinfo is not None
    alpha = store.tokens.get_shop(SHOP_A)
    assert (alpha.name, alpha.region, alpha.seller_type, alpha.code) == (
        "Alpha",
        "GB",
        "LOCAL",
        "GB1621",
    )
    assert alpha.cipher == f"GCP_cipher_{SHOP_A}"


def test_tokens_are_not_in_reprs(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    credentials = store.tokens.credentials(SHOP_A, refresh=FakeTokenEndpoint())

    assert "TTP_" not in repr(authorization)
    assert "TTP_" not in repr(credentials)


def test_reauthorization_replaces_tokens_and_reactivates(store: Store) -> None:
    first, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    store.tokens.set_authorization_status(first.id, "needs_reauth", "rt has expired")
    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.NEEDS_REAUTH

    again, shops = store.tokens.save_authorization(
        token_data("TTP_access_new", "TTP_refresh_new"), [shop(SHOP_A)]
    )

    assert again.id == first.id
    assert len(store.tokens.list_authorizations()) == 1
    assert again.access_token == "TTP_access_new"
    assert again.refresh_token == "TTP_refresh_new"
    assert again.status is ShopStatus.ACTIVE and again.status_reason is None
    assert shops[0].status is ShopStatus.ACTIVE
    got = store.tokens.credentials(SHOP_A, refresh=FakeTokenEndpoint("TTP_refresh_new"))
    assert got.access_token == "TTP_access_new"


def test_shop_dropped_from_consent_is_departed(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    store.tokens.save_authorization(token_data("TTP_access_2", "TTP_refresh_2"), [shop(SHOP_A)])

    dropped = store.tokens.get_shop(SHOP_B)
    assert dropped.status is ShopStatus.DEPARTED
    assert "authorization" in (dropped.status_reason or "")
    assert dropped.deauthorized_at is not None
    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.ACTIVE
    with pytest.raises(ReauthorizationRequired, match=SHOP_B):
        store.tokens.credentials(SHOP_B, refresh=FakeTokenEndpoint("TTP_refresh_2"))
    assert [s.id for s in store.tokens.list_shops(["departed"])] == [SHOP_B]
    assert store.tokens.list_shops(["deauthorized"]) == []

    # Consenting to the shop again brings it back.
    store.tokens.save_authorization(
        token_data("TTP_access_3", "TTP_refresh_3"), [shop(SHOP_A), shop(SHOP_B)]
    )
    back = store.tokens.get_shop(SHOP_B)
    assert back.status is ShopStatus.ACTIVE and back.deauthorized_at is None


def test_a_value_too_long_for_its_column_is_refused_alike_on_both_backends(store: Store) -> None:
    """SQLite would store a 17-character region that Postgres refuses (503 in the callback):
    both refuse it up front with a ValueError naming the column, and nothing is stored."""
    odd_shop = shop(SHOP_A) | {"region": "R" * 17}

    with pytest.raises(ValueError, match="`region` is longer than 16 characters") as caught:
        store.tokens.save_authorization(token_data(), [odd_shop])

    assert "RRRR" not in str(caught.value)
    assert store.tokens.list_authorizations() == []
    assert store.tokens.list_shops() == []


def test_missing_open_id_is_a_clear_error(store: Store) -> None:
    data = token_data()
    del data["open_id"]
    with pytest.raises(ValueError, match="open_id"):
        store.tokens.save_authorization(data, [shop(SHOP_A)])
    assert store.tokens.list_shops() == []


def test_unknown_shop_lists_known_ids_and_how_to_authorize(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    with pytest.raises(UnknownShopError) as caught:
        store.tokens.get_shop("999")

    message = str(caught.value)
    assert "'999'" in message
    assert SHOP_A in message and SHOP_B in message
    assert "authorize" in message


def test_valid_token_is_returned_without_refreshing(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    endpoint = FakeTokenEndpoint()

    credentials = store.tokens.credentials(SHOP_A, refresh=endpoint)

    assert endpoint.calls == 0
    assert credentials.access_token == "TTP_access_1"
    assert credentials.cipher == f"GCP_cipher_{SHOP_A}"
    assert credentials.shop_id == SHOP_A
    assert credentials.authorization_id == authorization.id
    assert credentials.expires_at == authorization.access_token_expires_at


def test_token_near_expiry_is_refreshed_once_and_rotation_persisted(store: Store) -> None:
    store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=10)), [shop(SHOP_A), shop(SHOP_B)]
    )
    endpoint = FakeTokenEndpoint()

    first = store.tokens.credentials(SHOP_A, refresh=endpoint)
    second = store.tokens.credentials(SHOP_A, refresh=endpoint)
    # The other shop of the same authorization sees the new token: it is stored once.
    other = store.tokens.credentials(SHOP_B, refresh=endpoint)

    assert endpoint.calls == 1
    assert first.access_token == second.access_token == other.access_token == "TTP_access_2"
    assert first.expires_at is not None and first.expires_at > utcnow() + timedelta(days=6)
    authorization = store.tokens.get_authorization(first.authorization_id)
    assert authorization.refresh_token == "TTP_refresh_2"
    assert authorization.last_refreshed_at is not None

    # The endpoint now only accepts the rotated refresh token: a forced refresh must send it.
    refreshed = store.tokens.refresh(first.authorization_id, refresh=endpoint, force=True)
    assert endpoint.calls == 2
    assert refreshed.access_token == "TTP_access_3"
    assert refreshed.refresh_token == "TTP_refresh_3"


def test_dead_refresh_token_marks_authorization_and_shops_needs_reauth(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A), shop(SHOP_B)]
    )
    endpoint = FakeTokenEndpoint()
    endpoint.dead = True

    with pytest.raises(RefreshTokenInvalid):
        store.tokens.credentials(SHOP_A, refresh=endpoint)

    stored = store.tokens.get_authorization(authorization.id)
    assert stored.status is ShopStatus.NEEDS_REAUTH
    assert "36004001" in (stored.status_reason or "")
    assert "TTP_" not in (stored.status_reason or "")
    assert {s.status for s in store.tokens.list_shops()} == {ShopStatus.NEEDS_REAUTH}
    for shop_id in (SHOP_A, SHOP_B):
        with pytest.raises(ReauthorizationRequired) as caught:
            store.tokens.credentials(shop_id, refresh=endpoint)
        assert shop_id in str(caught.value)
        assert "authorize" in str(caught.value)
        assert "TTP_" not in str(caught.value)
    assert endpoint.calls == 1


def test_a_refresh_token_rotated_by_someone_else_meanwhile_never_demotes_the_seller(
    store: Store,
) -> None:
    """Our refresh lost the race (our lease ran out and another process refreshed first): TikTok
    rejects the refresh token we sent, but the store holds the newer one, so the seller stays
    active and the stored tokens are returned."""
    authorization, _ = store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)]
    )
    endpoint = FakeTokenEndpoint()

    def refresh_overtaken(refresh_token: str) -> dict:
        # The other process's refresh lands in the store while ours is in flight.
        other = endpoint(refresh_token)
        encrypt = store.tokens.cipher.encrypt
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(tiktok_authorizations).values(
                    access_token=encrypt(other["access_token"]),
                    refresh_token=encrypt(other["refresh_token"]),
                )
            )
        return endpoint(refresh_token)  # ours, with the refresh token now rotated away

    credentials = store.tokens.credentials(SHOP_A, refresh=refresh_overtaken)

    assert credentials.access_token == "TTP_access_2"
    stored = store.tokens.get_authorization(authorization.id)
    assert stored.status is ShopStatus.ACTIVE
    assert stored.refresh_token == "TTP_refresh_2" == endpoint.valid_refresh_token
    assert {s.status for s in store.tokens.list_shops()} == {ShopStatus.ACTIVE}


def test_other_refresh_errors_propagate_and_release_the_lease(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)]
    )
    endpoint = FakeTokenEndpoint()
    endpoint.error = ServerError("internal error", code=36009003)

    with pytest.raises(ServerError):
        store.tokens.credentials(SHOP_A, refresh=endpoint)

    assert store.tokens.get_authorization(authorization.id).status is ShopStatus.ACTIVE
    with store.engine.connect() as conn:
        owner = conn.execute(sa.select(tiktok_authorizations.c.refresh_lease_owner)).scalar_one()
    assert owner is None
    endpoint.error = None
    assert store.tokens.credentials(SHOP_A, refresh=endpoint).access_token == "TTP_access_3"


def test_lease_of_a_crashed_refresher_expires(store: Store) -> None:
    store.tokens.save_authorization(token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)])
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(tiktok_authorizations).values(
                refresh_lease_owner="ghost:1:1",
                refresh_lease_expires_at=utcnow() - timedelta(seconds=1),
            )
        )
    endpoint = FakeTokenEndpoint()

    credentials = store.tokens.credentials(SHOP_A, refresh=endpoint)

    assert endpoint.calls == 1
    assert credentials.access_token == "TTP_access_2"


def test_stale_access_token_skips_when_someone_already_refreshed(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    endpoint = FakeTokenEndpoint()

    # TikTok rejected a token that is no longer the stored one: nothing to do.
    unchanged = store.tokens.refresh(
        authorization.id, refresh=endpoint, stale_access_token="TTP_access_0", force=True
    )
    assert endpoint.calls == 0
    assert unchanged.access_token == "TTP_access_1"

    # TikTok rejected the stored token (still far from its recorded expiry): refresh now.
    refreshed = store.tokens.refresh(
        authorization.id, refresh=endpoint, stale_access_token="TTP_access_1"
    )
    assert endpoint.calls == 1
    assert refreshed.access_token == "TTP_access_2"


def test_refresh_skips_a_token_far_from_expiry_unless_forced(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    endpoint = FakeTokenEndpoint()

    assert store.tokens.refresh(authorization.id, refresh=endpoint).access_token == "TTP_access_1"
    assert endpoint.calls == 0
    assert store.tokens.refresh(authorization.id, refresh=endpoint, margin=timedelta(days=8))
    assert endpoint.calls == 1


def test_shop_without_authorization_needs_reauthorization(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    with store.engine.begin() as conn:
        conn.execute(sa.delete(tiktok_authorizations))  # ON DELETE SET NULL on the shop

    assert store.tokens.get_shop(SHOP_A).authorization_id is None
    with pytest.raises(ReauthorizationRequired, match=SHOP_A):
        store.tokens.credentials(SHOP_A, refresh=FakeTokenEndpoint())


def test_status_changes(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    store.tokens.set_shop_status(SHOP_B, "deauthorized", "SELLER_DEAUTHORIZATION webhook")
    assert store.tokens.get_shop(SHOP_B).deauthorized_at is not None
    with pytest.raises(ReauthorizationRequired, match="SELLER_DEAUTHORIZATION"):
        store.tokens.credentials(SHOP_B, refresh=FakeTokenEndpoint())

    store.tokens.set_authorization_status(authorization.id, "needs_reauth", "expired")
    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.NEEDS_REAUTH
    store.tokens.set_authorization_status(authorization.id, "active")
    assert store.tokens.get_shop(SHOP_A).status is ShopStatus.ACTIVE
    # Going active again does not bring back a shop the seller removed.
    assert store.tokens.get_shop(SHOP_B).status is ShopStatus.DEAUTHORIZED

    with pytest.raises(ValueError, match="needs_reauth"):
        store.tokens.set_shop_status(SHOP_A, "paused")
    with pytest.raises(UnknownShopError):
        store.tokens.set_shop_status("999", "active")


def test_a_failed_statement_does_not_show_its_parameters(store: Store) -> None:
    """A database error that reaches a log or a traceback never carries a token."""
    secret = "ROW_access_token_that_must_not_leak"
    with pytest.raises(sa.exc.DBAPIError) as failure, store.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO tiktok_authorizations (access_token) VALUES (:token)"),
            {"token": secret},
        )
    assert secret not in str(failure.value)
    assert "hidden" in str(failure.value)
