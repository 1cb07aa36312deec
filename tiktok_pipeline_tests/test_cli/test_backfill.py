"""`tiktok-pipeline backfill` as a user types it: a real Dagster backfill in the instance of
DAGSTER_HOME, followed with --wait while a real `dagster-daemon run` executes it against the
sandbox, and clear refusals of bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from tiktok_pipeline.client import TikTokShopClient
from tiktok_pipeline.config import sqlite_url
from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline.lifecycle import connect_seller
from tiktok_pipeline.sandbox import SandboxConfig, run_sandbox
from tiktok_pipeline.store import Store
from tiktok_pipeline.warehouse import Warehouse

BIN = Path(sys.executable).parent
MODULE = "tiktok_pipeline.definitions"
#: The sandbox's data ends here (00:00 UTC today); its clock stands still at this moment.
ANCHOR = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
#: Schedules that cannot fire while the tests run, so that only the backfills make runs.
NEVER = "0 0 1 1 *"
INSTANCE_YAML = """\
concurrency:
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def day(days_before_anchor: int) -> str:
    """The partition key of a day before the anchor."""
    return (ANCHOR - timedelta(days=days_before_anchor)).date().isoformat()


@dataclass
class Site:
    """A store with three connected sandbox shops, and the environment of every command."""

    root: Path
    database: Path
    env: dict[str, str]
    shops: list[str]
    open_ids: list[str]


@pytest.fixture(scope="module")
def sandbox():
    config = SandboxConfig(
        seed=5,
        sellers=3,
        shops=3,
        orders_per_shop=150,
        products_per_shop=8,
        days=6,
        anchor=int(ANCHOR.timestamp()),
        frozen_clock=True,
        return_every=4,
    )
    with run_sandbox(config) as running:
        yield running


@pytest.fixture(scope="module")
def site(sandbox, tmp_path_factory) -> Site:
    """Shops 0 and 1 active, shop 2 needing re-authorization; Dagster storage not yet chosen."""
    root = tmp_path_factory.mktemp("backfill")
    database = root / "tiktok.db"
    store = Store.from_url(sqlite_url(database), upgrade=True)
    Warehouse.from_url(sqlite_url(database), upgrade=True)
    client = TikTokShopClient(
        sandbox.config.app_key,
        sandbox.config.app_secret,
        base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    shops: list[str] = []
    open_ids: list[str] = []
    for seller in sandbox.sellers:
        _, connected = connect_seller(client, store, sandbox.authorize(seller.open_id))
        shops.extend(shop.id for shop in connected)
        open_ids.append(seller.open_id)
    store.tokens.set_shop_status(shops[2], "needs_reauth", "test: token revoked")
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DAGSTER_"))}
    env.update(
        {
            "TIKTOK_APP_KEY": sandbox.config.app_key,
            "TIKTOK_APP_SECRET": sandbox.config.app_secret,
            "TIKTOK_API_BASE_URL": sandbox.base_url,
            "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
            "TIKTOK_DATABASE_URL": sqlite_url(database),
            "TIKTOK_WEBHOOK_SENSOR_SECONDS": "3600",
            **{
                name: NEVER
                for name in (
                    "TIKTOK_SYNC_CRON",
                    "TIKTOK_LATE_UPDATES_CRON",
                    "TIKTOK_REFRESH_CRON",
                    "TIKTOK_FLUSH_CRON",
                    "TIKTOK_TOKENS_CHECK_CRON",
                )
            },
        }
    )
    return Site(root, database, env, shops, open_ids)


def _dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text(INSTANCE_YAML)
    return path


@pytest.fixture
def home(tmp_path) -> Path:
    """A fresh instance that no daemon serves."""
    return _dagster_home(tmp_path / "dagster_home")


def _cli(site: Site, home: Path | None, *args: str, timeout: float = 180, **variables: str):
    env = {**site.env, **variables}
    if home is not None:
        env["DAGSTER_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "tiktok_pipeline.cli", "backfill", *args],
        env=env,
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _backfills(home: Path) -> list:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        return list(instance.get_backfills())
    finally:
        instance.dispose()


def _targeted(backfill) -> dict[str, list[str]]:
    from tiktok_pipeline.definitions import defs

    data = backfill.get_asset_backfill_data(defs().resolve_asset_graph())
    return {
        key.to_user_string(): list(subset.get_partition_keys())
        for key, subset in data.target_subset.partitions_subsets_by_asset_key.items()
    }


def test_backfill_appears_in_the_instance_with_the_range_and_the_shops(site, home):
    shops = site.shops[:2]
    result = _cli(
        site,
        home,
        "orders",
        "--from",
        day(5),
        "--to",
        day(1),
        "--shop",
        shops[0],
        "--shop",
        f"{shops[1]},{shops[0]}",
        "--ui-url",
        "http://dagster.example:3333/",
    )
    assert result.returncode == 0, result.stderr
    [backfill] = _backfills(home)
    assert f"http://dagster.example:3333/runs/b/{backfill.backfill_id}" in result.stdout
    assert backfill.status.value == "REQUESTED"
    days = [day(n) for n in (5, 4, 3, 2, 1)]
    assert _targeted(backfill) == {"tiktok_orders": days, "tiktok_order_line_items": days}
    assert backfill.run_config == {"ops": {"sync_orders": {"config": {"shops": shops}}}}
    assert backfill.tags["tiktok/shops"] == ",".join(shops)
    # Nothing serves this instance: the command says what to start.
    assert "no dagster-daemon serves" in result.stderr
    assert "dagster-daemon run" in result.stderr


def test_all_entities_of_every_shop_and_wait_without_a_daemon_times_out(site, home):
    result = _cli(
        site,
        home,
        "all",
        "--from",
        day(2),
        "--to",
        day(2),
        "--wait",
        "--poll-seconds",
        "1",
        "--timeout",
        "4s",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    [backfill] = _backfills(home)
    assert set(_targeted(backfill)) == {
        table for entity in ENTITIES.values() for table in entity.tables
    }
    assert {"tiktok_orders", "tiktok_statements", "tiktok_cancellations"} <= set(
        _targeted(backfill)
    )
    assert not backfill.run_config
    assert "tiktok/shops" not in backfill.tags
    assert "orders 0/1 done" in result.stdout
    assert "no dagster-daemon serves" in result.stderr
    assert "--timeout passed" in result.stderr


#: The parent table of each entity, whose rows the successful backfill must land.
LANDED = {"orders": "tiktok_orders", "products": "tiktok_products", "returns": "tiktok_returns"}
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
BAD_INPUT = {
    "unknown entity": (["refunds", "--from", "2025-01-01", "--to", "2025-01-02"], "'refunds'"),
    "not a date": (["orders", "--from", "2025-1-1", "--to", "2025-01-02"], "YYYY-MM-DD"),
    "no such day": (["orders", "--from", "2025-02-30", "--to", "2025-03-02"], "is not a day"),
    "reversed": (["orders", "--from", "2025-02-03", "--to", "2025-01-02"], "is after --to"),
    "before history": (["orders", "--from", "2022-12-31", "--to", "2023-01-02"], "2023-01-01"),
    "after today": (["orders", "--from", "2025-01-01", "--to", TOMORROW], "last partition"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_refused_with_what_to_do(site, home, case):
    args, expected = BAD_INPUT[case]
    result = _cli(site, home, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert _backfills(home) == []


def test_unknown_or_disconnected_shops_or_none_at_all_are_refused(site, home):
    unknown = _cli(site, home, "orders", "--from", day(2), "--to", day(1), "--shop", "999")
    assert unknown.returncode == 2
    assert "no shop 999 in the store" in unknown.stderr
    assert site.shops[0] in unknown.stderr  # the known shops are listed
    disconnected = _cli(
        site, home, "orders", "--from", day(2), "--to", day(1), "--shop", site.shops[2]
    )
    assert disconnected.returncode == 2
    assert f"{site.shops[2]} is needs_reauth" in disconnected.stderr
    assert "/tiktok/seller/authorize" in disconnected.stderr
    empty_store = sqlite_url(home.parent / "empty.db")
    nobody = _cli(
        site, home, "all", "--from", day(2), "--to", day(1), TIKTOK_DATABASE_URL=empty_store
    )
    assert nobody.returncode == 2
    assert "no active shop in the store" in nobody.stderr
    assert _backfills(home) == []


def test_dagster_home_is_required(site):
    result = _cli(site, None, "orders", "--from", day(2), "--to", day(1))
    assert result.returncode == 2
    assert "DAGSTER_HOME is not set" in result.stderr


@pytest.fixture(scope="module")
def daemon(site):
    """A real `dagster-daemon run` on the project's code location, with its own instance.

    The new-shop sensor is stopped first, as an operator would, so that only the backfills
    under test make runs.
    """
    home = _dagster_home(site.root / "daemon_home")
    env = {**site.env, "DAGSTER_HOME": str(home)}
    stop = subprocess.run(
        [str(BIN / "dagster"), "sensor", "stop", "tiktok_new_shop_history_sensor", "-m", MODULE],
        env=env,
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert stop.returncode == 0, stop.stdout + stop.stderr
    log_path = site.root / "daemon.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-m", MODULE],
            env=env,
            cwd=site.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield home
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        print(log_path.read_text()[-3000:])


@pytest.mark.slow
def test_wait_fails_naming_the_failed_run_when_the_seller_revoked_access(site, sandbox, daemon):
    shop = site.shops[1]
    sandbox.control.deauthorize(site.open_ids[1])
    result = _cli(
        site,
        daemon,
        "orders",
        "--from",
        day(3),
        "--to",
        day(2),
        "--shop",
        shop,
        "--wait",
        "--poll-seconds",
        "2",
        "--timeout",
        "5m",
        timeout=400,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    backfill = next(b for b in _backfills(daemon) if b.backfill_id in result.stdout)
    assert backfill.status.value == "COMPLETED_FAILED"
    instance = dg.DagsterInstance.from_config(str(daemon))
    try:
        [run] = instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill.backfill_id))
    finally:
        instance.dispose()
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert run.tags["tiktok/shops"] == shop
    assert f"backfill {backfill.backfill_id} failed" in result.stderr
    assert f"failed partitions {day(3)}..{day(2)}" in result.stderr
    assert f"run {run.run_id}" in result.stderr
    assert f"failed to sync orders: {shop}" in result.stderr
    # TikTok refused the revoked token (105001); the refresh then found the refresh token dead.
    assert "RefreshTokenInvalid" in result.stderr
    assert sandbox.config.app_secret not in result.stdout + result.stderr


@pytest.mark.slow
def test_wait_succeeds_and_the_rows_land_in_the_warehouse(site, sandbox, daemon):
    shop = site.shops[0]
    result = _cli(
        site,
        daemon,
        "all",
        "--from",
        day(2),
        "--to",
        day(1),
        "--shop",
        shop,
        "--wait",
        "--poll-seconds",
        "2",
        "--timeout",
        "5m",
        timeout=400,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded: every partition materialized" in result.stdout
    assert "orders 2/2 done" in result.stdout
    start = int((ANCHOR - timedelta(days=2)).timestamp())
    end = int(ANCHOR.timestamp())
    truth = sandbox.control.counts(shop, update_time_ge=start, update_time_lt=end)
    with sqlite3.connect(site.database) as connection:
        landed = {
            table: connection.execute(
                "SELECT count(*), min(update_time), max(update_time) FROM "
                + relation
                + " WHERE shop_id = ?",
                (shop,),
            ).fetchone()
            for table, relation in LANDED.items()
        }
        other_shops = connection.execute(
            "SELECT count(*) FROM tiktok_orders WHERE shop_id != ?", (shop,)
        ).fetchone()[0]
    assert truth["orders"] > 0 and truth["products"] > 0 and truth["returns"] > 0
    for table in ("orders", "products", "returns"):
        count, first, last = landed[table]
        assert count == truth[table], (table, landed[table], truth)
        if count:
            assert start <= first and last < end
    assert other_shops == 0  # --shop kept the other shops out
