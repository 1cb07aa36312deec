"""The child processes of ``tiktok-pipeline dev``: started in order, stopped in reverse."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

#: How long a service gets to stop after SIGTERM before its process group is killed.
STOP_SECONDS = 30
#: How long what is left of a stopped service's process group gets after SIGTERM.
LEFTOVER_SECONDS = 5


class Services:
    """Child processes started in order and stopped in reverse."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        *,
        cwd: Path | None = None,
        quiet_stdout: bool = False,
    ) -> subprocess.Popen:
        """Start ``command``; its output (or only its stderr) goes to the terminal."""
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if quiet_stdout else None,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process

    def check(self) -> None:
        """Raise when a service exited."""
        for name, process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited with code {process.returncode}")

    def stop(self) -> None:
        """Stop the services one by one, the last started first; then end what is left of each
        one's process group (a run `dagster dev` left behind).

        Only the service's own process gets SIGTERM: `dagster dev` stops its webserver, daemon
        and code server in order, while signalling its whole group at once could kill a run
        worker being launched (and the daemon would print the launch's traceback). One by one,
        so that a run still going finds the sandbox and the web service up until it is stopped.
        """
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    _signal_group(process.pid, signal.SIGKILL)
                    process.wait()
            _end_group(process.pid)


def _end_group(group: int) -> None:
    """SIGTERM what is left in a service's process group; SIGKILL it after a few seconds."""
    if not _signal_group(group, signal.SIGTERM):
        return
    deadline = time.monotonic() + LEFTOVER_SECONDS
    while time.monotonic() < deadline:
        if not _signal_group(group, 0):
            return
        time.sleep(0.2)
    _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False when no process of it is left."""
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_until(url: str, services: Services, what: str, timeout: float = 180) -> None:
    """Wait until ``url`` answers (any status below 500); raise when a service exits first."""
    deadline = time.monotonic() + timeout
    while True:
        services.check()
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f}s")
        time.sleep(0.5)
