"""The README's main command, `tiktok-pipeline dev`, from an empty folder: everything starts,
the sandbox seller is connected, rows land within a couple of minutes, Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dev_runs_the_pipeline_on_the_embedded_default(tmp_path):
    ports = {name: _free_port() for name in ("dagster", "web", "sandbox")}
    log = (tmp_path / "dev.log").open("w")
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
            "30",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    database = tmp_path / "data" / "tiktok.db"
    try:
        deadline = time.monotonic() + 300
        orders = 0
        while time.monotonic() < deadline and orders == 0:
            assert process.poll() is None, (tmp_path / "dev.log").read_text()[-5000:]
            if database.exists():
                with sqlite3.connect(database) as connection:
                    try:
                        orders = connection.execute(
                            "SELECT count(*) FROM tiktok_orders"
                        ).fetchone()[0]
                    except sqlite3.OperationalError:
                        orders = 0
            time.sleep(2)
        output = (tmp_path / "dev.log").read_text()
        assert orders > 0, output[-5000:]
        assert f"http://127.0.0.1:{ports['dagster']}" in output
        assert requests.get(f"http://127.0.0.1:{ports['dagster']}/server_info", timeout=5).ok
        with sqlite3.connect(database) as connection:
            shops = connection.execute("SELECT status FROM tiktok_shops").fetchall()
            registered = connection.execute("SELECT count(*) FROM tiktok_event_webhooks").fetchone()
        assert shops == [("active",), ("active",)]
        assert registered[0] > 0
        assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
