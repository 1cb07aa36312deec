"""Faults on demand: latency, rate limits, error answers, slow and dropped responses."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields


@dataclass
class FaultSettings:
    """What to inject into Open API and token calls (never into /sandbox/ control calls).

    Shares are probabilities in [0, 1] rolled per request, in this order: drop, slow, 503,
    429, internal error. ``limit`` caps how many faults of those kinds are injected in total
    (then they stop by themselves); latency and the QPS limit are not counted.

    Attributes:
        latency_ms: fixed delay added to every answer.
        jitter_ms: extra random delay in [0, jitter_ms].
        rate_limit_qps: requests allowed per second per (app, shop); beyond: 429 + 36009002.
        retry_after: seconds for a Retry-After header on 429 answers (None: no header).
        error_429_share: share of answers that are HTTP 429 + 36009002.
        error_503_share: share of answers that are HTTP 503.
        error_503_body: ``"json"`` (TikTok envelope) or ``"html"`` (a non-JSON page).
        internal_error_share: share of answers that are HTTP 200 + 36009003.
        slow_share: share of answers delayed by ``slow_seconds`` (past a read timeout).
        slow_seconds: the delay of slow answers.
        drop_share: share of requests whose connection is closed without an answer.
        paths: only requests whose path starts with one of these get faults (empty: all).
        limit: total number of share-based faults to inject (None: unlimited).
    """

    latency_ms: int = 0
    jitter_ms: int = 0
    rate_limit_qps: float | None = None
    retry_after: int | None = None
    error_429_share: float = 0.0
    error_503_share: float = 0.0
    error_503_body: str = "json"
    internal_error_share: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 35.0
    drop_share: float = 0.0
    paths: tuple[str, ...] = ()
    limit: int | None = None

    @classmethod
    def from_dict(cls, values: dict) -> FaultSettings:
        """Settings from a JSON object; raises ValueError naming unknown or bad fields."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown}; known settings: {sorted(known)}")
        settings = cls(**{k: v for k, v in values.items() if k != "paths"})
        if "paths" in values:
            paths = values["paths"]
            if isinstance(paths, str):
                paths = [paths]
            settings.paths = tuple(paths or ())
        for name in (
            "error_429_share",
            "error_503_share",
            "internal_error_share",
            "slow_share",
            "drop_share",
        ):
            share = getattr(settings, name)
            if not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
        if settings.error_503_body not in ("json", "html"):
            raise ValueError('error_503_body must be "json" or "html"')
        if settings.rate_limit_qps is not None and settings.rate_limit_qps <= 0:
            raise ValueError("rate_limit_qps must be positive (or null for no limit)")
        return settings

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        out = asdict(self)
        out["paths"] = list(self.paths)
        return out


class FaultInjector:
    """Decides, per request, which fault (if any) to inject."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.settings = FaultSettings()
        self.injected = 0
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def set(self, settings: FaultSettings) -> None:
        """Replace the fault settings."""
        with self._lock:
            self.settings = settings
            self.injected = 0
            self._windows.clear()
            self._rng = random.Random(self._seed)

    def clear(self) -> None:
        """No faults."""
        self.set(FaultSettings())

    def applies(self, path: str) -> bool:
        """True when faults apply to ``path``."""
        paths = self.settings.paths
        return not paths or any(path.startswith(p) for p in paths)

    def delay(self) -> float:
        """Seconds of latency to add to this answer."""
        s = self.settings
        if not s.latency_ms and not s.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._rng.uniform(0, s.jitter_ms) if s.jitter_ms else 0.0
        return (s.latency_ms + jitter) / 1000

    def roll(self) -> str | None:
        """The share-based fault for this request: drop, slow, 503, 429, internal or None."""
        s = self.settings
        if not (
            s.drop_share
            or s.slow_share
            or s.error_503_share
            or s.error_429_share
            or s.internal_error_share
        ):
            return None
        with self._lock:
            if s.limit is not None and self.injected >= s.limit:
                return None
            for kind, share in (
                ("drop", s.drop_share),
                ("slow", s.slow_share),
                ("503", s.error_503_share),
                ("429", s.error_429_share),
                ("internal", s.internal_error_share),
            ):
                if share and self._rng.random() < share:
                    self.injected += 1
                    return kind
        return None

    def over_rate(self, app_key: str, scope: str) -> bool:
        """Count a request of (app, shop) and say whether it exceeds the QPS limit."""
        qps = self.settings.rate_limit_qps
        if qps is None:
            return False
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault((app_key, scope), deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= qps:
                return True
            window.append(now)
            return False
