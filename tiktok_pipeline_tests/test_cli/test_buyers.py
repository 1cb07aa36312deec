"""``tiktok-pipeline buyers purge``: one buyer's personal data leaves every order, only theirs.

Runs the command's ``main()`` (and once the installed console script) on SQLite and Postgres.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tiktok_pipeline import cli
from tiktok_pipeline.warehouse import ORDER_TABLES, Warehouse, schema
from tiktok_pipeline_tests.test_warehouse import factories

SHOP = "7000714532876273420"
BUYER = "7494582356417495306"
OTHER_BUYER = "7494582356417490001"
#: The buyer's personal data as TikTok sends it, per order.
PERSONAL = [
    ("Maria Gonzalez", "(+1)213-***-4821", "mgz4821@scs.tiktokw.us", "18 Ocean Avenue"),
    ("Maria G.", "(+1)213-***-4822", "mgz4822@scs.tiktokw.us", "20 Ocean Avenue"),
]
OTHER = ("Peter Okafor", "(+1)646-***-9911", "pok9911@scs.tiktokw.us", "7 Hudson Street")


def _order(
    order_id: str, buyer: str, personal: tuple[str, str, str, str], status: str = "IN_TRANSIT"
) -> dict:
    name, phone, email, street = personal
    data = factories.order(order_id, user_id=buyer, buyer_email=email, status=status)
    data["buyer_message"] = f"Please call {name} at {phone}"
    address = data["recipient_address"]
    address.update(
        name=name,
        phone_number=phone,
        address_line1=street,
        full_address=f"{street}, Los Angeles, CA 90001, US",
    )
    return data


@pytest.fixture
def warehouse(database_url: str) -> Warehouse:
    wh = Warehouse.from_url(database_url, upgrade=True)
    orders = [_order(f"57700000000000000{i}", BUYER, p) for i, p in enumerate(PERSONAL)]
    # Completed in 2024: past the default retention of 90 days.
    orders.append(_order("577000000000000009", OTHER_BUYER, OTHER, status="COMPLETED"))
    wh.load(ORDER_TABLES, SHOP, orders)
    return wh


def _everything(wh: Warehouse) -> str:
    """Every row of every warehouse table, as one text."""
    rows = []
    with wh.engine.connect() as connection:
        for table in schema.TABLES.values():
            rows += [dict(r) for r in connection.execute(sa.select(table)).mappings()]
    return json.dumps(rows, default=str, ensure_ascii=False)


def _totals(wh: Warehouse) -> tuple:
    orders = schema.orders
    with wh.engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count(), sa.func.sum(orders.c.total_amount))).one()
        )


def test_purge_removes_one_buyers_data_and_prints_counts(
    warehouse: Warehouse, database_url: str, capsys
) -> None:
    totals = _totals(warehouse)
    before = _everything(warehouse)
    assert all(value in before for personal in (*PERSONAL, OTHER) for value in personal)

    code = cli.main(["buyers", "purge", "--buyer-user-id", BUYER, "--url", database_url])

    out = capsys.readouterr().out
    assert code == 0
    assert f"buyer {BUYER}: removed the personal data of 2 order(s)" in out
    lines = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.strip()}
    assert lines["tiktok_orders"] == "2"
    assert lines["tiktok_order_line_items"] == "0"
    assert lines["tiktok_returns"] == "0"
    after = _everything(warehouse)
    assert [v for personal in PERSONAL for v in personal if v in after] == []
    assert all(value in after for value in OTHER)  # the other buyer keeps theirs
    assert BUYER in after  # the pseudonymous id stays, for repeat-buyer figures
    assert _totals(warehouse) == totals

    assert cli.main(["buyers", "purge", "--buyer-user-id", BUYER, "--url", database_url]) == 0
    assert "2 order(s) had been purged before" in capsys.readouterr().out


def test_dry_run_and_json_change_nothing(warehouse: Warehouse, database_url: str, capsys) -> None:
    before = _everything(warehouse)
    args = ["buyers", "purge", "--buyer-user-id", BUYER, "--dry-run", "--json"]

    assert cli.main([*args, "--url", database_url]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert printed["dry_run"] is True and printed["tables"]["tiktok_orders"] == 2
    assert _everything(warehouse) == before


def test_a_bad_buyer_id_exits_2_with_a_clear_message(
    warehouse: Warehouse, database_url: str, tmp_path: Path
) -> None:
    before = _everything(warehouse)
    env = {**os.environ, "TIKTOK_WAREHOUSE_URL": database_url, "TIKTOK_DATA_DIR": str(tmp_path)}

    done = subprocess.run(
        [sys.executable, "-m", "tiktok_pipeline.cli", "buyers", "purge", "--buyer-user-id", "ab"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

    assert done.returncode == 2
    assert "'ab' is not a TikTok buyer user_id" in done.stderr
    assert "Traceback" not in done.stderr
    assert _everything(warehouse) == before


def test_an_unknown_buyer_is_reported_not_an_error(
    warehouse: Warehouse, database_url: str, capsys
) -> None:
    args = ["buyers", "purge", "--buyer-user-id", "1234567", "--url", database_url]

    assert cli.main(args) == 0
    assert "no order in" in capsys.readouterr().out


def test_purge_expired_runs_the_retention_purge_now(
    warehouse: Warehouse, database_url: str, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("TIKTOK_BUYER_DATA_RETENTION_DAYS", raising=False)

    assert cli.main(["buyers", "purge-expired", "--url", database_url]) == 0

    out = capsys.readouterr().out
    assert "purged the buyer data of 1 order(s) completed or cancelled before" in out
    assert "(retention 90 days)" in out
    after = _everything(warehouse)
    assert [v for v in OTHER if v in after] == []
    assert all(value in after for personal in PERSONAL for value in personal)  # still open


def test_purge_expired_refuses_when_retention_is_off(
    warehouse: Warehouse, database_url: str, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("TIKTOK_BUYER_DATA_RETENTION_DAYS", "off")

    assert cli.main(["buyers", "purge-expired", "--url", database_url]) == 2
    assert "TIKTOK_BUYER_DATA_RETENTION_DAYS is off" in capsys.readouterr().err
