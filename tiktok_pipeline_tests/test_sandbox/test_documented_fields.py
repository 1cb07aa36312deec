"""The sandbox against TikTok's documented response fields (issue 15).

Each response the client reads is fetched over real HTTP from a sandbox with a shop in each
of its twelve regions (US, GB, ID, MY, TH, VN, PH, SG, MX, ES, JP, BR), every page walked;
every field path seen in any item is compared with the catalog
(``tiktok_pipeline_tests/fields/catalog/*.json``, built from TikTok's official SDK models, see
``docs/fields/README.md``):

- a field the sandbox sends that the catalog documents must have the documented JSON type;
- coverage = documented paths present / documented paths, per response and overall, is printed
  and written to a report (``build/documented-fields.md`` or ``$TIKTOK_FIELDS_REPORT``);
- the issue's targets, one test per response (>= 80 %) and one overall (>= 90 %).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tiktok_pipeline.sandbox import run_sandbox
from tiktok_pipeline.sandbox.config import DEFAULT_REGIONS
from tiktok_pipeline.sandbox.runner import RunningSandbox
from tiktok_pipeline_tests.fields.build_catalog import INDEX_END, INDEX_START, SPECS, render_index
from tiktok_pipeline_tests.fields.catalog import (
    DOCS_DIR,
    Observed,
    load_all,
    measure,
    overall_share,
    render_markdown,
)
from tiktok_pipeline_tests.fields.report import OVERALL_TARGET, RESPONSE_TARGET, Measured, report
from tiktok_pipeline_tests.test_sandbox.conftest import authorized_client, small_config
from tiktok_pipeline_tests.test_sandbox.signer import SignedClient

pytestmark = pytest.mark.slow

#: Every region the sandbox knows, so that market-specific fields can appear somewhere.
REGIONS = DEFAULT_REGIONS
#: Statements per shop whose transactions are read, and settled orders per shop read one by one.
STATEMENTS_PER_SHOP = 12
ORDERS_PER_SHOP = 40
WEBHOOK_ADDRESS = "https://example.com/tiktok/webhooks"
CATALOG = {r.key: r for r in load_all()}
REPORT = Path(
    os.environ.get("TIKTOK_FIELDS_REPORT")
    or Path(__file__).resolve().parents[2] / "build" / "documented-fields.md"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A shop in each of the twelve regions, a month of orders, many returns, a frozen clock."""
    config = small_config(
        regions=REGIONS,
        shops=len(REGIONS),
        orders_per_shop=200,
        products_per_shop=20,
        days=30,
        return_every=4,
    )
    with run_sandbox(config) as running:
        yield running


def items(pages: list[dict], key: str) -> list[dict]:
    """The items of every page."""
    return [item for page in pages for item in page[key]]


class Harvest:
    """Walks every response of every shop and keeps what it saw, per catalog key.

    Page sizes are small so that every search is read over several pages (and its
    ``next_page_token`` is seen filled).

    A response whose call fails is recorded in ``errors`` and the walk goes on, so that one
    broken endpoint does not hide the figures of the others (its own tests then fail).
    """

    def __init__(self, sandbox: RunningSandbox, client: SignedClient) -> None:
        self.sandbox = sandbox
        self.client = client
        self.seen: dict[str, Observed] = {key: Observed() for key in CATALOG}
        self.errors: dict[str, str] = {}

    @contextlib.contextmanager
    def step(self, key: str) -> Iterator[None]:
        """Run one response's calls; a failure is kept for ``key`` instead of raised."""
        try:
            yield
        except (AssertionError, requests.RequestException, KeyError, ValueError) as error:
            self.errors.setdefault(key, f"{type(error).__name__}: {error}"[:2000])

    def pages(
        self, key: str, path: str, cipher: str | None, *, page_size: int, **query: Any
    ) -> list[dict]:
        """Every page's ``data`` of a paged call, each added to ``key``'s observations."""
        method = CATALOG[key].method
        pages: list[dict] = []
        token = ""
        for _ in range(1000):
            q = {"page_size": page_size, **query, **({"page_token": token} if token else {})}
            data = self.client.ok(method, path, q, {} if method == "POST" else None, cipher=cipher)
            self.seen[key].add(data)
            pages.append(data)
            token = data.get("next_page_token") or ""
            if not token:
                return pages
        raise AssertionError(f"{path}: paging did not end")

    def one(self, key: str, path: str, cipher: str | None = None, **query: Any) -> dict:
        """One call's ``data``, added to ``key``'s observations."""
        data = self.client.ok("GET", path, query, cipher=cipher)
        self.seen[key].add(data)
        return data

    def run(self) -> Harvest:
        """Walk everything."""
        with self.step("authorized-shops-202309"):
            self.one("authorized-shops-202309", "/authorization/202309/shops")
        with self.step("seller-shops-202309"):
            self.one("seller-shops-202309", "/seller/202309/shops")
        for shop in self.sandbox.shops:
            self.orders(shop.cipher)
            self.products(shop.cipher)
            self.after_sales(shop.cipher)
            self.finance(shop.cipher)
            self.webhooks(shop.cipher)
        return self

    def orders(self, cipher: str) -> None:
        """Order search, then the detail of every order found."""
        ids: list[str] = []
        with self.step("order-search-202309"):
            pages = self.pages(
                "order-search-202309", "/order/202309/orders/search", cipher, page_size=50
            )
            ids = [order["id"] for order in items(pages, "orders")]
        with self.step("order-detail-202309"):
            for start in range(0, len(ids), 50):
                batch = ",".join(ids[start : start + 50])
                self.one("order-detail-202309", "/order/202309/orders", cipher, ids=batch)

    def products(self, cipher: str) -> None:
        """Product search, then Get Product of every product found."""
        ids: list[str] = []
        with self.step("product-search-202502"):
            pages = self.pages(
                "product-search-202502", "/product/202502/products/search", cipher, page_size=10
            )
            ids = [product["id"] for product in items(pages, "products")]
        with self.step("product-get-202309"):
            for product_id in ids:
                self.one("product-get-202309", f"/product/202309/products/{product_id}", cipher)

    def after_sales(self, cipher: str) -> None:
        """Returns and cancellations searches."""
        with self.step("returns-search-202309"):
            self.pages(
                "returns-search-202309",
                "/return_refund/202309/returns/search",
                cipher,
                page_size=10,
            )
        with self.step("cancellations-search-202309"):
            self.pages(
                "cancellations-search-202309",
                "/return_refund/202309/cancellations/search",
                cipher,
                page_size=3,
            )

    def finance(self, cipher: str) -> None:
        """Statements, payments, withdrawals, unsettled, and transactions by statement/order."""
        statements: list[dict] = []
        with self.step("statements-202309"):
            pages = self.pages(
                "statements-202309",
                "/finance/202309/statements",
                cipher,
                page_size=10,
                sort_field="statement_time",
            )
            statements = items(pages, "statements")
        with self.step("payments-202309"):
            self.pages(
                "payments-202309",
                "/finance/202605/payments",
                cipher,
                page_size=10,
                sort_field="create_time",
            )
        with self.step("withdrawals-202309"):
            self.pages("withdrawals-202309", "/finance/202309/withdrawals", cipher, page_size=20)
        with self.step("unsettled-transactions-202507"):
            self.pages(
                "unsettled-transactions-202507",
                "/finance/202507/orders/unsettled",
                cipher,
                page_size=20,
                sort_field="order_create_time",
            )
        settled: set[str] = set()
        with self.step("statement-transactions-202501"):
            step = max(1, len(statements) // STATEMENTS_PER_SHOP)
            for statement in statements[::step]:
                pages = self.pages(
                    "statement-transactions-202501",
                    f"/finance/202501/statements/{statement['id']}/statement_transactions",
                    cipher,
                    page_size=5,
                    sort_field="order_create_time",
                )
                settled |= {
                    t["order_id"] for t in items(pages, "transactions") if t.get("order_id")
                }
        with self.step("order-transactions-202501"):
            for order_id in sorted(settled)[:ORDERS_PER_SHOP]:
                self.one(
                    "order-transactions-202501",
                    f"/finance/202501/orders/{order_id}/statement_transactions",
                    cipher,
                )

    def webhooks(self, cipher: str) -> None:
        """Two subscriptions, then the shop's webhook list."""
        with self.step("shop-webhooks-202309"):
            for event_type in ("ORDER_STATUS_CHANGE", "RETURN_STATUS_CHANGE"):
                self.client.ok(
                    "PUT",
                    "/event/202309/webhooks",
                    body={"address": WEBHOOK_ADDRESS, "event_type": event_type},
                    cipher=cipher,
                )
            self.one("shop-webhooks-202309", "/event/202309/webhooks", cipher)


@pytest.fixture(scope="module")
def measured(sandbox: RunningSandbox) -> Measured:
    """Every response measured against the catalog; the report written."""
    harvest = Harvest(sandbox, authorized_client(sandbox)).run()
    coverage = {key: measure(CATALOG[key], seen) for key, seen in harvest.seen.items()}
    result = Measured(coverage, harvest.errors)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(result, CATALOG))
    return result


def test_docs_tables_are_rendered_from_the_catalog():
    """docs/fields/<key>.md is exactly what the catalog renders: one source of truth."""
    assert len(CATALOG) == 15
    for key, response in CATALOG.items():
        assert (DOCS_DIR / f"{key}.md").read_text() == render_markdown(response), (
            f"docs/fields/{key}.md is stale; rerun build_catalog.py"
        )
    index = render_index([CATALOG[spec.key] for spec in SPECS])
    assert f"{INDEX_START}\n{index}\n{INDEX_END}" in (DOCS_DIR / "README.md").read_text()


def test_catalog_holds_tiktoks_documented_types():
    """Spot checks against TikTok's reference: amounts are strings, times integers, ids strings."""
    order = CATALOG["order-detail-202309"].field_map()
    assert order["orders[].payment.sub_total"].type == "string"
    assert order["orders[].id"].type == "string"
    assert order["orders[].line_items[].item_tax[].tax_amount"].type == "string"
    assert order["orders[].create_time"].type == "integer"
    assert order["orders[].is_cod"].type == "boolean"
    assert order["orders[].line_items"].items == "object"
    assert order["orders[].cpf"].markets == ("BR",)
    product = CATALOG["product-get-202309"].field_map()
    assert product["skus[].inventory[].quantity"].type == "integer"
    reasons = product["audit_failed_reasons[].reasons"]
    assert (reasons.type, reasons.items) == ("array", "string")
    assert "return_orders[].partial_refund.amount" in CATALOG["returns-search-202309"].field_map()


def test_measure_finds_wrong_types_and_missing_fields():
    """The measure itself: a wrong type, a null and a missing field are all reported."""
    observed = Observed()
    observed.add(
        {
            "orders": [
                {"id": "1", "create_time": "1700000000", "payment": {"sub_total": None}},
                {"id": "2", "create_time": 1700000000, "line_items": [{"gift_retail_price": 1}]},
                {"id": "3", "packages": ["p1"], "line_items": [{"item_tax": []}]},
            ]
        }
    )
    c = measure(CATALOG["order-detail-202309"], observed)
    wrong = {(m.path, m.seen, m.count) for m in c.mismatches}
    assert wrong == {
        ("orders[].create_time", "string", 1),
        ("orders[].payment.sub_total", "null", 1),
        ("orders[].line_items[].gift_retail_price", "integer", 1),
        ("orders[].packages[]", "string", 1),
    }
    assert "orders[].line_items[].item_tax" in c.present
    assert "orders[].line_items[].item_tax[].tax_amount" in c.missing
    assert "orders[].line_items[].item_tax" in c.always_empty
    assert "orders[].id" not in c.always_empty
    assert "orders[].buyer_email" in c.missing and "orders[].id" in c.present
    assert c.share == len(c.present) / 159


def test_every_response_was_read_with_items(measured: Measured):
    """The walk really saw each response's list (a silent empty walk would fake coverage)."""
    for key, response in CATALOG.items():
        present = measured.coverage[key].present
        assert present, f"{key}: nothing read; {measured.errors.get(key, '')}"
        if response.items_key:
            assert response.items_key in present, key


def test_coverage_report(measured: Measured, capsys: pytest.CaptureFixture[str]):
    """Prints coverage per response and overall; the report holds the same figures."""
    coverage = measured.coverage
    overall = overall_share(coverage.values())
    with capsys.disabled():
        print(f"\n\ndocumented-field coverage (report: {REPORT})")
        for key, c in coverage.items():
            failed = "  (call failed)" if key in measured.errors else ""
            print(f"  {key:32} {len(c.present):4} / {c.documented:4}  {c.share:6.1%}{failed}")
        print(f"  {'overall':32} {overall:20.1%}")
    assert f"Overall: **{overall:.1%}**" in REPORT.read_text()


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_sent_fields_have_the_documented_json_type(key: str, measured: Measured):
    """Every documented field the sandbox sends has TikTok's JSON type (and the calls work)."""
    assert key not in measured.errors, measured.errors[key]
    wrong = [
        f"{m.path}: documented {m.documented}, sent {m.seen} x{m.count} (e.g. {m.example!r})"
        for m in measured.coverage[key].mismatches
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_response_coverage_target(key: str, measured: Measured):
    """Issue 15: no response under 80 % of its documented field paths."""
    c = measured.coverage[key]
    share = c.share
    shown = ", ".join(c.missing[:25]) + (", ..." if len(c.missing) > 25 else "")
    assert share >= RESPONSE_TARGET, (
        f"{key}: {len(c.present)}/{c.documented} = {share:.1%} < {RESPONSE_TARGET:.0%}; "
        f"{len(c.missing)} missing (all in {REPORT}): {shown}"
    )


def test_overall_coverage_target(measured: Measured):
    """Issue 15: 90 % or more of the documented field paths overall."""
    share = overall_share(measured.coverage.values())
    assert share >= OVERALL_TARGET, f"overall {share:.1%} < {OVERALL_TARGET:.0%}"
