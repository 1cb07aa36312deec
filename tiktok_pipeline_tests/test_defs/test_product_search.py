"""Product searches split below TikTok's 10,000-result cap, against the sandbox (which enforces
the cap with error 12052180)."""

from __future__ import annotations

import pytest

from tiktok_pipeline.client import RetryPolicy, TikTokAPIError, TikTokShopClient
from tiktok_pipeline.defs.ingestion.product_search import product_pages
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline_tests.test_defs.conftest import ANCHOR

PRODUCTS = 10_050
FAST_RETRIES = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.05, jitter=0.01)


def _api(sandbox):
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
        retry=FAST_RETRIES,
        qps=None,
    )
    tokens = client.auth.access_token(sandbox.authorize())["data"]
    shop = sandbox.shops[0]
    return client, client.shop(shop.id, access_token=tokens["access_token"], cipher=shop.cipher)


class Recorder:
    """The shop API, recording how deep each product search is paged."""

    def __init__(self, api) -> None:
        self._api = api
        self.searches: list[dict] = []
        self.product = self

    def pages(self, *, query, body):
        record = {"body": dict(body), "items": 0, "pages": 0}
        self.searches.append(record)
        for page in self._api.product.pages(query=query, body=body):
            record["pages"] += 1
            record["items"] += len(page.items)
            yield page


@pytest.fixture(scope="module")
def big_shop():
    """One shop of 10,050 products: more than one product search can page through."""
    config = SandboxConfig(
        seed=5,
        shops=1,
        orders_per_shop=10,
        products_per_shop=PRODUCTS,
        days=5,
        anchor=ANCHOR,
        frozen_clock=True,
    )
    with run_sandbox(config) as running:
        yield running


def test_a_split_search_lands_every_product_without_paging_past_the_cap(big_shop):
    client, api = _api(big_shop)
    with client:
        # The cap is real: a plain walk of everything fails at the 10,001st result.
        with pytest.raises(TikTokAPIError) as capped:
            for _ in api.product.pages(query={"page_size": 100}, body={"update_time_le": ANCHOR}):
                pass
        assert capped.value.code == 12052180

        recorder = Recorder(api)
        pages = list(product_pages(recorder, None, ANCHOR))
    ids = [item["id"] for page in pages for item in page.items]
    assert len(ids) == len(set(ids)) == PRODUCTS
    # Each walked search's first page tells its total: they add up to the catalog.
    assert sum(p.total_count for p in pages if p.number == 1) == PRODUCTS
    assert max(s["items"] for s in recorder.searches) <= 10_000
    assert len(recorder.searches) > 2  # the range was split
    # The searches that were split were only probed (one page), never walked.
    walked = [s for s in recorder.searches if s["pages"] > 1]
    assert all(s["items"] <= 10_000 for s in walked)


def test_a_small_window_splits_down_and_keeps_every_product():
    config = SandboxConfig(
        seed=5,
        shops=1,
        orders_per_shop=10,
        products_per_shop=300,
        days=5,
        anchor=ANCHOR,
        frozen_clock=True,
        product_search_window=40,
    )
    with run_sandbox(config) as sandbox:
        client, api = _api(sandbox)
        with client:
            everything = list(product_pages(api, None, ANCHOR, page_size=20, result_window=40))
            recent = list(
                product_pages(api, ANCHOR - 10 * 86400, ANCHOR, page_size=20, result_window=40)
            )
            truth = sandbox.control.truth("products", sandbox.shops[0].id)
    ids = [item["id"] for page in everything for item in page.items]
    assert sorted(ids) == sorted(p["id"] for p in truth)
    recent_ids = {item["id"] for page in recent for item in page.items}
    assert recent_ids == {p["id"] for p in truth if p["update_time"] >= ANCHOR - 10 * 86400}
    assert 40 < len(recent_ids) < len(ids)
