"""The front door of ``bench/backfill.py``: a backfill launched as the Dagster UI launches it.

Starts ``dagster-webserver`` and ``dagster-daemon run`` on the project's ``workspace.yaml``
with a temporary ``DAGSTER_HOME`` holding a copy of the production ``dagster.yaml`` (storage
in its own Postgres database), POSTs the UI's ``launchPartitionBackfill`` mutation to the
webserver's ``/graphql`` and follows the backfill until the last row is in the warehouse and
the backfill is complete, sampling the memory and CPU of every process the two services start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bench._harness import ROOT, ProcessTreeSampler, command_line, free_port

BIN = Path(sys.executable).parent
#: The UI's mutation (ui-core LaunchAssetChoosePartitionsDialog), PythonErrorFragment inlined.
LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on ConflictingExecutionParamsError { message }
    ... on PresetNotFoundError { message }
    ... on RunConfigValidationInvalid { pipelineName errors { message path reason } }
    ... on PythonError { message stack }
  }
}
"""
BACKFILL_STATUS = """
query BackfillStatus($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      error { message }
      runs { runId status creationTime startTime endTime }
    }
    ... on PythonError { message }
  }
}
"""
RUN_ERRORS = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level }
        ... on ErrorEvent { error { message } }
      }
    }
  }
}
"""
LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""
INSTIGATORS = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name scheduleState { id status } }
    sensors { name sensorState { id status } } } } } }
"""
STOP_SCHEDULE = "mutation($id: String) { stopRunningSchedule(id: $id) { __typename } }"
STOP_SENSOR = "mutation($id: String) { stopSensor(id: $id) { __typename } }"
DAEMONS = "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"
SUCCEEDED = {"COMPLETED", "COMPLETED_SUCCESS"}
ENDED_BADLY = {"FAILED", "COMPLETED_FAILED", "CANCELED"}
#: Left running: the daemon's steady work in production (an empty webhook inbox every 10 s).
#: The schedules and the new-shop sensor are stopped, as an operator would before a bench:
#: the sensor would otherwise launch 90 days of history for the bench's shop.
KEEP_RUNNING = {"tiktok_webhook_sensor"}


def role(command: str) -> str:
    """Which part of Dagster a process of the tree is, from its command line."""
    for needle, name in (
        ("dagster-webserver", "webserver"),
        ("dagster-daemon", "daemon"),
        ("api grpc", "code_server"),
        # The code server starts each run in a multiprocessing "spawn" child.
        ("spawn_main", "run"),
        ("execute_run", "run"),
        ("execute_step", "step"),
        # Each run captures its stdout and stderr with `tail -F` and a watch_orphans.py each.
        ("tail -F", "compute_logs"),
        ("watch_orphans", "compute_logs"),
        ("resource_tracker", "multiprocessing_resource_tracker"),
        ("bench.backfill", "bench_child"),
        ("bench.dlt_baseline", "bench_child"),
    ):
        if needle in command:
            return name
    return "other"


class GraphQL:
    """POSTs to a webserver's /graphql as the UI does."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/graphql"
        self.session = requests.Session()

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of the answer; raises on GraphQL errors."""
        response = self.session.post(
            self.url, json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]


@dataclass
class Services:
    """The webserver and the daemon, with where their output goes."""

    webserver: subprocess.Popen
    daemon: subprocess.Popen | None
    graphql: GraphQL
    logs: Path

    def tail(self, name: str, chars: int = 3000) -> str:
        """The end of a service's output (``webserver`` or ``daemon``)."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@contextlib.contextmanager
def dagster_services(env: dict[str, str]) -> Iterator[Services]:
    """A temporary DAGSTER_HOME with the production dagster.yaml, its webserver and daemon.

    The daemon starts only once the webserver has created the storage and the schedules and
    the new-shop sensor are stopped (see ``KEEP_RUNNING``).
    """
    with (
        tempfile.TemporaryDirectory(prefix="bench_dagster_home_") as home,
        tempfile.TemporaryDirectory(prefix="bench_dagster_logs_") as log_dir,
    ):
        shutil.copy(ROOT / "dagster.yaml", Path(home) / "dagster.yaml")
        env = {**env, "DAGSTER_HOME": home, "PYTHONUNBUFFERED": "1"}
        logs = Path(log_dir)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        address = ["-h", "127.0.0.1", "-p", str(port)]
        webserver = _start(
            [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", *address],
            env,
            logs / "webserver.log",
        )
        services = Services(webserver, None, GraphQL(base_url), logs)
        try:
            _wait_for_location(services)
            _stop_automation(services.graphql)
            services.daemon = _start(
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                env,
                logs / "daemon.log",
            )
            _wait_for_daemons(services)
            yield services
        finally:
            for process in (services.daemon, webserver):
                if process is not None:
                    _stop(process)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL whatever of its tree is left (code servers, runs)."""
    descendants = _descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid, command in descendants.items():
        if command and command_line(pid) == command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> dict[int, str]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        found[pid] = command_line(pid)
        pending.extend(children.get(pid, ()))
    return found


def _wait_until(services: Services, what: str, check, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for name, process in (("webserver", services.webserver), ("daemon", services.daemon)):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"dagster {name} exited: {services.tail(name)}")
        with contextlib.suppress(requests.RequestException):
            if check():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}: {services.tail('webserver')}")
        time.sleep(0.5)


def _wait_for_location(services: Services) -> None:
    def loaded() -> bool:
        entries = services.graphql(LOCATIONS)["workspaceOrError"].get("locationEntries") or []
        for entry in entries:
            error = entry["locationOrLoadError"] or {}
            if error.get("__typename") == "PythonError":
                raise RuntimeError(f"code location {entry['name']}: {error['message']}")
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    _wait_until(services, "the code location", loaded)


def _stop_automation(graphql: GraphQL) -> None:
    nodes = graphql(INSTIGATORS)["repositoriesOrError"]["nodes"]
    for node in nodes:
        for schedule in node["schedules"]:
            if schedule["name"] not in KEEP_RUNNING:
                graphql(STOP_SCHEDULE, {"id": schedule["scheduleState"]["id"]})
        for sensor in node["sensors"]:
            if sensor["name"] not in KEEP_RUNNING:
                graphql(STOP_SENSOR, {"id": sensor["sensorState"]["id"]})


def _wait_for_daemons(services: Services) -> None:
    def healthy() -> bool:
        statuses = services.graphql(DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return all(s["healthy"] for s in statuses if s["required"])

    _wait_until(services, "healthy daemons", healthy)


def launch_backfill(
    graphql: GraphQL, assets: list[str], partitions: list[str], run_config: dict[str, Any]
) -> str:
    """POST the UI's backfill mutation (assets x partitions, the run config the launchpad
    saved, the UI's ``dagster/from_ui`` tag); the backfill's id."""
    params = {
        "tags": [{"key": "dagster/from_ui", "value": "true"}],
        "assetSelection": [{"path": [asset]} for asset in assets],
        "partitionNames": partitions,
        "fromFailure": False,
        "runConfigData": run_config,
    }
    result = graphql(LAUNCH_PARTITION_BACKFILL, {"backfillParams": params})
    answer = result["launchPartitionBackfill"]
    if answer["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill: {answer}")
    return answer["backfillId"]


def run_errors(graphql: GraphQL, run_id: str) -> list[str]:
    """The error messages of a run's event log."""
    events = graphql(RUN_ERRORS, {"runId": run_id})["logsForRun"].get("events") or []
    messages = []
    for event in events:
        if event.get("error"):
            messages.append(f"{event['__typename']}: {event['error']['message']}")
        elif event.get("level") == "ERROR":
            messages.append(f"{event['__typename']}: {event['message']}")
    return messages


def measure_backfill(
    services: Services,
    sampler: ProcessTreeSampler,
    warehouse_url: str,
    assets: list[str],
    partitions: list[str],
    run_config: dict[str, Any],
    expected_orders: int,
    timeout: float = 3600,
) -> dict[str, Any]:
    """Launch the backfill, follow it to the end; timings and counts (the sampler runs meanwhile).

    Polls the warehouse's order count every 0.5 s (that backend is left out of the Postgres
    figures) and the backfill's status through GraphQL every second, as the UI's page does.
    """
    engine = sa.create_engine(warehouse_url, poolclass=sa.pool.NullPool)
    with engine.connect() as monitor:
        sampler.exclude.add(monitor.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        sampler.start()
        launched_at = time.time()
        started = time.perf_counter()
        backfill_id = launch_backfill(services.graphql, assets, partitions, run_config)
        last_row = None
        backfill: dict[str, Any] = {}
        polls = 0
        while True:
            orders = monitor.execute(sa.text("SELECT count(*) FROM tiktok_orders")).scalar_one()
            monitor.commit()
            now = time.perf_counter() - started
            if last_row is None and orders >= expected_orders:
                last_row = now
            if polls % 2 == 0:
                backfill = services.graphql(BACKFILL_STATUS, {"id": backfill_id})[
                    "partitionBackfillOrError"
                ]
                if backfill.get("status") in ENDED_BADLY:
                    break
                if backfill.get("status") in SUCCEEDED and last_row is not None:
                    break
                if services.daemon is not None and services.daemon.poll() is not None:
                    raise RuntimeError(f"the daemon exited: {services.tail('daemon')}")
            if now > timeout:
                break
            polls += 1
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        tree = sampler.stop()
        line_items = monitor.execute(
            sa.text("SELECT count(*) FROM tiktok_order_line_items")
        ).scalar_one()
    engine.dispose()
    runs = backfill.get("runs") or []
    status = backfill.get("status")
    figures: dict[str, Any] = {
        "backfill_id": backfill_id,
        "backfill_status": status,
        "seconds": round(seconds, 2),
        "seconds_to_last_row": round(last_row, 2) if last_row is not None else None,
        "seconds_to_first_run_created": _first(runs, "creationTime", launched_at),
        "seconds_to_first_run_start": _first(runs, "startTime", launched_at),
        "seconds_to_runs_finished": _last(runs, "endTime", launched_at),
        "runs": len(runs),
        "run_statuses": sorted({run["status"] for run in runs}),
        "orders": orders,
        "line_items": line_items,
        "tree": tree,
    }
    if status not in SUCCEEDED or orders < expected_orders:
        failed = [run["runId"] for run in runs if run["status"] in ("FAILURE", "CANCELED")]
        figures["failed_runs"] = {
            run_id: run_errors(services.graphql, run_id)[:5] for run_id in failed[:3]
        }
        figures["backfill_error"] = (backfill.get("error") or {}).get("message")
        figures["daemon_log_tail"] = services.tail("daemon", 2000)
    return figures


def _last(runs: list[dict[str, Any]], field: str, launched_at: float) -> float | None:
    times = [run[field] for run in runs if run.get(field)]
    return round(max(times) - launched_at, 2) if times else None


def _first(runs: list[dict[str, Any]], field: str, launched_at: float) -> float | None:
    times = [run[field] for run in runs if run.get(field)]
    return round(min(times) - launched_at, 2) if times else None
