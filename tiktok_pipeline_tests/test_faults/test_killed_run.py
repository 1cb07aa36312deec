"""A sync run killed with SIGKILL in the middle of writing leaves no half-written window, and
running the same days again ends exactly where a run that was never interrupted ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tiktok_pipeline.db import is_sqlite
from tiktok_pipeline_tests.test_faults.helpers import (
    FIRST_DAY,
    LAST_DAY,
    ON_BOTH_DATABASES,
    SYNCED_TABLES,
    ledger_matches_tables,
    received,
    run_sync,
    table_contents,
)

ROOT = Path(__file__).resolve().parents[2]


def _successful_windows(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM tiktok_sync_ledger WHERE status = 'success'")
        ).scalar_one()


def _writing_sync_tables(engine: sa.Engine, admin: sa.Engine | None) -> bool:
    """True while another process holds uncommitted writes to the synced tables (Postgres)."""
    if admin is None:
        return True  # SQLite writes a window in one short transaction: any moment will do
    with admin.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = :db) "
                    "AND l.mode = 'RowExclusiveLock' AND l.granted "
                    "AND l.pid <> pg_backend_pid() AND c.relname = ANY(:tables)"
                ),
                {"db": engine.url.database, "tables": [t.name for t in SYNCED_TABLES]},
            ).scalar_one()
        )


def _wait_for_exit_of_connections(engine: sa.Engine, admin: sa.Engine | None) -> None:
    """Postgres notices the dead client and rolls its transactions back; wait for that."""
    if admin is None:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with admin.connect() as connection:
            left = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                ),
                {"db": engine.url.database},
            ).scalar_one()
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError("Postgres never rolled back the killed run's transactions")


@ON_BOTH_DATABASES
@pytest.mark.slow
def test_a_run_killed_mid_write_then_rerun_equals_a_clean_run(
    backend, sandbox, clean_backfill, new_database, use_database, tmp_path
):
    clean = clean_backfill(backend)
    _, warehouse = use_database(new_database())
    engine = warehouse.engine
    admin = None if is_sqlite(engine) else sa.create_engine(engine.url, poolclass=sa.NullPool)
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Each call takes a while, so the run is still writing when it is killed: on Postgres,
    # while it holds written, uncommitted rows of a window whose next page is on its way.
    sandbox.control.set_faults(latency_ms=250)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiktok_pipeline_tests.test_faults.sync_worker",
            FIRST_DAY,
            LAST_DAY,
        ],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        start_new_session=True,  # its own process group: the kill reaches all of it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while not (_successful_windows(engine) and _writing_sync_tables(engine, admin)):
            assert worker.poll() is None, worker.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no window was committed in 90 s"
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        worker.stderr.close()
    sandbox.control.clear_faults()
    assert worker.returncode == -signal.SIGKILL
    _wait_for_exit_of_connections(engine, admin)
    if admin is not None:
        admin.dispose()

    # The run died part way: the windows it committed are whole, the rest left nothing.
    done = received(engine)
    assert 0 < len(done) < len(clean.received)
    assert ledger_matches_tables(engine) == []

    # Running the same days again (the next run of a backfill) finishes the job.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert run_sync(instance, FIRST_DAY, LAST_DAY).success
    landed = table_contents(engine)
    for name, rows in clean.tables.items():
        assert landed[name] == rows, name
    assert received(engine) == clean.received
    assert ledger_matches_tables(engine) == []
