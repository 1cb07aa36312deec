"""Exact money sums on SQLite: the aggregates, the engines that get them, and migration 0002."""

from __future__ import annotations

import random
import sqlite3
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tiktok_pipeline import db
from tiktok_pipeline.sqlite_sums import register_exact_sums
from tiktok_pipeline.warehouse import (
    ORDER_TABLES,
    RETURN_TABLES,
    loader,
    migrate,
    warehouse_engine,
)
from tiktok_pipeline_tests.test_warehouse import factories as f
from tiktok_pipeline_tests.test_warehouse.conftest import SHOP


def _connections() -> tuple[sqlite3.Connection, sqlite3.Connection]:
    plain, exact = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    register_exact_sums(exact)
    for connection in (plain, exact):
        connection.execute("CREATE TABLE t (g INTEGER, x NUMERIC)")
    return plain, exact


def test_sums_of_amounts_are_the_floats_nearest_the_exact_totals():
    plain, exact = _connections()
    rng = random.Random(5)
    rows = []
    for group in range(200):
        for _ in range(rng.randint(1, 60)):
            places = rng.choice([0, 2, 2, 3, 6, 9])
            size = rng.choice([1, 100, 1e4, 1e8, 1e12])
            rows.append((group, round(rng.uniform(-size, size), places)))
    rows += [(900, 15710.71 / 3)] * 3 + [(901, 0.1)] * 10
    for connection in (plain, exact):
        connection.executemany("INSERT INTO t VALUES (?, ?)", rows)
    totals: dict[int, Decimal] = {}
    for group, value in rows:
        totals[group] = totals.get(group, Decimal(0)) + Decimal(repr(value))
    query = "SELECT g, SUM(x), TOTAL(x), AVG(x), COUNT(x) FROM t GROUP BY g"
    got = {g: (s, t, a, n) for g, s, t, a, n in exact.execute(query)}
    for group, total in totals.items():
        sum_, total_, avg, count = got[group]
        assert sum_ == total_ == float(total), group
        assert avg == pytest.approx(float(total / count), rel=1e-15)
    assert got[901][0] == 1.0 and repr(got[901][2]) == "0.1"
    # SQLite's own SUM misses at least some of them (what the aggregates are for).
    built_in = dict(plain.execute("SELECT g, SUM(x) FROM t GROUP BY g").fetchall())
    assert built_in[901] == 0.9999999999999999
    assert sum(built_in[g] != float(t) for g, t in totals.items()) > 10


@pytest.mark.parametrize(
    "query",
    [
        "SELECT SUM(x), TOTAL(x), AVG(x), typeof(SUM(x)) FROM t",  # integers stay integers
        "SELECT SUM(x), TOTAL(x), AVG(x) FROM t WHERE x IS NULL",  # only NULLs
        "SELECT SUM(x), AVG(x) FROM t WHERE 0",  # no rows
        "SELECT g, SUM(x), typeof(SUM(x)) FROM t GROUP BY g ORDER BY g",
        "SELECT SUM(DISTINCT x) FROM t",
        "SELECT SUM(x) FILTER (WHERE g = 2) FROM t",
        "SELECT g, SUM(x) OVER (ORDER BY rowid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) "
        "FROM t WHERE g <> 3 ORDER BY rowid",
        "SELECT SUM(v), typeof(SUM(v)), SUM(w) FROM (SELECT '12' AS v, '2.5' AS w "
        "UNION ALL SELECT ' 3 ', 'abc')",
    ],
)
def test_sqlite_semantics_are_kept(query: str):
    plain, exact = _connections()
    rows = [(1, 5), (1, 7), (2, None), (2, 40), (3, 2.5), (4, None), (2, 40)]
    for connection in (plain, exact):
        connection.executemany("INSERT INTO t VALUES (?, ?)", rows)
    assert exact.execute(query).fetchall() == plain.execute(query).fetchall()


def test_integer_overflow_is_an_error_as_in_sqlite():
    _, exact = _connections()
    exact.executemany("INSERT INTO t VALUES (1, ?)", [(2**62,), (2**62,)])
    with pytest.raises(sqlite3.OperationalError):
        exact.execute("SELECT SUM(x) FROM t").fetchall()
    assert exact.execute("SELECT TOTAL(x) FROM t").fetchone() == (float(2**63),)


def test_window_frames_are_exact():
    _, exact = _connections()
    exact.executemany("INSERT INTO t VALUES (1, ?)", [(0.1,), (0.2,), (0.3,), (0.4,)])
    query = "SELECT SUM(x) OVER (ORDER BY rowid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t"
    assert [r[0] for r in exact.execute(query)] == [0.1, 0.3, 0.5, 0.7]


def test_the_package_engines_have_the_exact_sums(sqlite_db_url: str, monkeypatch):
    monkeypatch.setenv("TIKTOK_WAREHOUSE_URL", sqlite_db_url)
    engine = warehouse_engine()
    try:
        assert engine is warehouse_engine(sqlite_db_url)
        with engine.connect() as connection:
            got = connection.exec_driver_sql(
                "SELECT SUM(x) FROM (SELECT 0.1 AS x UNION ALL SELECT 0.2)"
            ).scalar()
        assert got == 0.3
    finally:
        db._engines.pop(sqlite_db_url).dispose()


def test_migration_0002_on_a_filled_0001_warehouse(database_url: str):
    """An existing warehouse gets days_ago and exact sums; a downgrade restores 0001's view."""
    from alembic import command

    engine = db.make_engine(database_url)
    try:
        # Filled by today's loader, then taken back to 0001 as an older install would be.
        assert migrate.upgrade(engine) is True
        prices = {"original_price": "0.10", "seller_discount": "0", "platform_discount": "0"}
        items = [f.line_item(f"li{n}", **prices) for n in range(3)]
        with engine.begin() as connection:
            loader.load(
                connection,
                ORDER_TABLES,
                SHOP,
                [f.order("A", line_items=items)],
                source="poll",
                synced_at=db.utcnow(),
            )
            loader.load(
                connection,
                RETURN_TABLES,
                SHOP,
                [f.return_("R", refund_total="0.20")],
                source="poll",
                synced_at=db.utcnow(),
            )
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0001")
        view_columns = {c["name"] for c in sa.inspect(engine).get_columns("tiktok_daily_sales")}
        assert "days_ago" not in view_columns

        assert migrate.upgrade(engine) is True
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT days_ago, gross_merchandise_value, refunds, net_sales_after_refunds "
                "FROM tiktok_daily_sales ORDER BY day"
            ).all()
        ((days_ago, *amounts),) = row
        assert isinstance(days_ago, int) and days_ago > 300  # the factories' orders are old
        # 0.1 + 0.1 + 0.1 and 0.30 - 0.20 are 0.30000000000000004 and 0.09999999999999998
        # in float arithmetic.
        assert [Decimal(repr(v)) if isinstance(v, float) else v for v in amounts] == [
            Decimal("0.3"),
            Decimal("0.2"),
            Decimal("0.1"),
        ]

        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0001")
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), "0001")
        view_columns = {c["name"] for c in sa.inspect(engine).get_columns("tiktok_daily_sales")}
        assert "days_ago" not in view_columns and "refunds" in view_columns
    finally:
        engine.dispose()
