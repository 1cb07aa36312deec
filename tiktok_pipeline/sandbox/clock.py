"""The sandbox's virtual clock: real time plus an offset, or frozen until advanced."""

from __future__ import annotations

import threading
import time


class VirtualClock:
    """Virtual epoch seconds for the data (orders, returns, products move with it).

    Token expiry and request timestamps use the real wall clock, not this one.
    """

    def __init__(self, start: int, frozen: bool) -> None:
        self._lock = threading.Lock()
        self._start = int(start)
        self.frozen = frozen
        self._reset_locked()

    def _reset_locked(self) -> None:
        if self.frozen:
            self._frozen_at = self._start
        else:
            self._offset = self._start - time.time()

    def now(self) -> int:
        """The current virtual time in whole epoch seconds."""
        if self.frozen:
            return self._frozen_at
        return int(time.time() + self._offset)

    def advance(self, seconds: int) -> tuple[int, int]:
        """Move the clock forward; returns (before, after)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward: seconds must be >= 0")
        with self._lock:
            before = self.now()
            if self.frozen:
                self._frozen_at += int(seconds)
            else:
                self._offset += int(seconds)
            return before, self.now()

    def reset(self) -> None:
        """Back to the start time."""
        with self._lock:
            self._reset_locked()
