"""The production setup end to end on the real Postgres: `tiktok-pipeline db upgrade`, then a
materialization with the `dagster` CLI through the repository's dagster.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, DagsterRunStatus

from tiktok_pipeline.store import Store
from tiktok_pipeline_tests.test_defs.conftest import authorize_seller, day_key

ROOT = Path(__file__).resolve().parents[2]
DAY = day_key(2)

pytestmark = pytest.mark.postgres


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_materialization_through_the_production_dagster_yaml(sandbox, postgres_url, tmp_path):
    # Dagster's storage and ours share one fresh database here: the tables do not collide.
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": postgres_url,
        "TIKTOK_DATABASE_URL": postgres_url,
        "TIKTOK_APP_KEY": sandbox.config.app_key,
        "TIKTOK_APP_SECRET": sandbox.config.app_secret,
        "TIKTOK_API_BASE_URL": sandbox.base_url,
        "TIKTOK_AUTH_BASE_URL": sandbox.base_url,
    }
    bin_dir = Path(sys.executable).parent

    upgrade = _cli([str(bin_dir / "tiktok-pipeline"), "db", "upgrade"], env, tmp_path)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "store:" in upgrade.stdout and "warehouse:" in upgrade.stdout

    shop_ids = authorize_seller(sandbox, Store.from_url(postgres_url))

    materialize = _cli(
        [
            str(bin_dir / "dagster"),
            "asset",
            "materialize",
            "-m",
            "tiktok_pipeline.definitions",
            "--select",
            "tiktok_orders,tiktok_order_line_items",
            "--partition",
            DAY,
        ],
        env,
        tmp_path,
    )
    assert materialize.returncode == 0, materialize.stderr[-4000:]

    os.environ["DAGSTER_PG_URL"] = postgres_url
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            runs = instance.get_runs()
            assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS]
            assert runs[0].tags["dagster/partition"] == DAY
    finally:
        del os.environ["DAGSTER_PG_URL"]

    truth = {
        order["id"]
        for shop_id in shop_ids
        for order in sandbox.control.truth(
            "orders",
            shop_id,
            **{"update_time_ge": _epoch(DAY), "update_time_lt": _epoch(DAY) + 86400},
        )
    }
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        landed = set(connection.execute(sa.text("SELECT id FROM tiktok_orders")).scalars())
    engine.dispose()
    assert landed == truth and truth


def _epoch(day: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
