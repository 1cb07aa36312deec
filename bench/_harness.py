"""Shared by the benchmark scripts: start a sandbox in its own process, measure memory and
CPU time of processes (one process, or a whole process tree sampled in a thread), make a
throwaway Postgres database.

Imports nothing from ``tiktok_pipeline`` (``sandbox_throughput`` must not use the client).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]

# Benchmarks keep their tokens in throwaway Postgres databases, which require a token key:
# one for this run (and the processes it starts) unless the caller set one.
TOKEN_KEY = os.environ.setdefault("TIKTOK_TOKEN_KEY", Fernet.generate_key().decode())
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


_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _ProcStat:
    pid: int
    ppid: int
    comm: str
    #: utime + stime, in clock ticks.
    own_ticks: int
    #: cutime + cstime: children that exited and were reaped.
    reaped_ticks: int
    rss_bytes: int


def _proc_stats() -> dict[int, _ProcStat]:
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                raw = handle.read().decode(errors="replace")
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw[raw.rfind(")") + 2 :].split()
        pid = int(entry.name)
        stats[pid] = _ProcStat(
            pid=pid,
            ppid=int(fields[1]),
            comm=comm,
            own_ticks=int(fields[11]) + int(fields[12]),
            reaped_ticks=int(fields[13]) + int(fields[14]),
            rss_bytes=int(fields[21]) * _PAGE_BYTES,
        )
    return stats


def command_line(pid: int) -> str:
    """The process's command line with spaces between arguments ("" when it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


@dataclass
class TreeFigures:
    """What a :class:`ProcessTreeSampler` saw between ``start`` and ``stop``."""

    #: Largest sum of RSS over the tree at one sample, in MiB.
    peak_rss_mib: float
    #: Largest sum of RSS per role (``role`` of the sampler) at one sample, in MiB.
    peak_rss_mib_by_role: dict[str, float]
    #: Largest sum of RSS over the tree but one role, at one sample, in MiB.
    peak_rss_mib_without_role: dict[str, float]
    #: Sum of RSS over the tree at the first sample, in MiB.
    start_rss_mib: float
    #: CPU seconds (user + system) the tree used in the window.
    cpu_seconds: float
    #: Distinct processes seen in the tree, and how many of them were born in the window.
    processes_seen: int
    processes_started: int
    #: Processes born in the window per role.
    processes_started_by_role: dict[str, int]
    #: CPU seconds of the Postgres backends serving the watched databases.
    postgres_cpu_seconds: float
    #: Distinct Postgres backends seen serving the watched databases.
    postgres_backends: int
    samples: int


class ProcessTreeSampler:
    """Samples, every ``interval`` seconds in a thread, the processes under ``roots``.

    Sums their resident memory (peak of the sum, also per role: ``role(command line)`` names
    the role of each process), counts distinct processes and measures their CPU time. With
    ``postgres_databases``, also the CPU time of the Postgres backends serving those databases
    (their command line names the database), except the backends in ``exclude``.

    CPU time is the larger of two lower bounds of the truth: the sum over every process seen
    of its own time at its last sample (misses what a process did in its last ``interval``),
    and the growth of own + reaped-children time over the processes alive at both ends (misses
    processes orphaned away from the tree).
    """

    def __init__(
        self,
        *roots: int,
        exclude: Iterator[int] | list[int] | tuple[int, ...] = (),
        role: Callable[[str], str] | None = None,
        postgres_databases: tuple[str, ...] = (),
        interval: float = 0.2,
    ) -> None:
        self.roots = set(roots)
        self.exclude = set(exclude)
        self._role = role
        self._databases = tuple(postgres_databases)
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._commands: dict[int, str] = {}
        self._first_own: dict[int, int] = {}
        self._last_own: dict[int, int] = {}
        self._born: set[int] = set()
        self._pg_first: dict[int, int] = {}
        self._pg_last: dict[int, int] = {}
        self._start_total = 0
        self._end_total = 0
        self._peak = 0
        self._peak_by_role: dict[str, int] = {}
        self._peak_without_role: dict[str, int] = {}
        self._start_rss = 0
        self._samples = 0

    def start(self) -> ProcessTreeSampler:
        """Take the first sample and go on sampling in a thread."""
        self._start_total = self._sample(first=True)
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> TreeFigures:
        """Take a last sample and return the figures of the window."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._end_total = self._sample()
        sampled = sum(self._last_own[p] - self._first_own.get(p, 0) for p in self._last_own)
        reaped = self._end_total - self._start_total
        mib = 1024 * 1024
        return TreeFigures(
            peak_rss_mib=round(self._peak / mib, 1),
            peak_rss_mib_by_role={k: round(v / mib, 1) for k, v in self._peak_by_role.items()},
            peak_rss_mib_without_role={
                k: round(v / mib, 1) for k, v in self._peak_without_role.items()
            },
            start_rss_mib=round(self._start_rss / mib, 1),
            cpu_seconds=round(max(sampled, reaped) / _TICKS, 2),
            processes_seen=len(self._last_own),
            processes_started=len(self._born),
            processes_started_by_role=self._count_roles(self._born),
            postgres_cpu_seconds=round(
                sum(v - self._pg_first[p] for p, v in self._pg_last.items()) / _TICKS, 2
            ),
            postgres_backends=len(self._pg_last),
            samples=self._samples,
        )

    def _count_roles(self, pids: set[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pid in pids:
            name = self._role(self._commands.get(pid, "")) if self._role else "process"
            counts[name] = counts.get(name, 0) + 1
        return counts

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _command(self, pid: int) -> str:
        if pid not in self._commands:
            self._commands[pid] = command_line(pid)
        return self._commands[pid]

    def _tree(self, stats: dict[int, _ProcStat]) -> list[_ProcStat]:
        children: dict[int, list[int]] = {}
        for stat in stats.values():
            children.setdefault(stat.ppid, []).append(stat.pid)
        with self._lock:
            pending = [p for p in self.roots if p in stats and p not in self.exclude]
        found = []
        while pending:
            pid = pending.pop()
            found.append(stats[pid])
            pending.extend(c for c in children.get(pid, ()) if c not in self.exclude)
        return found

    def _sample(self, first: bool = False) -> int:
        stats = _proc_stats()
        tree = self._tree(stats)
        total_rss = 0
        by_role: dict[str, int] = {}
        roles: dict[int, str] = {}
        for stat in tree:
            if stat.pid not in self._last_own:
                if first:
                    self._first_own[stat.pid] = stat.own_ticks
                else:
                    self._born.add(stat.pid)
            self._last_own[stat.pid] = stat.own_ticks
            total_rss += stat.rss_bytes
            self._command(stat.pid)
            if self._role is not None:
                name = self._role(self._command(stat.pid))
                # A process serving another one (the webserver's own code server) counts as it.
                if name == "code_server" and roles.get(stat.ppid) == "webserver":
                    name = "webserver"
                roles[stat.pid] = name
                by_role[name] = by_role.get(name, 0) + stat.rss_bytes
        self._peak = max(self._peak, total_rss)
        if first:
            self._start_rss = total_rss
        for name, value in by_role.items():
            self._peak_by_role[name] = max(self._peak_by_role.get(name, 0), value)
            without = self._peak_without_role.get(name, 0)
            self._peak_without_role[name] = max(without, total_rss - value)
        if self._databases:
            self._sample_postgres(stats, first)
        self._samples += 1
        return sum(s.own_ticks + s.reaped_ticks for s in tree)

    def _sample_postgres(self, stats: dict[int, _ProcStat], first: bool) -> None:
        for stat in stats.values():
            if stat.comm != "postgres" or stat.pid in self.exclude:
                continue
            command = self._command(stat.pid)
            if not any(f" {name} " in command for name in self._databases):
                continue
            if stat.pid not in self._pg_last:
                self._pg_first[stat.pid] = stat.own_ticks if first else 0
            self._pg_last[stat.pid] = stat.own_ticks


def postgres_cpu_seconds() -> float:
    """CPU seconds of every Postgres server process so far, exited backends included.

    Includes the work of anybody else using the server at the same time.
    """
    pids = [s.pid for s in _proc_stats().values() if s.comm == "postgres"]
    return cpu_seconds(*pids, children=True)


class CpuMeter:
    """CPU seconds of the sandbox and of all of Postgres over a ``with`` block, in ``figures``."""

    def __init__(self, sandbox_pid: int) -> None:
        self.sandbox_pid = sandbox_pid
        self.figures: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._sandbox = cpu_seconds(self.sandbox_pid, children=True)
        self._postgres = postgres_cpu_seconds()
        return self

    def __exit__(self, *exc_info: object) -> None:
        sandbox = cpu_seconds(self.sandbox_pid, children=True) - self._sandbox
        self.figures = {
            "sandbox_cpu_seconds": round(sandbox, 2),
            "postgres_all_cpu_seconds": round(postgres_cpu_seconds() - self._postgres, 2),
        }


def measured_child(
    command: list[str],
    env: dict[str, str],
    role: Callable[[str], str] | None = None,
    postgres_databases: tuple[str, ...] = (),
) -> tuple[dict, TreeFigures, float]:
    """Run a bench child process (in ``ROOT``) under a :class:`ProcessTreeSampler`.

    Returns the last line of its output parsed as JSON, what the sampler saw and the wall
    time; raises with the end of its stderr when it fails.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = ProcessTreeSampler(
        process.pid, role=role, postgres_databases=postgres_databases
    ).start()
    out, err = process.communicate()
    tree = sampler.stop()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])} failed: {err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), tree, wall
