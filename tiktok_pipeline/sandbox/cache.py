"""Bounded caches: serialized bodies (by their total size) and search results (by entries)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any


class BodyCache:
    """Serialized objects (JSON bytes), least recently used first out, bounded by total size.

    Keys must say everything a body depends on (for orders: the shop, the order and its
    lifecycle step), so an entry never goes stale. Threads may share the cache.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Sequence[Hashable]) -> list[bytes | None]:
        """The bodies of ``keys`` (None for those not cached)."""
        with self._lock:
            found = list(map(self._bodies.get, keys))
            for key, body in zip(keys, found, strict=True):
                if body is not None:
                    self._bodies.move_to_end(key)
            misses = found.count(None)
            self.hits += len(found) - misses
            self.misses += misses
            return found

    def put_many(self, keys: Sequence[Hashable], bodies: Sequence[bytes]) -> None:
        """Store bodies, forgetting the least recently used ones beyond the size bound."""
        with self._lock:
            for key, body in zip(keys, bodies, strict=True):
                old = self._bodies.pop(key, None)
                if old is not None:
                    self._size -= len(old)
                if len(body) <= self.max_bytes:
                    self._bodies[key] = body
                    self._size += len(body)
            while self._size > self.max_bytes:
                self._size -= len(self._bodies.popitem(last=False)[1])

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The body of ``key``, made and stored on a miss."""
        body = self.get_many([key])[0]
        if body is None:
            body = make()
            self.put_many([key], [body])
        return body

    def has(self, key: Hashable) -> bool:
        """Whether ``key`` is cached (no statistics, no recency)."""
        with self._lock:
            return key in self._bodies

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._bodies.clear()
            self._size = 0

    def stats(self) -> dict[str, int]:
        """Entries, bytes held, the bound, hits and misses."""
        with self._lock:
            return {
                "entries": len(self._bodies),
                "bytes": self._size,
                "capacity": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
            }


class EntryLRU:
    """An LRU of arbitrary values bounded by the number of entries."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max(1, max_entries)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value for ``key`` or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used entries."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
