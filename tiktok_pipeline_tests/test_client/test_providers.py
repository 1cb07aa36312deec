"""The client with credentials and a request log of the caller's own, no token store at all.

Anything shaped like :class:`~tiktok_pipeline.client.CredentialsProvider` and
:class:`~tiktok_pipeline.client.RequestLogSink` plugs in; the store is one such provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tiktok_pipeline.client import (
    RequestRecord,
    TikTokConfigurationError,
    TikTokShopClient,
    UnknownShopError,
)
from tiktok_pipeline.client.credentials import RefreshFn
from tiktok_pipeline.db import from_epoch
from tiktok_pipeline_tests.test_client.conftest import FAST_RETRIES


@dataclass(frozen=True)
class Held:
    """What the in-memory provider hands out (the fields the client reads)."""

    shop_id: str
    cipher: str | None
    access_token: str
    expires_at: datetime | None
    authorization_id: int

    @property
    def access_token_expires_at(self) -> datetime | None:
        """The same expiry under the name a refresh result carries."""
        return self.expires_at


class MemoryCredentials:
    """A provider that keeps one seller's tokens in a dict, refreshing through the client."""

    def __init__(self, token_data: Mapping[str, Any], ciphers: Mapping[str, str]) -> None:
        self.data = dict(token_data)
        self.ciphers = dict(ciphers)
        self.refreshes: list[str | None] = []

    def get_shop(self, shop_id: str) -> object:
        """The shop id if known; UnknownShopError otherwise."""
        if shop_id not in self.ciphers:
            raise UnknownShopError(f"no shop {shop_id!r} in memory")
        return shop_id

    def credentials(self, shop_id: str, *, refresh: RefreshFn, margin: timedelta) -> Held:
        """The held token, as it is (this provider never refreshes ahead)."""
        return self._held(shop_id)

    def refresh(
        self, authorization_id: int, *, refresh: RefreshFn, stale_access_token: str | None = None
    ) -> Held:
        """Refresh through the client when the rejected token is still the held one."""
        self.refreshes.append(stale_access_token)
        if stale_access_token == self.data["access_token"]:
            self.data.update(refresh(self.data["refresh_token"]))
        return self._held(next(iter(self.ciphers)))

    def _held(self, shop_id: str) -> Held:
        return Held(
            shop_id=shop_id,
            cipher=self.ciphers[shop_id],
            access_token=self.data["access_token"],
            expires_at=from_epoch(self.data.get("access_token_expire_in")),
            authorization_id=1,
        )


class ListLog:
    """A request log that keeps records in a list."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.flushes = 0

    def record(self, entry: RequestRecord) -> None:
        """Keep ``entry``."""
        self.records.append(entry)

    def flush(self, timeout: float | None = None) -> None:
        """Count the flush (nothing to write)."""
        self.flushes += 1


def _client(sandbox, **options: Any) -> TikTokShopClient:
    return TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        retry=FAST_RETRIES,
        qps=None,
        **options,
    )


def test_a_provider_of_ones_own_serves_shops_by_id_and_is_asked_to_refresh(
    sandbox, tokens, shop
) -> None:
    provider = MemoryCredentials(tokens, {shop.id: shop.cipher})
    with _client(sandbox, credentials=provider) as client:
        api = client.shop(shop.id)
        assert api.order.list(query={"page_size": 1})["code"] == 0
        first_token = provider.data["access_token"]

        sandbox.control.expire_tokens(which="access")
        assert api.order.list(query={"page_size": 1})["code"] == 0
        with pytest.raises(UnknownShopError, match="in memory"):
            client.shop("7000000000000000000")

    assert provider.refreshes == [first_token]
    assert provider.data["access_token"] != first_token


def test_every_attempt_reaches_the_request_log_and_close_flushes_it(sandbox, tokens, shop) -> None:
    log = ListLog()
    with _client(sandbox, request_log=log) as client:
        api = client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)
        api.order.list(query={"page_size": 1})
        api.seller.shops()

    assert [r.action for r in log.records] == ["order.list", "seller.shops"]
    assert all(r.http_status == 200 and r.code == 0 for r in log.records)
    assert tokens["access_token"] not in repr(log.records)
    assert log.flushes == 1


def test_request_log_is_not_a_flag(sandbox) -> None:
    with pytest.raises(TikTokConfigurationError, match=re.escape("request_log=store.request_log")):
        _client(sandbox, request_log=True)
