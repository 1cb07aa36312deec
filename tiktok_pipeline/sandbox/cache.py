"""Bounded caches: serialized objects (by bytes) and search results (by entries)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class ByteLRU:
    """An LRU of serialized objects bounded by their total size in bytes.

    Values are ``(valid_from, valid_until, body)``: the serialized form of an entity that
    holds for virtual times in [valid_from, valid_until).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[int, float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_valid(self, key: Hashable, t: int) -> bytes | None:
        """The cached body for ``key`` if it is valid at time ``t``."""
        entry = self._data.get(key)
        if entry is None or not entry[0] <= t < entry[1]:
            self.misses += 1
            return None
        self.hits += 1
        try:
            self._data.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return entry[2]

    def put(self, key: Hashable, valid_from: int, valid_until: float, body: bytes) -> None:
        """Store a body valid for [valid_from, valid_until)."""
        data = self._data
        with self._lock:
            old = data.pop(key, None)
            if old is not None:
                self._size -= len(old[2])
            data[key] = (valid_from, valid_until, body)
            self._size += len(body)
            while self._size > self.max_bytes and data:
                _, evicted = data.popitem(last=False)
                self._size -= len(evicted[2])

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The cached body for an immutable ``key``, computing and storing it on a miss."""
        body = self.get_valid(key, 0)
        if body is None:
            body = make()
            self.put(key, 0, 1, body)
        return body

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self._size = 0

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses."""
        return {
            "entries": len(self._data),
            "bytes": self._size,
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
