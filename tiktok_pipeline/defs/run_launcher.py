"""Dagster's default run launcher, plus the health check that run monitoring needs locally.

``DefaultRunLauncher`` (a run worker process per run, next to the code server) cannot say whether
a run's process is still alive, so Dagster's run monitoring never notices a run whose process
died (killed, out of memory, a laptop put to sleep too long): it stays STARTED forever in
``make dev``'s instance, holding its concurrency slots. :class:`LocalRunLauncher` answers the
health check from the process id the run worker records when it starts, which works when the
daemon and the runs share a machine, as in ``make dev`` and a single-host deployment. Kubernetes
and Docker deployments use their own launchers, which have this check built in.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, killed but not yet reaped, is not alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # The state follows the command name in parentheses, which may itself hold spaces.
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): the signal check above is all there is


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process id the run's worker recorded when it started (the latest one), if any."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        metadata = data.metadata if data else {}
        pid = metadata.get("pid")
        if pid is not None and isinstance(pid.value, int | str):
            return int(pid.value)
    return None


class LocalRunLauncher(DefaultRunLauncher):
    """:class:`~dagster._core.launcher.DefaultRunLauncher` whose runs run monitoring can check.

    Use it in ``dagster.yaml`` with ``run_monitoring: {enabled: true}``::

        run_launcher:
          module: tiktok_pipeline.defs.run_launcher
          class: LocalRunLauncher
    """

    @property
    def supports_check_run_worker_health(self) -> bool:
        """Yes: from the run worker's process id (same machine)."""
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        """RUNNING while the run's worker process lives (or has not started yet), else FAILED."""
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run worker has not started")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's worker process {pid} is gone (killed, or it crashed) while the run was "
            "still in progress",
            run_worker_id=str(pid),
        )
