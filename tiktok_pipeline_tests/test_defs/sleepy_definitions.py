"""A code location for the run monitoring test: one job whose only step holds a pool slot."""

import time

import dagster as dg


@dg.op(pool="monitored")
def hold_the_slot() -> None:
    """Sleep long enough to be killed while holding the pool's only slot."""
    time.sleep(300)


@dg.job(executor_def=dg.in_process_executor)
def sleepy() -> None:
    """One op that sleeps in pool ``monitored``."""
    hold_the_slot()


defs = dg.Definitions(jobs=[sleepy])
