"""The warehouse database goes away mid-run (a restart, a network cut): a short outage delays
the run and changes nothing; a longer one fails the windows it caught, records them as failed
once the database is back, logs one error per window, and a rerun repairs them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline_tests.test_faults.helpers import (
    FIRST_DAY,
    LAST_DAY,
    ledger_matches_tables,
    ledger_rows,
    run_sync,
    table_contents,
)
from tiktok_pipeline_tests.test_faults.tcp_proxy import OutageProxy

ON_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)]
)
SYNC_LOGGER = "tiktok_pipeline.defs.ingestion.sync"


def _through_proxy(url: str) -> tuple[str, OutageProxy]:
    """``url`` rewritten to reach its server through a new :class:`OutageProxy`."""
    parsed = sa.make_url(url)
    proxy = OutageProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    return parsed.set(port=proxy.port).render_as_string(hide_password=False), proxy


def _retry_budget(seconds: float) -> dict:
    return {
        "ops": {
            f"sync_{entity}": {"config": {"database_retry_seconds": seconds}} for entity in ENTITIES
        }
    }


def _run_with_outage(instance, database: ProxiedDatabase, outage: float, config):
    """Runs the sync in a thread; once a window has landed, the database goes away for
    ``outage`` seconds. Returns the run's result."""
    outcome: dict = {}
    run = threading.Thread(
        target=lambda: outcome.update(result=run_sync(instance, FIRST_DAY, LAST_DAY, config))
    )
    run.start()
    try:
        for _ in range(600):
            with database.direct.connect() as connection:
                landed = connection.execute(sa.text("SELECT count(*) FROM tiktok_sync_ledger"))
                if landed.scalar_one():
                    break
            threading.Event().wait(0.05)
        database.proxy.outage(outage)
    finally:
        run.join(timeout=300)
    return outcome["result"]


@dataclass
class ProxiedDatabase:
    """A fresh database the definitions reach through an :class:`OutageProxy`."""

    direct: sa.Engine
    proxy: OutageProxy


@pytest.fixture
def proxied(sandbox, new_database, use_database) -> Iterator[ProxiedDatabase]:
    """A fresh Postgres database used through a proxy; TikTok answers in 300 ms, so that
    windows are in flight when an outage starts."""
    direct_url = new_database()
    url, proxy = _through_proxy(direct_url)
    direct = sa.create_engine(direct_url)
    use_database(url)
    sandbox.control.set_faults(latency_ms=300)
    yield ProxiedDatabase(direct, proxy)
    proxy.close()
    direct.dispose()


@ON_POSTGRES
@pytest.mark.slow
def test_a_short_warehouse_outage_delays_the_run_and_changes_nothing(
    backend, clean_backfill, proxied, instance, caplog
):
    with caplog.at_level(logging.INFO, logger=SYNC_LOGGER):
        result = _run_with_outage(instance, proxied, outage=8, config=_retry_budget(90))

    assert result.success, [e.message for e in result.all_events if e.is_failure]
    retried = [r for r in caplog.records if "trying the window again" in r.getMessage()]
    assert retried, "the outage caught no window: the test proved nothing"
    assert table_contents(proxied.direct) == clean_backfill(backend).tables
    assert {row["status"] for row in ledger_rows(proxied.direct)} == {"success"}
    assert ledger_matches_tables(proxied.direct) == []


@ON_POSTGRES
@pytest.mark.slow
def test_a_longer_outage_fails_its_windows_records_them_and_a_rerun_repairs_them(
    backend, sandbox, clean_backfill, proxied, instance, caplog
):
    with caplog.at_level(logging.INFO, logger=SYNC_LOGGER):
        failed_run = _run_with_outage(instance, proxied, outage=6, config=_retry_budget(2))

    assert not failed_run.success
    failed = [row for row in ledger_rows(proxied.direct) if row["status"] == "failed"]
    assert failed, "no window was recorded as failed once the database was back"
    # The driver's words for a refused or cut connection, never the statement.
    assert all(
        row["error"].startswith(("OperationalError: ", "InterfaceError: ")) for row in failed
    ), [row["error"] for row in failed]
    assert not any("SELECT" in row["error"] or "INSERT" in row["error"] for row in failed)
    errors = [r for r in caplog.records if r.name == SYNC_LOGGER and r.levelno >= logging.ERROR]
    # One clear line per failed window, no tracebacks.
    assert len(errors) == len(failed), [r.getMessage() for r in errors]
    assert all(r.exc_info is None for r in errors)
    assert all("warehouse database was unreachable" in r.getMessage() for r in errors)

    sandbox.control.clear_faults()
    assert run_sync(instance, FIRST_DAY, LAST_DAY).success
    assert table_contents(proxied.direct) == clean_backfill(backend).tables
    assert ledger_matches_tables(proxied.direct) == []
