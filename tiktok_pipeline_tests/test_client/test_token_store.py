"""Shop views backed by the token store: proactive and reactive refresh, one refresh across
processes, re-authorization, and no secret in the request log or the logs.

The store is built outside the client and handed to it as its credentials provider and request
log, as the CLI, the web service and the Dagster resources do."""

from __future__ import annotations

import json
import logging
import multiprocessing
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tiktok_pipeline.client import (
    ReauthorizationRequired,
    RefreshTokenInvalid,
    TikTokConfigurationError,
    TikTokShopClient,
    UnknownShopError,
)
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Authorization, Store
from tiktok_pipeline.store.schema import tiktok_authorizations, tiktok_shops
from tiktok_pipeline_tests.test_client.conftest import FAST_RETRIES


@pytest.fixture(scope="module")
def sandbox():
    """One seller with two shops; access tokens live one hour."""
    config = SandboxConfig(
        seed=5, shops=2, orders_per_shop=50, products_per_shop=5, days=5, access_token_ttl=3600
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture
def environment(sandbox, database_url, monkeypatch):
    """The variables the client and the store read, pointing at the sandbox and the test DB."""
    env = {
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
        "TIKTOK_DATABASE_URL": database_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    Store.from_url(database_url, upgrade=True)
    return env


@pytest.fixture
def store(environment):
    """The token store of TIKTOK_DATABASE_URL, as a composing caller opens it."""
    with Store.from_url() as opened:
        yield opened


def _client(store: Store, **options) -> TikTokShopClient:
    """A client of the environment's app whose shops' tokens and request log are ``store``'s."""
    return TikTokShopClient.from_env(
        credentials=store.tokens, request_log=store.request_log, **options
    )


def _authorize(client: TikTokShopClient, store: Store, sandbox) -> Authorization:
    """What the seller callback does: exchange a code and store the tokens and shops."""
    authorization, _ = connect_seller(client, store, sandbox.authorize())
    return authorization


def _refresh_calls(sandbox) -> int:
    return sandbox.control.stats()["token_refresh_calls"]


def test_a_stored_shop_needs_only_its_id(store, sandbox):
    with _client(store, retry=FAST_RETRIES) as client:
        _authorize(client, store, sandbox)
        api = client.shop(sandbox.shops[1].id)
        assert api.cipher == sandbox.shops[1].cipher
        assert api.order.list(query={"page_size": 1})["code"] == 0


def test_a_stored_shop_is_found_by_its_code_or_its_name(store, sandbox):
    with _client(store) as client:
        _authorize(client, store, sandbox)
        shop = store.tokens.get_shop(sandbox.shops[1].id)
        by_code = client.shop(code=shop.code)
        by_name = client.shop(name=shop.name.upper())  # names match whatever their case

        assert by_code.shop_id == by_name.shop_id == shop.id
        assert by_code.order.list(query={"page_size": 1})["code"] == 0


def test_an_unknown_or_ambiguous_code_or_name_says_which_shops_there_are(store, sandbox):
    with _client(store) as client:
        _authorize(client, store, sandbox)
        with pytest.raises(UnknownShopError) as unknown:
            client.shop(code="NOSUCHCODE")
        for shop in sandbox.shops:
            assert shop.id in str(unknown.value)
        assert "/tiktok/seller/authorize" in str(unknown.value)
        with store.engine.begin() as conn:
            conn.execute(sa.update(tiktok_shops).values(name="Twin Shop"))
        with pytest.raises(UnknownShopError, match="several shops") as ambiguous:
            client.shop(name="twin shop")
        assert all(shop.id in str(ambiguous.value) for shop in sandbox.shops)
        with pytest.raises(TikTokConfigurationError, match="one of a shop id"):
            client.shop(sandbox.shops[0].id, code="X")


def test_the_default_shop_comes_from_the_environment(store, sandbox, monkeypatch):
    monkeypatch.setenv("TIKTOK_SHOP_ID", sandbox.shops[0].id)
    with _client(store, retry=FAST_RETRIES) as client:
        _authorize(client, store, sandbox)
        assert client.shop().shop_id == sandbox.shops[0].id


def test_an_unknown_shop_names_the_known_ones_and_the_fix(store, sandbox):
    with _client(store) as client:
        _authorize(client, store, sandbox)
        with pytest.raises(UnknownShopError) as caught:
            client.shop("7000000000000000000")
    message = str(caught.value)
    assert sandbox.shops[0].id in message and "authorize" in message


def test_missing_credentials_name_the_variable(environment, monkeypatch):
    monkeypatch.delenv("TIKTOK_APP_SECRET")
    with pytest.raises(TikTokConfigurationError, match="TIKTOK_APP_SECRET"):
        TikTokShopClient.from_env()


def test_a_client_without_the_token_store_says_how_to_give_it(store, sandbox):
    with _client(store) as connected:
        authorization = _authorize(connected, store, sandbox)
    with TikTokShopClient.from_env() as client, pytest.raises(TikTokConfigurationError) as caught:
        client.shop(sandbox.shops[0].id)
    assert "credentials=Store.from_url().tokens" in str(caught.value)
    assert "access_token=" in str(caught.value)
    # Explicit credentials need no store.
    with TikTokShopClient.from_env() as client:
        api = client.shop(
            sandbox.shops[0].id,
            access_token=authorization.access_token,
            cipher=sandbox.shops[0].cipher,
        )
        assert api.order.list(query={"page_size": 1})["code"] == 0


def test_a_token_near_expiry_is_refreshed_once_before_the_call(store, sandbox):
    # Authorized tokens live an hour: with a two-hour margin they are "near expiry".
    with _client(store, refresh_margin=timedelta(hours=2)) as client:
        first = _authorize(client, store, sandbox)
        sandbox.control.config(access_token_ttl=7 * 86400)
        before = _refresh_calls(sandbox)
        api = client.shop(sandbox.shops[0].id)
        api.order.list(query={"page_size": 1})
        stored = store.tokens.get_authorization(
            store.tokens.get_shop(sandbox.shops[0].id).authorization_id
        )
        assert _refresh_calls(sandbox) == before + 1
        assert stored.access_token != first.access_token
        assert stored.refresh_token != first.refresh_token  # the rotated one was persisted
        # The other shop of the same authorization uses the refreshed token: no second refresh.
        client.shop(sandbox.shops[1].id).order.list(query={"page_size": 1})
        assert _refresh_calls(sandbox) == before + 1
    sandbox.control.config(access_token_ttl=3600)


def test_a_token_far_from_expiry_is_not_refreshed(store, sandbox):
    with _client(store, refresh_margin=timedelta(minutes=30)) as client:
        _authorize(client, store, sandbox)
        before = _refresh_calls(sandbox)
        client.shop(sandbox.shops[0].id).order.list(query={"page_size": 1})
        assert _refresh_calls(sandbox) == before


def test_an_expired_token_is_refreshed_and_the_call_retried_once(store, sandbox, caplog):
    with _client(store, retry=FAST_RETRIES) as client:
        _authorize(client, store, sandbox)
        api = client.shop(sandbox.shops[0].id)
        api.seller.shops()
        before = _refresh_calls(sandbox)
        sandbox.control.expire_tokens(which="access")
        records, failures = [], []
        client.on_request(records.append)
        client.on_request_failed(failures.append)
        with caplog.at_level(logging.INFO, logger="tiktok_pipeline.client"):
            assert api.order.list(query={"page_size": 1})["code"] == 0
        assert _refresh_calls(sandbox) == before + 1
        assert [r.code for r in records if r.action == "order.list"] == [105002, 0]
        # A recovered call is not a failure: no observer call, no error line.
        assert failures == []
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_dead_refresh_token_marks_the_shops_for_reauthorization(store, sandbox):
    with _client(store, retry=FAST_RETRIES) as client:
        data = _authorize(client, store, sandbox)
        api = client.shop(sandbox.shops[0].id)
        sandbox.control.expire_tokens(open_id=data.open_id, which="both")
        failures = []
        client.on_request_failed(failures.append)
        with pytest.raises(RefreshTokenInvalid):
            api.order.list(query={"page_size": 1})
        assert {s.status for s in store.tokens.list_shops()} == {"needs_reauth"}
        # Both failed for good, each announced once: the refresh, then the call it was for.
        assert [(f.record.action, f.error.code) for f in failures] == [
            ("auth.refresh_access_token", 36004001),
            ("order.list", 105002),
        ]
        with pytest.raises(ReauthorizationRequired) as caught:
            client.shop(sandbox.shops[1].id).order.list(query={"page_size": 1})
        assert sandbox.shops[1].id in str(caught.value)
        assert "/tiktok/seller/authorize" in str(caught.value)
        # Authorizing again brings the shops back.
        _authorize(client, store, sandbox)
        assert client.shop(sandbox.shops[1].id).order.list(query={"page_size": 1})["code"] == 0


def test_a_rejected_access_token_is_refreshed_and_the_call_retried_once(store, sandbox):
    """105001 (the access token is not valid, e.g. revoked or replaced elsewhere) while the
    refresh token still works: one refresh, the call retried, the shop stays active."""
    with _client(store, retry=FAST_RETRIES) as client:
        data = _authorize(client, store, sandbox)
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(tiktok_authorizations)
                .where(tiktok_authorizations.c.id == data.id)
                .values(access_token=store.tokens.cipher.encrypt("TTP_revoked_elsewhere"))
            )
        before = _refresh_calls(sandbox)
        records = []
        client.on_request(records.append)
        assert client.shop(sandbox.shops[0].id).order.list(query={"page_size": 1})["code"] == 0
        assert [r.code for r in records if r.action == "order.list"] == [105001, 0]
        assert _refresh_calls(sandbox) == before + 1
        assert {s.status for s in store.tokens.list_shops()} == {"active"}


def test_a_seller_who_revoked_the_app_is_marked_for_reauthorization(store, sandbox):
    """The seller removed the app and the deauthorization webhook never arrived: the next call
    gets 105001, the refresh finds the refresh token dead, the shops become needs_reauth."""
    with _client(store, retry=FAST_RETRIES) as client:
        data = _authorize(client, store, sandbox)
        sandbox.control.deauthorize(data.open_id)
        with pytest.raises(RefreshTokenInvalid):
            client.shop(sandbox.shops[0].id).order.list(query={"page_size": 1})
        assert {s.status for s in store.tokens.list_shops()} == {"needs_reauth"}
        with pytest.raises(ReauthorizationRequired) as caught:
            client.shop(sandbox.shops[1].id).order.list(query={"page_size": 1})
        assert "/tiktok/seller/authorize" in str(caught.value)
        # Consenting again (as the seller would after the alert) brings the shops back.
        _authorize(client, store, sandbox)
        assert client.shop(sandbox.shops[1].id).order.list(query={"page_size": 1})["code"] == 0


def _call_from_another_process(env: dict, shop_id: str, barrier, results) -> None:
    import os

    os.environ.update(env)
    with Store.from_url() as store, _client(store, refresh_margin=timedelta(hours=2)) as client:
        api = client.shop(shop_id)
        barrier.wait()
        results.put(api.seller.shops()["code"])


def test_two_processes_needing_a_refresh_make_one_refresh_call(environment, store, sandbox):
    with _client(store) as client:
        _authorize(client, store, sandbox)
    sandbox.control.config(access_token_ttl=7 * 86400)
    before = _refresh_calls(sandbox)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(
            target=_call_from_another_process,
            args=(environment, sandbox.shops[i].id, barrier, results),
        )
        for i in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in processes) == [0, 0]
    assert _refresh_calls(sandbox) == before + 1
    sandbox.control.config(access_token_ttl=3600)


def test_no_secret_reaches_the_request_log_or_the_logs(store, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    sent_signs = []

    def remember_sign(response, *args, **kwargs):
        query = parse_qs(urlsplit(response.request.url).query)
        sent_signs.extend(query.get("sign", []))

    with _client(store, retry=FAST_RETRIES) as client:
        client.transport.session.hooks["response"].append(remember_sign)
        code = sandbox.authorize()
        first, _ = connect_seller(client, store, code)
        api = client.shop(sandbox.shops[0].id)
        api.order.list(query={"page_size": 2}, body={"order_status": "COMPLETED"})
        api.event.update_webhook(
            body={"address": "https://example.com/hook", "event_type": "ORDER_STATUS_CHANGE"}
        )
        sandbox.control.expire_tokens(which="access")
        api.order.list(query={"page_size": 1})  # 105002, refresh, retry
        refreshed = store.tokens.get_authorization(
            store.tokens.get_shop(sandbox.shops[0].id).authorization_id
        )
        sandbox.control.set_faults(internal_error_share=1.0, limit=1)
        api.seller.shops()
        store.request_log.flush()
        with store.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT * FROM tiktok_requests")).mappings().all()

    secrets = {
        "app secret": sandbox.config.app_secret,
        "auth code": code,
        "access token": first.access_token,
        "refresh token": first.refresh_token,
        "refreshed access token": refreshed.access_token,
        "refreshed refresh token": refreshed.refresh_token,
        **{f"sign {i}": sign for i, sign in enumerate(sent_signs)},
    }
    assert len(sent_signs) >= 5
    assert {row["action"] for row in rows} >= {
        "auth.access_token",
        "auth.refresh_access_token",
        "order.list",
        "event.update_webhook",
    }
    table_text = json.dumps([dict(row) for row in rows], default=str)
    log_text = caplog.text
    for name, secret in secrets.items():
        assert secret not in table_text, f"{name} is in tiktok_requests"
        assert secret not in log_text, f"{name} is in the logs"
