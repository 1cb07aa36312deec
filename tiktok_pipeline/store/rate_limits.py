"""Rate limit budgets shared by every process that uses the store.

TikTok counts calls per app and shop, whichever process makes them: an incremental run, a
history backfill and a webhook refresh of one shop share one budget. Each budget is one row of
``tiktok_rate_limits`` holding the GCRA's *theoretical arrival time* (Unix seconds), advanced by
one atomic ``UPDATE ... RETURNING`` per call, so no two callers get the same slot on either
backend. If the database cannot be reached the limiter keeps the same spacing within the process
(and says so once) rather than failing the call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from tiktok_pipeline.store._sql import upsert_insert
from tiktok_pipeline.store.schema import tiktok_rate_limits as limits_t

log = logging.getLogger(__name__)


class SharedRateLimiter:
    """At most ``qps`` calls per second on average for one budget, across processes.

    Args:
        engine: the operational store's engine.
        key: the budget's name (app key and shop).
        qps: calls per second on average.
        burst: calls allowed back to back before the spacing applies.
    """

    def __init__(
        self,
        engine: sa.Engine,
        key: str,
        qps: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive (use None on the client to disable limiting)")
        self.engine = engine
        self.key = key
        self._interval = 1.0 / qps
        self._tolerance = self._interval * (max(1, burst) - 1)
        self._clock = clock
        self._sleep = sleep
        self._warned = False
        self._lock = threading.Lock()
        self._local_arrival = 0.0  # the spacing kept while the database is unreachable
        tat = limits_t.c.theoretical_arrival
        self._advance = (
            sa.update(limits_t)
            .where(limits_t.c.key == key)
            .values(
                theoretical_arrival=sa.case(
                    (tat > sa.bindparam("now"), tat), else_=sa.bindparam("now")
                )
                + self._interval
            )
            .returning(tat)
        )

    def reserve(self) -> float:
        """Claim the budget's next slot; returns how long the caller must wait before using it."""
        now = self._clock()
        with self.engine.begin() as conn:
            arrival = conn.execute(self._advance, {"now": now}).scalar()
            if arrival is None:  # the budget's first call: create its row, then claim
                conn.execute(
                    upsert_insert(conn, limits_t)
                    .values(key=self.key, theoretical_arrival=now)
                    .on_conflict_do_nothing(index_elements=[limits_t.c.key])
                )
                arrival = conn.execute(self._advance, {"now": now}).scalar_one()
        return max(0.0, arrival - self._interval - self._tolerance - now)

    def _reserve_locally(self) -> float:
        now = self._clock()
        with self._lock:
            arrival = max(self._local_arrival, now)
            self._local_arrival = arrival + self._interval
        return max(0.0, arrival - self._tolerance - now)

    def acquire(self) -> float:
        """Block until a call may be made; returns the seconds waited."""
        try:
            wait = self.reserve()
        except sa.exc.SQLAlchemyError as exc:
            if not self._warned:
                self._warned = True
                log.warning(
                    "the shared rate limit %s is unreachable (%s); limiting this process alone",
                    self.key,
                    type(exc).__name__,
                )
            wait = self._reserve_locally()
        if wait > 0:
            self._sleep(wait)
        return wait


class SharedRateLimits:
    """The store's rate limit budgets, one per (app key, shop): a client's ``rate_limits``."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use ``engine`` (already migrated) for every query."""
        self.engine = engine
        self._limiters: dict[tuple[str, str, float, int], SharedRateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, app_key: str, shop_key: str, qps: float, burst: int = 1) -> SharedRateLimiter:
        """The shared limiter of this app's budget for ``shop_key`` at ``qps``."""
        key = (app_key, shop_key, qps, burst)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = SharedRateLimiter(
                    self.engine, f"{app_key}:{shop_key}"[:200], qps, burst
                )
            return limiter
