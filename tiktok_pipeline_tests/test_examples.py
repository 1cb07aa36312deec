"""The examples in ``examples/`` run as a user runs them, and print what they promise.

Each runs in its own Python process from the project's folder, against the sandbox it starts,
with none of the TikTok variables of the test environment.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tiktok_pipeline.config import sqlite_url

PROJECT = Path(__file__).resolve().parents[1]


def run_example(name: str, **env: str) -> list[str]:
    """Run ``examples/<name>``; its standard output, line by line (fails on a non-zero exit)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DAGSTER_"))}
    finished = subprocess.run(
        [sys.executable, str(PROJECT / "examples" / name)],
        cwd=PROJECT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout.splitlines()


def test_client_call_lists_the_orders_of_the_last_day() -> None:
    header, *orders = run_example("client_call.py")

    found = re.fullmatch(r"shop (\d{19}) \((.+)\): (\d+) orders updated in 24 h", header)
    assert found, header
    assert int(found[3]) > 5
    assert len(orders) == 5  # one page of five
    order = re.compile(
        r"  (\d{18})  ([A-Z_]+) +updated \d{4}-\d\d-\d\d \d\d:\d\d UTC  \d+\.\d\d [A-Z]{3}"
    )
    matches = [order.fullmatch(line) for line in orders]
    assert all(matches), orders
    assert len({m[1] for m in matches if m}) == 5  # five different orders


@pytest.mark.slow
def test_materialize_one_day_lands_the_orders_it_reports(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "example.db")

    summary, *shops, where = run_example("materialize_one_day.py", TIKTOK_DATABASE_URL=url)

    assert re.fullmatch(r"\d{4}-\d\d-\d\d: run succeeded for 2 shop\(s\)", summary), summary
    assert where == f"warehouse: {url}"
    day = summary[:10]
    line = re.compile(r"  shop (\d{19}): (\d+) orders, \d+\.\d\d [A-Z]{3} in total")
    printed = {m[1]: int(m[2]) for m in map(line.fullmatch, shops) if m}
    assert len(printed) == len(shops) == 2, shops
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            landed: dict[str, int] = dict(
                connection.execute(
                    sa.text("SELECT shop_id, COUNT(*) FROM tiktok_orders GROUP BY shop_id")
                ).all()
            )
            ledger = connection.execute(
                sa.text("SELECT DISTINCT entity, partition_key, status FROM tiktok_sync_ledger")
            ).all()
    finally:
        engine.dispose()
    assert landed == printed
    assert all(count > 0 for count in landed.values())
    assert {tuple(row) for row in ledger} == {("orders", day, "success")}
