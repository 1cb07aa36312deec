"""Per-shop token health: what `tokens status` shows and the alert checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tiktok_pipeline.client import UnknownShopError
from tiktok_pipeline.db import utcnow
from tiktok_pipeline.lifecycle import token_status
from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_store.fakes import shop, token_data

SHOP_A = "7494049642642441621"
SHOP_B = "7494049642642441622"
SHOP_C = "7494049642642441623"


def _by_shop(store: Store, **options) -> dict:
    return {row.shop_id: row for row in token_status(store, **options)}


def test_healthy_shops_have_no_problems_and_show_no_tokens(store: Store) -> None:
    store.tokens.save_authorization(
        token_data("TTP_access_x", "TTP_refresh_x", access_in=timedelta(hours=1)), [shop(SHOP_A)]
    )

    (row,) = token_status(store)

    assert row.ok and row.problems == ()
    assert row.status == "active" and row.authorization_expiry_warning is None
    assert row.access_token_expires_at is not None  # an expiring access token is no problem
    assert "TTP_" not in str(row.to_dict())


def test_reauth_deauthorized_and_expiring_refresh_tokens_are_problems(store: Store) -> None:
    store.tokens.save_authorization(
        token_data(open_id="seller-1", refresh_in=timedelta(days=10)), [shop(SHOP_A)]
    )
    store.tokens.save_authorization(
        token_data(open_id="seller-2", refresh_in=timedelta(days=60)),
        [shop(SHOP_B), shop(SHOP_C)],
    )
    store.tokens.set_shop_status(SHOP_B, "needs_reauth", "rt has expired")
    store.tokens.set_shop_status(SHOP_C, "deauthorized", "seller removed the app")

    rows = _by_shop(store)

    assert "refresh token expires at" in rows[SHOP_A].problems[0]
    assert "in 9d23h" in rows[SHOP_A].problems[0]
    assert rows[SHOP_B].problems == ("needs re-authorization: rt has expired",)
    assert rows[SHOP_C].problems == ("deauthorized: seller removed the app",)
    assert _by_shop(store, warn_within=timedelta(days=7))[SHOP_A].ok


def test_tiktoks_authorization_expiry_warning_is_recorded_and_cleared(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    store.tokens.record_authorization_expiry(SHOP_A, utcnow() + timedelta(days=20))
    far = _by_shop(store)
    store.tokens.record_authorization_expiry(SHOP_A, utcnow() + timedelta(days=5))
    near = _by_shop(store)
    store.tokens.save_authorization(token_data("TTP_access_2", "TTP_refresh_2"), [shop(SHOP_A)])
    renewed = _by_shop(store)

    # Recorded once per seller: both of the seller's shops show it.
    assert far[SHOP_B].authorization_expiry_warning is not None
    assert far[SHOP_A].ok and "authorization expires at" in far[SHOP_A].authorization_expiry_warning
    assert not near[SHOP_A].ok and not near[SHOP_B].ok
    assert "announced by TikTok" in near[SHOP_A].problems[0]
    assert renewed[SHOP_A].ok and renewed[SHOP_A].authorization_expires_at is None


def test_recording_an_expiry_checks_its_input(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])

    with pytest.raises(UnknownShopError, match="no shop '404'"):
        store.tokens.record_authorization_expiry("404", utcnow())
    with pytest.raises(ValueError, match="aware UTC datetime"):
        store.tokens.record_authorization_expiry(SHOP_A, datetime(2030, 1, 1))
    store.tokens.record_authorization_expiry(SHOP_A, datetime(2030, 1, 1, tzinfo=UTC))
    assert token_status(store)[0].authorization_expires_at == datetime(2030, 1, 1, tzinfo=UTC)


def test_shop_filter(store: Store) -> None:
    store.tokens.save_authorization(token_data(), [shop(SHOP_A), shop(SHOP_B)])

    assert [row.shop_id for row in token_status(store, shop_id=SHOP_B)] == [SHOP_B]
    with pytest.raises(UnknownShopError):
        token_status(store, shop_id="404")


def test_a_departed_shop_is_listed_without_a_problem(any_store: Store) -> None:
    authorization, _ = any_store.tokens.save_authorization(
        token_data(refresh_in=timedelta(days=60)), [shop(SHOP_A), shop(SHOP_B), shop(SHOP_C)]
    )
    any_store.tokens.update_shop_list(authorization.id, [shop(SHOP_A), shop(SHOP_C)])
    any_store.tokens.set_shop_status(SHOP_C, "deauthorized", "SELLER_DEAUTHORIZATION webhook")
    # Even a departed shop's seller needing re-authorization is not the departed shop's problem.
    any_store.tokens.set_authorization_status(authorization.id, "needs_reauth", "rt expired")

    rows = _by_shop(any_store)

    assert rows[SHOP_B].status == "departed" and rows[SHOP_B].departed
    assert rows[SHOP_B].ok and rows[SHOP_B].problems == ()
    assert "no longer in the shop list" in (rows[SHOP_B].status_reason or "")
    assert rows[SHOP_B].to_dict()["ok"] is True
    assert rows[SHOP_A].problems == ("needs re-authorization: rt expired",)
    assert rows[SHOP_C].problems == ("deauthorized: SELLER_DEAUTHORIZATION webhook",)
    assert not rows[SHOP_A].departed and not rows[SHOP_C].departed
