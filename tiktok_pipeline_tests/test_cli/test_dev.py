"""The README's main command, `tiktok-pipeline dev`, from an empty folder: everything starts,
the sandbox seller is connected, rows land within a couple of minutes, the terminal stays quiet
(the banner last, runs at INFO, no sensor chatter, no warnings), Ctrl-C stops it all."""

from __future__ import annotations

import collections
import os
import pty
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from tiktok_pipeline.cli import dev_services
from tiktok_pipeline.cli.dev import LOCATION_NAME
from tiktok_pipeline.cli.dev_banner import EnterKey
from tiktok_pipeline.cli.dev_runs import RunEnds, describe
from tiktok_pipeline.cli.dev_services import Services

REPOSITORY = Path(__file__).resolve().parents[2]
BANNER_START = "tiktok-pipeline is running on the embedded default"
BANNER_END = "Ctrl-C stops everything."
#: A line a run or a sensor evaluation logs at INFO, or dev's line for a run that ended.
RUN_OR_SENSOR_INFO = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 - (dagster|tiktok-pipeline) - INFO - "
)
DAYS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    answer = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30)
    answer.raise_for_status()
    return answer.json()["data"]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _process_environment(pid: int) -> tuple[str, dict[str, str]]:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return "", {}
    pairs = (item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if item)
    return command, {key: value for key, value in (p for p in pairs if len(p) == 2)}


def _wait_for(predicate, what: str, output, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f}s:\n{output()[-5000:]}"
        time.sleep(1)


@pytest.mark.slow
def test_dev_runs_the_pipeline_on_the_embedded_default_quietly(tmp_path):
    ports = {name: _free_port() for name in ("dagster", "web", "sandbox")}
    # The repository's production dagster.yaml sits where `make dev` runs; it is not the one in
    # use, and nothing should say so.
    shutil.copy(REPOSITORY / "dagster.yaml", tmp_path / "dagster.yaml")
    log_path = tmp_path / "dev.log"
    log = log_path.open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DAGSTER_"))}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiktok_pipeline.cli",
            "dev",
            "--dagster-port",
            str(ports["dagster"]),
            "--web-port",
            str(ports["web"]),
            "--sandbox-port",
            str(ports["sandbox"]),
            "--orders-per-shop",
            "1500",
            "--days",
            str(DAYS),
        ],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    database = tmp_path / "data" / "tiktok.db"

    def output() -> str:
        assert process.poll() is None, log_path.read_text()[-5000:]
        return log_path.read_text()

    def orders() -> int:
        if not database.exists():
            return 0
        with sqlite3.connect(database) as connection:
            try:
                return connection.execute("SELECT count(*) FROM tiktok_orders").fetchone()[0]
            except sqlite3.OperationalError:
                return 0

    try:
        _wait_for(lambda: BANNER_END in output(), "the banner", output, 300)
        banner_printed = time.monotonic()
        at_banner = output()
        assert at_banner.rstrip().endswith(BANNER_END), at_banner[-3000:]
        assert f"http://127.0.0.1:{ports['dagster']}" in at_banner

        # The code location carries the name workspace.yaml and pyproject.toml give it.
        entries = _graphql(
            ports["dagster"],
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }",
        )["workspaceOrError"]["locationEntries"]
        assert entries == [{"name": "tiktok_pipeline", "loadStatus": "LOADED"}]

        # The Dagster processes get the sandbox's first day as the partitions' start, and the
        # assets' partitions start there.
        state = requests.get(f"http://127.0.0.1:{ports['sandbox']}/sandbox/state", timeout=10)
        anchor = datetime.fromtimestamp(state.json()["clock"]["anchor"], UTC).date()
        first_day = (anchor - timedelta(days=DAYS)).isoformat()
        dagster_processes = [
            found
            for found in map(_process_environment, _descendants(process.pid))
            if "dagster" in found[0]
        ]
        assert len(dagster_processes) >= 3  # dagster dev, its webserver and its daemon
        for command, variables in dagster_processes:
            assert variables.get("TIKTOK_PARTITIONS_START") == first_day, command
        keys = _graphql(
            ports["dagster"],
            '{ assetNodeOrError(assetKey: {path: ["tiktok_orders"]}) '
            "{ ... on AssetNode { partitionKeys } } }",
        )["assetNodeOrError"]["partitionKeys"]
        assert keys[0] == first_day

        # Rows land (the new-shop sensor's history run), and the run logs at INFO.
        _wait_for(lambda: orders() > 0, "orders in the warehouse", output, 300)
        _wait_for(
            lambda: re.search(r"run [0-9a-f]{8} of tiktok_sync_job succeeded in \d+", output()),
            "the line saying the history run succeeded",
            output,
            300,
        )
        # ~40 s of running: the webhook sensor ticks every 10 s.
        time.sleep(max(0.0, 40 - (time.monotonic() - banner_printed)))
        process.stdin.write(b"\n")
        process.stdin.flush()
        _wait_for(lambda: output().count(BANNER_END) == 2, "the banner again", output, 15)
        text = output()
        after_banner = text[len(at_banner) :].split(BANNER_START)[0]
        lines = [line for line in after_banner.splitlines() if line.strip()]

        # After the banner only what runs and sensors did, at INFO: no startup lines.
        assert lines, "the history run logged nothing at INFO"
        assert all(RUN_OR_SENSOR_INFO.match(line) for line in lines), lines
        assert any(" - tiktok_sync_job - " in line for line in lines), lines
        # No DEBUG run events, no warnings, anywhere.
        assert " - DEBUG - " not in text
        warnings = [
            line
            for line in text.splitlines()
            if re.search("warning", line, re.IGNORECASE)
            # A fresh data folder's one-time notice says which file to back up: actionable.
            and "generated the key that encrypts seller tokens" not in line
        ]
        assert not warnings, warnings
        # No sensor chatter: nothing about the webhook sensor's ticks, no line repeated...
        assert "tiktok_webhook_sensor" not in text
        repeated = collections.Counter(
            RUN_OR_SENSOR_INFO.sub("", re.sub(r"[0-9a-f-]{36}", "<run>", line)) for line in lines
        )
        assert max(repeated.values()) <= 2, repeated.most_common(3)
        # ...while the UI still has every tick and its reason.
        ticks = _graphql(
            ports["dagster"],
            "{ sensorOrError(sensorSelector: {repositoryLocationName: "
            f'"{LOCATION_NAME}", repositoryName: "__repository__", '
            'sensorName: "tiktok_webhook_sensor"}) '
            "{ ... on Sensor { sensorState { ticks(limit: 10) { status skipReason } } } } }",
        )["sensorOrError"]["sensorState"]["ticks"]
        assert len(ticks) >= 3
        assert (
            ticks[0]["status"] == "SKIPPED" and "no pending webhook rows" in ticks[0]["skipReason"]
        )

        assert requests.get(f"http://127.0.0.1:{ports['dagster']}/server_info", timeout=5).ok
        with sqlite3.connect(database) as connection:
            shops = connection.execute("SELECT status FROM tiktok_shops").fetchall()
            registered = connection.execute("SELECT count(*) FROM tiktok_event_webhooks").fetchone()
        assert shops == [("active",), ("active",)]
        assert registered[0] > 0
        assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        log.close()
    assert "Stopped the sandbox, the web service and Dagster." in log_path.read_text()
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def test_the_code_location_has_one_name_everywhere():
    workspace = yaml.safe_load((REPOSITORY / "workspace.yaml").read_text())
    names = [entry["python_module"]["location_name"] for entry in workspace["load_from"]]
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    assert names == [LOCATION_NAME]
    assert pyproject["tool"]["dagster"]["code_location_name"] == LOCATION_NAME


def test_enter_on_a_pipe_asks_for_the_banner_and_its_end_stops_the_reading():
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "r") as stream:
        enter = EnterKey(stream)
        assert not enter.interactive
        assert enter.wait(0.05) is False
        os.write(write_end, b"\n")
        assert enter.wait(1) is True
        os.close(write_end)
        assert enter.wait(1) is False
        assert not enter.readable
        started = time.monotonic()
        assert enter.wait(0.2) is False  # sleeps instead of spinning on the ended pipe
        assert time.monotonic() - started >= 0.2


def test_enter_in_a_terminal_asks_for_the_banner():
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(terminal, "r", closefd=False) as stream:
            enter = EnterKey(stream)
            assert enter.interactive
            assert enter.wait(0.05) is False
            os.write(controller, b"\n")
            assert enter.wait(1) is True
    finally:
        os.close(controller)
        os.close(terminal)


@pytest.mark.parametrize("kind", ["devnull", "closed", "none"])
def test_standard_input_that_cannot_be_read_never_breaks_the_wait(kind):
    if kind == "devnull":
        stream = open(os.devnull)
    elif kind == "closed":
        stream = open(os.devnull)
        stream.close()
    else:
        stream = None
    enter = EnterKey(stream)
    for _ in range(3):
        assert enter.wait(0.01) is False
    assert not enter.readable
    if stream is not None:
        stream.close()


def test_a_closed_standard_input_is_no_error():
    """Standard input closed outright (``<&-``): waiting for Enter just waits."""
    script = (
        "import sys\n"
        "from tiktok_pipeline.cli.dev_banner import EnterKey\n"
        "enter = EnterKey(sys.stdin)\n"
        "print(enter.wait(0.05), enter.readable)\n"
    )
    done = subprocess.run(
        ["/bin/sh", "-c", f'exec "{sys.executable}" -c "$0" <&-', script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_a_failed_run_gets_an_error_line_with_its_page():
    run = {
        "runId": "0123abcd-0000-0000-0000-000000000000",
        "jobName": "tiktok_sync_job",
        "status": "FAILURE",
        "startTime": 1_796_300_000.0,
        "endTime": 1_796_300_125.0,
    }
    line = describe(run, "http://127.0.0.1:3000")
    assert line == (
        "2026-12-03 12:15:25 +0000 - tiktok-pipeline - ERROR - run 0123abcd of tiktok_sync_job "
        "failed after 2 min 5 s: http://127.0.0.1:3000/runs/0123abcd-0000-0000-0000-000000000000"
    )
    never_started = describe({**run, "startTime": None}, "http://127.0.0.1:3000")
    assert " failed: http://" in never_started


def test_run_lines_wait_quietly_while_the_ui_does_not_answer():
    assert RunEnds(f"http://127.0.0.1:{_free_port()}", since=0).lines() == []


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_stopping_ends_what_a_service_left_in_its_process_group():
    services = Services()
    # The service's own process exits on SIGTERM; the child it started (a run worker, say)
    # stays in its process group and must not outlive `tiktok-pipeline dev`.
    service = services.start("service", ["/bin/sh", "-c", "sleep 300 & exec sleep 301"], {})
    time.sleep(0.5)
    assert _group_alive(service.pid)
    started = time.monotonic()
    services.stop()
    assert time.monotonic() - started < 10
    assert not _group_alive(service.pid)


def test_a_service_that_ignores_sigterm_is_killed_after_the_grace_period(monkeypatch):
    monkeypatch.setattr(dev_services, "STOP_SECONDS", 1)
    services = Services()
    stubborn = services.start("stubborn", ["/bin/sh", "-c", "trap '' TERM; sleep 300 & wait"], {})
    time.sleep(0.5)
    services.stop()
    assert stubborn.returncode == -signal.SIGKILL
    assert not _group_alive(stubborn.pid)
