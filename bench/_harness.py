"""Shared by the benchmark scripts: start a sandbox in its own process, measure memory and
CPU time of processes, make a throwaway Postgres database.

Imports nothing from ``tiktok_pipeline`` (``sandbox_throughput`` must not use the client).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
#: Runs the ``sandbox`` command registered on its own, without the other command groups.
_SANDBOX_ONLY = (
    "import sys, argparse\n"
    "from tiktok_pipeline.cli import sandbox\n"
    "p = argparse.ArgumentParser(); sp = p.add_subparsers()\n"
    "sandbox.register(sp)\n"
    "a = p.parse_args(sys.argv[1:])\n"
    "sys.exit(a.handler(a))\n"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class SandboxProcess:
    """A sandbox running in a child process."""

    #: ``http://127.0.0.1:<port>``
    base_url: str
    #: The child's pid, for benchmarks that measure its CPU time or memory.
    pid: int


@contextlib.contextmanager
def sandbox_process(
    *args: str, port: int | None = None, sandbox_only: bool = False, timeout: float = 120
) -> Iterator[SandboxProcess]:
    """Run ``tiktok-pipeline sandbox ARGS`` in a child process until it answers.

    ``sandbox_only``: register only the ``sandbox`` command, so that the benchmark works
    whatever state the other command groups are in. The child's output goes to a file (a pipe
    nobody reads would fill up and stall it); its tail is in the error when it fails to start.
    """
    port = port or free_port()
    if sandbox_only:
        command = [sys.executable, "-c", _SANDBOX_ONLY]
    else:
        command = [sys.executable, "-m", "tiktok_pipeline.cli"]
    command += ["sandbox", "--port", str(port), *args]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"the sandbox exited: {tail}")
                try:
                    requests.get(f"{base_url}/sandbox/clock", timeout=1).raise_for_status()
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield SandboxProcess(base_url, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def peak_rss_mib(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB (default: this one)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def cpu_seconds(*pids: int, children: bool = False) -> float:
    """User + system CPU seconds these processes have used so far (Linux /proc).

    ``children``: add the time of their children that have exited and been reaped (Postgres
    backends exit with their connections: their time then moves to the postmaster's).
    Processes that are gone count 0.
    """
    fields_used = slice(11, 15) if children else slice(11, 13)
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(field) for field in fields[fields_used])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def postgres_database(admin_url: str, prefix: str = "tiktok_bench") -> Iterator[str]:
    """A new, empty Postgres database made through ``admin_url``; yields its URL, then drops it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
