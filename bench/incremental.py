"""The 15-minute schedule's run under ``make dev``: from the tick to the committed rows.

Starts ``tiktok-pipeline dev`` (the sandbox with 2 shops, the web service and ``dagster dev``
with its daemon, all on SQLite in a temporary folder) with ``TIKTOK_SYNC_CRON="* * * * *"``, so
that ``tiktok_incremental_schedule`` ticks every minute instead of every 15. Waits until the
new-shop sensor's history runs are done (as after the first minutes of ``make dev``), then follows
``--ticks`` runs of the schedule and prints, for each, from the tick's scheduled time:

- tick -> run start: the scheduler daemon's tick, the run queue, the run launch and the run
  worker loading the code location (``RUN_START``);
- run start -> rows committed: until the last ledger row of the run (each ledger row commits
  with the rows of its (shop, entity, day) window);
- total (tick -> rows committed), and the run's end (checks included).

``--executor multiprocess`` serves the same definitions with Dagster's multiprocess executor (a
process per step) for comparison: ``dagster dev`` then loads ``multiprocess_definitions`` below.
``--dequeue-interval-seconds N`` adds ``run_queue: dequeue_interval_seconds: N`` to the dev
instance (Dagster checks its run queue every 5 seconds by default).

    .venv/bin/python -m bench.incremental [--ticks 3] [--executor multiprocess]
        [--dequeue-interval-seconds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from bench._harness import ROOT, ProcessTreeSampler, free_port

SCHEDULE = "tiktok_incremental_schedule"
TARGET_SECONDS = 15.0
#: Replaces ``-m tiktok_pipeline.definitions`` in the ``dagster dev`` command of the dev CLI.
MULTIPROCESS_TARGET = ["-m", "bench.incremental", "-a", "multiprocess_definitions", "-d", str(ROOT)]


@dg.definitions
def multiprocess_definitions() -> dg.Definitions:
    """The project's definitions with a process per step (what the sync jobs used before)."""
    from tiktok_pipeline.definitions import defs

    project = defs()
    return dg.Definitions(
        assets=project.assets,
        asset_checks=project.asset_checks,
        jobs=project.jobs,
        schedules=project.schedules,
        sensors=project.sensors,
        resources=project.resources,
        executor=dg.multiprocess_executor,
    )


def _serve_dev(dev_args: list[str]) -> int:
    """``tiktok-pipeline dev`` with the variant the environment asks for.

    ``BENCH_EXECUTOR=multiprocess``: ``dagster dev`` loads :func:`multiprocess_definitions`.
    ``BENCH_DEQUEUE_INTERVAL_SECONDS=N``: the dev instance's run queue is checked every N
    seconds (Dagster's default is 5).
    """
    from tiktok_pipeline.cli import dev

    if os.environ.get("BENCH_EXECUTOR") == "multiprocess":

        class MultiprocessServices(dev.Services):
            def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
                if name == "dagster dev":
                    at = command.index("tiktok_pipeline.definitions")
                    command = [*command[: at - 1], *MULTIPROCESS_TARGET, *command[at + 1 :]]
                return super().start(name, command, env)

        dev.Services = MultiprocessServices  # type: ignore[misc]
    interval = os.environ.get("BENCH_DEQUEUE_INTERVAL_SECONDS")
    if interval:
        dev.DEV_INSTANCE_YAML += f"run_queue:\n  dequeue_interval_seconds: {int(interval)}\n"
    parser = argparse.ArgumentParser()
    dev.register(parser.add_subparsers())
    parsed = parser.parse_args(["dev", *dev_args])
    return int(parsed.handler(parsed))


def _role(command: str) -> str:
    # The code server starts run workers, and run workers start step workers, through
    # multiprocessing's spawn: their command lines do not tell the two apart.
    if "spawn_main" in command:
        return "run and step workers"
    if "api grpc" in command:
        return "code server"
    if "code-server start" in command:
        return "code server proxy"
    if "dagster._daemon" in command or "dagster-daemon" in command:
        return "daemon"
    if "dagster_webserver" in command or "dagster-webserver" in command:
        return "webserver"
    if " sandbox " in f"{command} ":
        return "sandbox"
    if " serve " in f"{command} ":
        return "web service"
    return "dev commands"


@contextlib.contextmanager
def dev_running(
    folder: Path, executor: str, dequeue_interval: int | None
) -> Iterator[tuple[subprocess.Popen, dict[str, Path]]]:
    """``tiktok-pipeline dev`` in ``folder`` with a schedule every minute; stopped on exit."""
    paths = {"data": folder / "data", "home": folder / "dagster_home", "log": folder / "dev.log"}
    ports: set[int] = set()
    while len(ports) < 3:  # the kernel may hand out a just-closed port again
        ports.add(free_port())
    dagster_port, web_port, sandbox_port = sorted(ports)
    dev_args = [
        "--dagster-port",
        str(dagster_port),
        "--web-port",
        str(web_port),
        "--sandbox-port",
        str(sandbox_port),
        "--data-dir",
        str(paths["data"]),
        "--dagster-home",
        str(paths["home"]),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("TIKTOK_")}
    env["TIKTOK_SYNC_CRON"] = "* * * * *"
    if executor == "default" and dequeue_interval is None:
        command = [sys.executable, "-m", "tiktok_pipeline.cli", "dev", *dev_args]
    else:
        command = [sys.executable, "-m", "bench.incremental", "--serve-dev", *dev_args]
        env.update(PYTHONPATH=str(ROOT), BENCH_EXECUTOR=executor)
        if dequeue_interval is not None:
            env["BENCH_DEQUEUE_INTERVAL_SECONDS"] = str(dequeue_interval)
    with paths["log"].open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process, paths
        finally:
            # The dev command stops the sandbox, the web service and dagster dev on SIGTERM.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _log_tail(paths: dict[str, Path], chars: int = 3000) -> str:
    return paths["log"].read_text(errors="replace")[-chars:]


def _wait_for(what: str, ready, process: subprocess.Popen, paths, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"`tiktok-pipeline dev` exited: {_log_tail(paths)}")
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}: {_log_tail(paths)}")
        time.sleep(1)


def _sync_runs(instance: dg.DagsterInstance, **filters: Any) -> list[dg.RunRecord]:
    return list(
        instance.get_run_records(dg.RunsFilter(job_name="tiktok_sync_job", **filters), limit=500)
    )


def _history_done(instance: dg.DagsterInstance) -> bool:
    history = _sync_runs(instance, tags={"tiktok/trigger": "new_shop_history"})
    ended = all(record.dagster_run.is_finished for record in history)
    return bool(history) and ended


def _event_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None:
            times.setdefault(entry.dagster_event.event_type_value, []).append(entry.timestamp)
    return times


def _ledger(database: Path, run_id: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from tiktok_pipeline.config import sqlite_url
    from tiktok_pipeline.warehouse.schema import sync_ledger as ledger

    engine = sa.create_engine(sqlite_url(database))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.min(ledger.c.started_at),
                sa.func.max(ledger.c.finished_at),
                sa.func.sum(ledger.c.inserted + ledger.c.updated),
                sa.func.sum(ledger.c.items_received),
                sa.func.count(sa.distinct(ledger.c.shop_id)),
            ).where(ledger.c.run_id == run_id, ledger.c.status == "success")
        ).one()
        failed = connection.execute(
            sa.select(sa.func.count()).where(
                ledger.c.run_id == run_id, ledger.c.status != "success"
            )
        ).scalar_one()
    engine.dispose()
    count, first, last, written, received, shops = rows
    return {
        "ledger_rows": count,
        "failed_ledger_rows": failed,
        "shops": shops,
        "items_received": received or 0,
        "rows_written": written or 0,
        "first_window_started": first.timestamp() if first else None,
        "last_row_committed": last.timestamp() if last else None,
    }


def run_figures(instance: dg.DagsterInstance, record: dg.RunRecord, database: Path) -> dict:
    """Where the time of one schedule run went, in seconds from its tick's scheduled time."""
    run = record.dagster_run
    tick = instance.schedule_storage.get_tick(int(run.tags["dagster/tick"]))  # type: ignore[union-attr]
    tick_at = tick.timestamp
    events = _event_times(instance, run.run_id)
    ledger = _ledger(database, run.run_id)

    def since_tick(value: float | None) -> float | None:
        return round(value - tick_at, 2) if value is not None else None

    def first(event: str) -> float | None:
        return since_tick(min(events[event])) if event in events else None

    def last(event: str) -> float | None:
        return since_tick(max(events[event])) if event in events else None

    run_start = first("PIPELINE_START")
    committed = since_tick(ledger["last_row_committed"])
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        "partition": run.tags.get("dagster/partition"),
        "tick_at": tick_at,
        "tick_evaluated_s": since_tick(tick.end_timestamp),
        "run_created_s": since_tick(record.create_timestamp.timestamp()),
        "dequeued_s": first("PIPELINE_DEQUEUED"),
        "launched_s": first("PIPELINE_STARTING"),
        "run_start_s": run_start,
        "first_step_start_s": first("STEP_START"),
        "first_window_started_s": since_tick(ledger["first_window_started"]),
        "rows_committed_s": committed,
        "last_step_success_s": last("STEP_SUCCESS"),
        "checks_evaluated": len(events.get("ASSET_CHECK_EVALUATION", [])),
        "run_end_s": first("PIPELINE_SUCCESS") or first("PIPELINE_FAILURE"),
        "tick_to_run_start_s": run_start,
        "run_start_to_rows_committed_s": (
            round(committed - run_start, 2)
            if committed is not None and run_start is not None
            else None
        ),
        "total_s": committed,
        **{k: ledger[k] for k in ("ledger_rows", "failed_ledger_rows", "shops")},
        **{k: ledger[k] for k in ("items_received", "rows_written")},
    }


def measure(
    ticks: int, executor: str, timeout: float, dequeue_interval: int | None = None
) -> dict[str, Any]:
    """Start dev, wait out the history runs, follow ``ticks`` schedule runs; their figures."""
    with (
        tempfile.TemporaryDirectory(prefix="tiktok-incremental-") as tmp,
        dev_running(Path(tmp), executor, dequeue_interval) as (process, paths),
    ):
        home = paths["home"]
        _wait_for("DAGSTER_HOME", lambda: (home / "dagster.yaml").exists(), process, paths, 300)
        instance = dg.DagsterInstance.from_config(str(home))
        sampler = ProcessTreeSampler(process.pid, role=_role, interval=0.5)
        try:
            started = time.monotonic()
            _wait_for("the history runs", lambda: _history_done(instance), process, paths, timeout)
            history_s = round(time.monotonic() - started, 1)
            # Runs created from now on come from ticks after the history: each a steady pass.
            after = time.time()
            sampler.start()

            def measured_runs() -> list[dg.RunRecord] | None:
                runs = [
                    r
                    for r in _sync_runs(instance, tags={"dagster/schedule_name": SCHEDULE})
                    if r.create_timestamp.timestamp() > after
                ]
                done = [r for r in runs if r.dagster_run.is_finished]
                return (
                    sorted(done, key=lambda r: r.create_timestamp)[:ticks]
                    if len(done) >= ticks
                    else None
                )

            records = _wait_for(
                f"{ticks} schedule runs", measured_runs, process, paths, 90 * ticks + 120
            )
            tree = sampler.stop()
            runs = [
                run_figures(instance, record, paths["data"] / "tiktok.db") for record in records
            ]
        finally:
            instance.dispose()
    return {
        "executor": executor,
        "dequeue_interval_seconds": dequeue_interval or "Dagster's default (5)",
        "history_runs_seconds": history_s,
        "runs": runs,
        "tree_while_measuring": {
            "cpu_seconds": tree.cpu_seconds,
            "processes_started": tree.processes_started,
            "peak_rss_mib": tree.peak_rss_mib,
            "peak_rss_mib_by_role": tree.peak_rss_mib_by_role,
        },
    }


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """Medians over the measured runs, and whether the total meets the target."""
    runs = [r for r in figures["runs"] if r["total_s"] is not None]
    keys = ("tick_to_run_start_s", "run_start_to_rows_committed_s", "total_s", "run_end_s")
    medians = {
        f"median_{key}": round(statistics.median(r[key] for r in runs), 2)
        for key in keys
        if runs and all(r[key] is not None for r in runs)
    }
    total = medians.get("median_total_s")
    return {
        "executor": figures["executor"],
        "dequeue_interval_seconds": figures["dequeue_interval_seconds"],
        "runs_measured": len(figures["runs"]),
        "runs_succeeded": sum(r["status"] == "SUCCESS" for r in figures["runs"]),
        **medians,
        "target_s": TARGET_SECONDS,
        "meets_target": total is not None and total <= TARGET_SECONDS,
    }


def main() -> int:
    """Measure and print one JSON document: every run's timings, then the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=3, help="schedule runs to follow (3)")
    parser.add_argument(
        "--executor",
        choices=("default", "multiprocess"),
        default="default",
        help="default: the project's definitions as `make dev` serves them",
    )
    parser.add_argument(
        "--history-timeout", type=float, default=900, help="seconds to wait for history runs"
    )
    parser.add_argument(
        "--dequeue-interval-seconds",
        type=int,
        help="check the run queue every N seconds (Dagster's default: 5)",
    )
    parser.add_argument("--serve-dev", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # SIGTERM ends the bench through its `finally` blocks, which stop `tiktok-pipeline dev`.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    if args.serve_dev is not None:
        return _serve_dev(args.serve_dev)
    figures = measure(
        args.ticks, args.executor, args.history_timeout, args.dequeue_interval_seconds
    )
    figures["summary"] = summary(figures)
    print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
