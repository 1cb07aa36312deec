"""A backfill while TikTok misbehaves (throttling, outages, HTML error pages, "internal error,
retry", answers too slow to wait for, dropped connections) lands exactly what a backfill on a
good day lands, and its ledger says every window succeeded."""

from __future__ import annotations

from collections import Counter

import pytest

from tiktok_pipeline.defs.ingestion.entities import ENTITIES
from tiktok_pipeline_tests.test_defs.conftest import day_key
from tiktok_pipeline_tests.test_faults.helpers import (
    FIRST_DAY,
    LAST_DAY,
    ON_BOTH_DATABASES,
    ledger_matches_tables,
    ledger_rows,
    received,
    run_sync,
    table_contents,
    tiktok_config,
)

#: About 15 % of calls fail, each kind in turn; slow answers take longer than the read timeout.
FAULTS = {
    "drop_share": 0.03,
    "slow_share": 0.03,
    "slow_seconds": 2.5,
    "error_503_share": 0.03,
    "error_429_share": 0.03,
    "internal_error_share": 0.03,
}
#: Quick retries so the suite stays fast; enough attempts that 15 % faults never exhaust them.
FAST_RETRIES = tiktok_config(max_attempts=8, retry_initial_delay=0.05, read_timeout=1.0)
#: The backfill in two single-run ranges: outages answer with TikTok's JSON envelope in the
#: first, with a bare HTML page (as a load balancer would) in the second.
RANGES = ((FIRST_DAY, day_key(3), "json"), (day_key(2), LAST_DAY, "html"))


@ON_BOTH_DATABASES
@pytest.mark.slow
def test_a_backfill_under_faults_lands_what_a_clean_backfill_lands(
    backend, sandbox, clean_backfill, new_database, use_database, instance
):
    clean = clean_backfill(backend)
    _, warehouse = use_database(new_database())
    sandbox.control.reset_stats()
    for first, last, page in RANGES:
        # Setting faults restarts their random sequence: each range meets the same faults.
        sandbox.control.set_faults(**FAULTS, error_503_body=page)
        result = run_sync(instance, first, last, FAST_RETRIES)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
    sandbox.control.clear_faults()
    stats = sandbox.control.stats()
    injected = Counter(stats["faults"])

    # Every kind of fault happened, about one call in seven failed ...
    assert set(injected) == {"drop", "slow", "503", "429", "internal"}, injected
    assert 0.08 < sum(injected.values()) / stats["total_requests"] < 0.3, stats
    # ... and yet every table holds the same rows, column for column, as after a clean run.
    landed = table_contents(warehouse.engine)
    assert all(clean.tables.values()), {k: len(v) for k, v in clean.tables.items()}
    for name, rows in clean.tables.items():
        assert landed[name] == rows, name

    # The ledger: one successful sync per shop, entity and day, each with the right count.
    ledger = ledger_rows(warehouse.engine)
    assert {r["status"] for r in ledger} == {"success"}
    assert received(warehouse.engine) == clean.received
    assert len(ledger) == len(clean.received) == len(sandbox.shops) * len(ENTITIES) * 4
    assert ledger_matches_tables(warehouse.engine) == []
