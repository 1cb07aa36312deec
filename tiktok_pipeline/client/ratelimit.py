"""A client-side rate limiter per (app, shop), shared by all threads of a process.

TikTok's quota unit is app x shop (reference §10). Each key gets a generic cell rate algorithm
(GCRA) limiter: calls are spaced ``1/qps`` apart on average with a burst allowance, and waiting
happens outside the lock so that threads of other shops never wait for this one.

The client takes its limiters from a :class:`RateLimiterSource`: by default :data:`LIMITERS`,
one per process; the operational store's ``store.rate_limits`` shares each (app, shop) budget
between every process using the same database (several runs syncing one shop at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    """Anything that makes a caller wait for its turn."""

    def acquire(self) -> float:
        """Block until a call may be made; returns the seconds waited."""
        ...


class RateLimiterSource(Protocol):
    """Where a client gets the limiter of an (app, shop) budget."""

    def get(self, app_key: str, shop_key: str, qps: float, burst: int = 1) -> Limiter:
        """The limiter for calls of ``app_key`` for ``shop_key`` at ``qps``."""
        ...


class RateLimiter:
    """At most ``qps`` calls per second on average, allowing ``burst`` back-to-back calls."""

    def __init__(
        self,
        qps: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive (use None on the client to disable limiting)")
        self._interval = 1.0 / qps
        self._tolerance = self._interval * (max(1, burst) - 1)
        self._theoretical_arrival = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def reserve(self) -> float:
        """Claim the next slot; returns how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            arrival = max(self._theoretical_arrival, now)
            wait = max(0.0, arrival - self._tolerance - now)
            self._theoretical_arrival = arrival + self._interval
            return wait

    def acquire(self) -> float:
        """Block until a call may be made; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class RateLimiterRegistry:
    """One :class:`RateLimiter` per (app key, shop key), created on first use."""

    def __init__(self) -> None:
        self._limiters: dict[tuple[str, str, float, int], RateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, app_key: str, shop_key: str, qps: float, burst: int = 1) -> RateLimiter:
        """The process-wide limiter for this app and shop at this rate."""
        key = (app_key, shop_key, qps, burst)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = RateLimiter(qps, burst)
            return limiter


#: Shared by every client of the process, so two clients for the same app and shop share a budget.
LIMITERS = RateLimiterRegistry()
