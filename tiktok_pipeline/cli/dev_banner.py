"""What ``tiktok-pipeline dev`` prints once everything runs, and Enter to print it again."""

from __future__ import annotations

import errno
import os
import select
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass(frozen=True)
class Addresses:
    """Where the services of ``tiktok-pipeline dev`` answer, and what they hold."""

    dagster_ui: str
    web_service: str
    sandbox: str
    database: Path
    history_days: int
    partitions_start: str


def banner(where: Addresses, *, enter_reprints: bool) -> str:
    """The "where to click" text."""
    advance = f"{where.sandbox}/sandbox/clock/advance"
    again = "Enter shows this again; " if enter_reprints else ""
    return f"""
tiktok-pipeline is running on the embedded default (SQLite + the local TikTok Shop sandbox).

  Dagster UI        {where.dagster_ui}
                    Assets > tiktok_orders > Materialize > pick a day (the sandbox's data
                    starts {where.partitions_start}). The new-shop sensor is already pulling
                    the sandbox shops' last {where.history_days} days of history.
  Web service       {where.web_service}/  (its health; "Connect a TikTok Shop")
  Sandbox           {where.sandbox}/sandbox  (console: time, webhooks, faults)
                    or move time an hour from a shell (orders change, webhooks are pushed):
                    curl -X POST {advance} -d '{{"seconds": 3600}}'
  Warehouse         sqlite3 {where.database} "SELECT * FROM tiktok_daily_sales LIMIT 10"

Runs log here at INFO, and a line when each ends; the Dagster UI has every event.
{again}Ctrl-C stops everything.
"""


class EnterKey:
    """Tells when a line (Enter) arrives on standard input, for as long as it can be read.

    Standard input may be a terminal, a pipe, ``/dev/null`` (``nohup``, CI) or closed; anything
    but a readable stream just makes :meth:`wait` sleep. A terminal is only read while this
    process is in its foreground: reading it from the background would stop the process.
    """

    def __init__(self, stream: TextIO | None) -> None:
        self._fd: int | None = None
        self.interactive = False
        if stream is None:
            return
        try:
            self._fd = stream.fileno()
            self.interactive = os.isatty(self._fd)
        except (OSError, ValueError):
            self._fd = None

    @property
    def readable(self) -> bool:
        """False once standard input ended, failed or never was there."""
        return self._fd is not None

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when Enter was pressed (a line arrived) meanwhile."""
        fd = self._fd
        if fd is None or (self.interactive and not _in_foreground(fd)):
            time.sleep(seconds)
            return False
        try:
            ready, _, _ = select.select([fd], [], [], seconds)
            if not ready:
                return False
            data = os.read(fd, 4096)
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.EAGAIN):
                # EIO: read from the background (SIGTTIN ignored); try again later.
                time.sleep(seconds)
                return False
            self._fd = None
            return False
        except ValueError:
            self._fd = None
            return False
        if not data:
            self._fd = None  # end of input: /dev/null, a closed pipe, Ctrl-D
            return False
        return b"\n" in data or b"\r" in data


def _in_foreground(fd: int) -> bool:
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        # Not our controlling terminal: reading it cannot stop us.
        return True
