"""Every SQL and pandas example of README.md and docs/data-dictionary.md does what it says.

The examples are read from the two Markdown files (not copied here): each SQL statement and each
pandas block runs, as written, on a SQLite and a Postgres warehouse filled with the same
snapshot of the sandbox, and its answer is checked against figures computed here, with
``Decimal``, from the sandbox's JSON. Both backends must give the same answer. Each example is
matched by its title (the ``-- comment`` opening it, else the heading above it) to one check
below: an example added to the docs without a check fails ``test_every_example_has_a_check``.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tiktok_pipeline import db
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    PAYMENT_TABLES,
    PRODUCT_TABLES,
    RETURN_TABLES,
    STATEMENT_TABLES,
    STATEMENT_TRANSACTION_TABLES,
    WITHDRAWAL_TABLES,
    Warehouse,
)
from tiktok_pipeline.warehouse.columns import REFUND_SUCCESS_STATUSES
from tiktok_pipeline_tests.test_warehouse import expected as x
from tiktok_pipeline_tests.test_warehouse import finance_factories as ff

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/data-dictionary.md")
#: The shop the README's and the dictionary's pandas examples name: the first shop of the
#: sandbox's default seed, the one `make dev` shows a new user.
EXAMPLE_SHOP = "7494106055741312091"


@dataclass(frozen=True)
class Example:
    """One documented query: a SQL statement or a pandas block."""

    document: str
    title: str
    language: str
    code: str


_FENCE = re.compile(r"^```(\w*)\s*$")


def documented_examples() -> list[Example]:
    """The SQL statements and warehouse-reading Python blocks of the documents, in order."""
    examples = []
    for document in DOCUMENTS:
        heading, language, block = "", None, []
        for line in (ROOT / document).read_text(encoding="utf-8").splitlines():
            fence = _FENCE.match(line)
            if language is None and fence:
                language, block = fence.group(1), []
            elif language is not None and line.startswith("```"):
                examples += _examples_of(document, heading, language, "\n".join(block))
                language = None
            elif language is not None:
                block.append(line)
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
    return examples


def _examples_of(document: str, heading: str, language: str, code: str) -> list[Example]:
    if language == "sql":
        statements = [s.strip() for s in re.split(r";\s*(?:\n|$)", code) if s.strip()]
        return [Example(document, _title(s, "--", heading), "sql", s) for s in statements]
    if language == "python" and "read_sql" in code:
        return [Example(document, _title(code, "#", heading), "python", code)]
    return []


def _title(code: str, comment: str, heading: str) -> str:
    first = code.strip().splitlines()[0]
    return first.removeprefix(comment).strip() if first.startswith(comment) else heading


# --- The data: one frozen snapshot of the sandbox, loaded into both backends ----------------


@dataclass
class Snapshot:
    """What the sandbox holds (TikTok's JSON) and the ledger rows the test recorded."""

    orders: list[dict]
    returns: list[dict]
    products: list[dict]
    ledger: list[dict]
    #: Shop -> statements, statement_transactions, payments, withdrawals settling the orders.
    finance: dict[str, dict[str, list[dict]]]


@pytest.fixture(scope="module")
def snapshot() -> Iterator[Snapshot]:
    """A sandbox with the default seed, 35 days of history ending now, clock frozen."""
    config = SandboxConfig(
        seed=7,
        shops=2,
        orders_per_shop=1200,
        products_per_shop=30,
        days=35,
        return_every=5,
        frozen_clock=True,
    )
    with run_sandbox(config) as sandbox:
        data: dict[str, list[dict]] = {"orders": [], "returns": [], "products": []}
        for shop in sandbox.shops:
            for entity, objects in data.items():
                for obj in sandbox.control.truth(entity, shop_id=shop.id):
                    objects.append({**obj, "_shop_id": shop.id})
        assert EXAMPLE_SHOP in {shop.id for shop in sandbox.shops}
        other_shop = next(shop.id for shop in sandbox.shops if shop.id != EXAMPLE_SHOP)
    now = datetime.now(UTC).replace(microsecond=0)
    ledger = [
        {"shop_id": EXAMPLE_SHOP, "api_total_count": 40, "items_received": 40, "hours": 3},
        {"shop_id": EXAMPLE_SHOP, "api_total_count": 41, "items_received": 39, "hours": 2},
        {"shop_id": other_shop, "api_total_count": 12, "items_received": 10, "hours": 1},
    ]
    for row in ledger:
        row["finished_at"] = now - timedelta(hours=row["hours"])
    finance = ff.finance_of_orders(data["orders"])
    yield Snapshot(data["orders"], data["returns"], data["products"], ledger, finance)


def _fill(url: str, snapshot: Snapshot) -> Warehouse:
    wh = Warehouse.from_url(url, upgrade=True)
    by_shop: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for entity in ("orders", "returns", "products"):
        for obj in getattr(snapshot, entity):
            clean = {k: v for k, v in obj.items() if k != "_shop_id"}
            by_shop[obj["_shop_id"]][entity].append(clean)
    tables = {"orders": ORDER_TABLES, "returns": RETURN_TABLES, "products": PRODUCT_TABLES}
    with wh.begin() as tx:
        for shop_id, entities in by_shop.items():
            for entity, objects in entities.items():
                tx.load(tables[entity], shop_id, objects)
        finance_tables = {
            "statements": STATEMENT_TABLES,
            "statement_transactions": STATEMENT_TRANSACTION_TABLES,
            "payments": PAYMENT_TABLES,
            "withdrawals": WITHDRAWAL_TABLES,
        }
        for shop_id, kinds in snapshot.finance.items():
            for kind, objects in kinds.items():
                tx.load(finance_tables[kind], shop_id, objects)
        for row in snapshot.ledger:
            start = row["finished_at"] - timedelta(hours=1)
            tx.record_sync(
                shop_id=row["shop_id"],
                entity="orders",
                window_start=start,
                window_end=start + timedelta(minutes=15),
                api_total_count=row["api_total_count"],
                items_received=row["items_received"],
                finished_at=row["finished_at"],
            )
    return wh


@pytest.fixture(scope="module")
def sqlite_warehouse(snapshot: Snapshot, tmp_path_factory) -> Iterator[str]:
    """The URL of a SQLite warehouse holding the snapshot."""
    url = f"sqlite:///{tmp_path_factory.mktemp('documented') / 'tiktok.db'}"
    _fill(url, snapshot)
    yield url
    db._engines.pop(url).dispose()


@pytest.fixture(scope="module")
def postgres_warehouse(snapshot: Snapshot) -> Iterator[str]:
    """The URL of a Postgres warehouse holding the snapshot (skipped without a server)."""
    with x.postgres_database() as url:
        _fill(url, snapshot)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request) -> str:
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_warehouse")


def run_example(example: Example, url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The example's answer: rows as dicts (SQL) or the block's variables (pandas).

    A pandas block gets the test's warehouse through ``TIKTOK_WAREHOUSE_URL``, which the
    documented ``warehouse_engine()`` reads.
    """
    if example.language == "sql":
        with Warehouse.from_url(url).engine.connect() as connection:
            return [dict(r) for r in connection.exec_driver_sql(example.code).mappings()]
    monkeypatch.setenv("TIKTOK_WAREHOUSE_URL", url)
    namespace: dict[str, Any] = {}
    exec(compile(example.code, example.document, "exec"), namespace)
    return namespace


# --- The checks, one per documented example --------------------------------------------------

Check = Callable[[Any, Snapshot], None]


def _last_week(rows: list[dict], snapshot: Snapshot) -> None:
    facts = x.daily_facts(snapshot.orders, snapshot.returns)
    days = sorted({x.day(r["day"]) for r in rows})
    assert days == [x.today() - timedelta(days=n) for n in range(6, -1, -1)]  # today included
    wanted = ("orders", "units", "gross_merchandise_value", "refunds")
    expected = [
        {"day": day, "shop_id": shop, "currency": currency, **{c: f[c] for c in wanted}}
        for (day, shop, currency), f in sorted(facts.items())
        if (x.today() - day).days < 7
    ]
    assert x.normalized(rows) == expected
    assert sum(r["orders"] for r in expected) > 100


def _best_sellers(rows: list[dict], snapshot: Snapshot) -> None:
    groups = x.sku_sales(snapshot.orders, ("seller_sku", "sku_name", "currency"))
    expected = [
        {"seller_sku": sku, "sku_name": name, "units": units, "revenue": revenue, "currency": cur}
        for (sku, name, cur), (units, revenue) in groups
    ][:20]
    assert x.normalized(rows) == expected


def _readme_pandas(namespace: dict, snapshot: Snapshot) -> None:
    sales, orders = namespace["sales"], namespace["orders"]
    assert pd.api.types.is_datetime64_any_dtype(sales["day"])
    assert str(orders["created_at"].dtype) in ("datetime64[ns, UTC]", "datetime64[us, UTC]")
    facts = x.daily_facts(snapshot.orders, snapshot.returns)
    assert len(sales) == len(facts)
    assert x.exact_sum(sales["gross_merchandise_value"]) == sum(
        f["gross_merchandise_value"] for f in facts.values()
    )
    shop_orders = sorted(
        (o for o in snapshot.orders if o["_shop_id"] == EXAMPLE_SHOP),
        key=lambda o: (o["create_time"], o["id"]),
    )
    assert list(orders["id"]) == [o["id"] for o in shop_orders]
    assert [t.timestamp() for t in orders["created_at"]] == [o["create_time"] for o in shop_orders]
    assert x.exact_sum(orders["total_amount"]) == sum(
        Decimal(o["payment"]["total_amount"]) for o in shop_orders
    )


def _daily_sales_30_days(rows: list[dict], snapshot: Snapshot) -> None:
    facts = x.daily_facts(snapshot.orders, snapshot.returns)
    wanted = ("orders", "units", "net_sales", "refunds")
    expected = [
        {
            "shop_id": shop,
            "day": day,
            "currency": currency,
            **{c: f[c] for c in wanted},
            "net_sales_after_refunds": f["net_sales"] - f["refunds"],
        }
        for (day, shop, currency), f in sorted(facts.items(), key=lambda i: (i[0][1], i[0]))
        if (x.today() - day).days < 30
    ]
    assert len({r["day"] for r in expected}) == 30
    assert x.normalized(rows) == expected


def _best_sellers_30_days(rows: list[dict], snapshot: Snapshot) -> None:
    newest = max(o["create_time"] for o in snapshot.orders)
    recent = [o for o in snapshot.orders if o["create_time"] >= newest - 30 * 86400]
    groups = x.sku_sales(recent, ("_shop_id", "sku_id", "seller_sku", "currency"))
    names = x.max_product_names(recent)
    expected = [
        {
            "shop_id": shop,
            "sku_id": sku_id,
            "seller_sku": seller_sku,
            "product_name": names[shop, sku_id],
            "units": units,
            "revenue": revenue,
            "currency": currency,
        }
        for (shop, sku_id, seller_sku, currency), (units, revenue) in groups
    ][:10]
    assert x.normalized(rows) == expected


def _return_rate(rows: list[dict], snapshot: Snapshot) -> None:
    assert x.normalized(rows) == x.units_sold_and_returned(snapshot.orders, snapshot.returns)
    assert rows[0]["units_returned"] > 0


def _stock(rows: list[dict], snapshot: Snapshot) -> None:
    expected = sorted(
        (
            {
                "shop_id": p["_shop_id"],
                "title": p["title"],
                "status": p["status"],
                "seller_sku": sku["seller_sku"],
                "warehouse_id": stock["warehouse_id"],
                "quantity": stock["quantity"],
                "_sku": sku["id"],
            }
            for p in snapshot.products
            for sku in p["skus"]
            for stock in sku["inventory"]
        ),
        key=lambda r: (r["shop_id"], r["title"], r["seller_sku"], r["_sku"], r["warehouse_id"]),
    )
    assert x.normalized(rows) == [{k: v for k, v in r.items() if k != "_sku"} for r in expected]


def _disagreeing_windows(rows: list[dict], snapshot: Snapshot) -> None:
    expected = sorted(
        (r for r in snapshot.ledger if r["api_total_count"] != r["items_received"]),
        key=lambda r: r["finished_at"],
        reverse=True,
    )
    got = x.normalized(rows)
    assert [(r["shop_id"], r["api_total_count"], r["items_received"]) for r in got] == [
        (r["shop_id"], r["api_total_count"], r["items_received"]) for r in expected
    ]
    assert [r["finished_at"] for r in got] == [r["finished_at"] for r in expected]


def _payouts_last_month(rows: list[dict], snapshot: Snapshot) -> None:
    payments = [
        {**p, "_shop_id": shop}
        for shop, kinds in snapshot.finance.items()
        for p in kinds["payments"]
    ]
    newest = max(p["paid_time"] for p in payments)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for p in payments:
        if p["status"] == "PAID" and p["paid_time"] > newest - 30 * 86400:
            group = groups.setdefault(
                (p["_shop_id"], p["amount"]["currency"]),
                {"payouts": 0, "paid_out": Decimal(0), "held_in_reserve": Decimal(0)},
            )
            group["payouts"] += 1
            group["paid_out"] += Decimal(p["amount"]["value"])
            group["held_in_reserve"] += Decimal(p["reserve_amount"]["value"])
    expected = [
        {"shop_id": shop, "currency": currency, **figures}
        for (shop, currency), figures in sorted(groups.items())
    ]
    assert len(expected) == 2 and all(r["payouts"] >= 10 for r in expected)
    assert len(payments) > sum(r["payouts"] for r in expected)  # older payouts are left out
    assert x.normalized(rows) == expected


def _fees_per_order(rows: list[dict], snapshot: Snapshot) -> None:
    settled = sorted(
        ff.expected_settlements(snapshot.finance),
        key=lambda r: (r["fee_tax_amount"], r["shop_id"], r["order_id"]),
    )
    columns = list(rows[0])
    assert len(settled) > 100
    assert x.normalized(rows) == [{c: r[c] for c in columns} for r in settled[:20]]
    assert all(r["fee_tax_amount"] < 0 for r in rows)


def _dictionary_pandas(namespace: dict, snapshot: Snapshot) -> None:
    daily = namespace["daily"]
    assert pd.api.types.is_datetime64_any_dtype(daily["day"])
    facts = x.daily_facts(snapshot.orders, snapshot.returns)
    expected = [
        (d, c, f["net_sales"]) for (d, s, c), f in sorted(facts.items()) if s == EXAMPLE_SHOP
    ]
    got = [
        (t.date(), c, x.exact(n))
        for t, c, n in zip(*map(daily.get, ("day", "currency", "net_sales")), strict=True)
    ]
    assert got == expected


CHECKS: dict[tuple[str, str], Check] = {
    ("README.md", "Last week's sales per shop (UTC days, today included)"): _last_week,
    ("README.md", "Best-selling SKUs"): _best_sellers,
    ("README.md", "Daily sales and one shop's orders in pandas"): _readme_pandas,
    (
        "docs/data-dictionary.md",
        "Daily sales of the last 30 days (UTC days), with refunds netted out",
    ): _daily_sales_30_days,
    (
        "docs/data-dictionary.md",
        "Best-selling SKUs of the 30 days up to the newest order (one line item = one unit)",
    ): _best_sellers_30_days,
    (
        "docs/data-dictionary.md",
        "Return rate per product: units sold and units returned",
    ): _return_rate,
    ("docs/data-dictionary.md", "Stock per SKU and warehouse, with the product's status"): _stock,
    (
        "docs/data-dictionary.md",
        "Payouts of the last month: payments paid in the 30 days up to the newest payout",
    ): _payouts_last_month,
    (
        "docs/data-dictionary.md",
        "Fees per order: the 20 settled orders that paid the most in fees and taxes",
    ): _fees_per_order,
    (
        "docs/data-dictionary.md",
        "Synced windows where TikTok's total_count and what arrived disagree",
    ): _disagreeing_windows,
    ("docs/data-dictionary.md", "In pandas"): _dictionary_pandas,
}

EXAMPLES = documented_examples()


def test_every_example_has_a_check():
    found = [(e.document, e.title) for e in EXAMPLES]
    assert len(found) == len(set(found)), "two examples share a title"
    unchecked, stale = sorted(set(found) - set(CHECKS)), sorted(set(CHECKS) - set(found))
    assert not unchecked and not stale, (
        "documented examples and checks differ: give a new example a check in CHECKS "
        f"(unchecked: {unchecked}; stale: {stale})"
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.document}: {e.title}")
def test_documented_example(example: Example, backend_url: str, snapshot, monkeypatch):
    CHECKS[example.document, example.title](
        run_example(example, backend_url, monkeypatch), snapshot
    )


@pytest.mark.postgres
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.document}: {e.title}")
def test_sqlite_and_postgres_give_the_same_answer(
    example: Example, sqlite_warehouse: str, postgres_warehouse: str, monkeypatch
):
    answers = [
        x.comparable(run_example(example, url, monkeypatch))
        for url in (sqlite_warehouse, postgres_warehouse)
    ]
    assert answers[0] == answers[1]


def test_views_are_exact_in_a_plain_sqlite_client(sqlite_warehouse: str, snapshot):
    """The sqlite3 shell or a BI tool, without the package's exact sums, reads exact views."""
    facts = x.daily_facts(snapshot.orders, snapshot.returns)
    path = sa.make_url(sqlite_warehouse).database
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT day, shop_id, currency, gross_merchandise_value, net_sales, refunds, "
            "net_sales_after_refunds, typeof(net_sales) FROM tiktok_daily_sales"
        ).fetchall()
    got = {
        (date.fromisoformat(d), s, c): (repr(g), repr(n), repr(r), repr(a), t)
        for d, s, c, g, n, r, a, t in rows
    }
    assert got == {
        key: (
            repr(float(f["gross_merchandise_value"])),
            repr(float(f["net_sales"])),
            repr(float(f["refunds"])),
            repr(float(f["net_sales"] - f["refunds"])),
            "real",
        )
        for key, f in facts.items()
    }


def test_the_checks_use_the_views_refund_statuses():
    assert set(REFUND_SUCCESS_STATUSES) == set(x.REFUND_SUCCESS)
