"""A sync run in a process of its own (a test kills it mid-write).

Usage: ``python -m tiktok_pipeline_tests.test_faults.sync_worker FIRST_DAY LAST_DAY``; the
database, the app and the sandbox come from the environment, the Dagster instance from
``DAGSTER_HOME``.
"""

from __future__ import annotations

import sys

import dagster as dg

from tiktok_pipeline_tests.test_faults.helpers import run_sync


def main(first: str, last: str) -> int:
    """Runs the sync job over ``first``..``last``; 0 when it succeeded."""
    with dg.DagsterInstance.get() as instance:
        return 0 if run_sync(instance, first, last).success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
