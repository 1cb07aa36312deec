"""A run whose processes died is marked failed and frees its pool slot (real daemon and CLI)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tiktok_pipeline.defs.run_launcher import process_alive, run_worker_pid

BIN = Path(sys.executable).parent
DEFINITIONS = Path(__file__).with_name("sleepy_definitions.py")

INSTANCE_YAML = """\
run_launcher:
  module: tiktok_pipeline.defs.run_launcher
  class: LocalRunLauncher
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
concurrency:
  pools:
    default_limit: 1
run_monitoring:
  enabled: true
  poll_interval_seconds: 1
  free_slots_after_run_end_seconds: 1
telemetry:
  enabled: false
"""


def _wait_for(what: str, predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def _parent(pid: int) -> int:
    """The parent process id of ``pid`` (Linux)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _slot_holder(instance: dg.DagsterInstance) -> str | None:
    """The run whose step holds the ``monitored`` pool's only slot, if one does."""
    claimed = instance.event_log_storage.get_concurrency_info("monitored").claimed_slots
    return claimed[0].run_id if claimed else None


def test_process_alive_tells_a_live_process_from_a_killed_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_alive(child.pid)
        child.kill()
        time.sleep(0.2)
        assert not process_alive(child.pid)  # killed, not yet reaped: a zombie
    finally:
        child.wait()
    assert not process_alive(child.pid)


def test_a_killed_run_is_marked_failed_and_its_slot_freed(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    (tmp_path / "workspace.yaml").write_text(
        f"load_from:\n  - python_file:\n      relative_path: {DEFINITIONS}\n"
        "      location_name: monitored\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    workspace = ["-w", str(tmp_path / "workspace.yaml")]
    # Create the storage first: the daemon and the CLI would both try on first use.
    dg.DagsterInstance.from_config(str(home)).dispose()
    daemon = subprocess.Popen(
        [BIN / "dagster-daemon", "run", *workspace],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        launch = [BIN / "dagster", "job", "launch", *workspace, "-j", "sleepy"]
        launched = subprocess.run(launch, env=env, cwd=tmp_path, capture_output=True, text=True)
        assert launched.returncode == 0, launched.stderr[-2000:]
        with dg.DagsterInstance.from_config(str(home)) as instance:
            holder = _wait_for(
                "the run's step to hold the pool's slot", lambda: _slot_holder(instance)
            )
            pid = run_worker_pid(instance, holder)
            assert pid is not None

            # Everything that knew the run dies: its worker and the code server that started it
            # (as when `make dev` is killed mid-run); only run monitoring can tell now.
            code_server = _parent(pid)
            os.kill(code_server, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)

            _wait_for(
                "run monitoring to mark the killed run failed",
                lambda: instance.get_run_by_id(holder).status == dg.DagsterRunStatus.FAILURE,
            )
            messages = [
                record.event_log_entry.message
                for record in instance.get_records_for_run(holder).records
            ]
            assert any(f"worker process {pid} is gone" in m for m in messages), messages[-6:]
            _wait_for("the dead run's slot to be freed", lambda: _slot_holder(instance) is None)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
