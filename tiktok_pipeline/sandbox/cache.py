"""Bounded caches: serialized objects (in an arena of bytes) and search results (by entries)."""

from __future__ import annotations

import mmap
import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from itertools import accumulate, repeat
from typing import Any


class ArenaCache:
    """Serialized objects kept in pre-allocated memory segments, bounded by their total size.

    Each entry is a body and the virtual times [valid_from, valid_until) it holds for. Bodies
    are copied into the current segment of a ring of equal segments (allocated one at a
    time, up to ``max_bytes``); when the ring is full, the oldest segment is reused and the
    entries in it are forgotten (first in, first out). Copying into memory that was mapped
    and populated in one go is much cheaper than allocating a fresh object per body: fresh
    memory costs a page fault per 4 KiB, which dominates serving a first walk of a search
    (every body is new) on virtual machines.

    The segments are mapped and populated by the kernel in a background thread as soon as
    the cache is made (reserving its memory up front), so that no store waits for memory.
    Reads return copies (``bytes``), unless the caller asks for views and uses them before
    anything else is stored (the sandbox joins them into its answer at once). Reads and
    stores take one lock, so threads may share the cache.
    """

    SEGMENT = 16 * 1024 * 1024

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.segment_size = max(64 * 1024, min(self.SEGMENT, max_bytes))
        self.n_segments = max(1, max_bytes // self.segment_size)
        self._segments: list[memoryview] = []
        self._generations: list[int] = []
        self._keys_in: list[list[Hashable]] = []
        self._current = -1
        self._position = self.segment_size
        # key -> (segment, generation, start, stop, valid_from, valid_until)
        self._entries: dict[Hashable, tuple[int, int, int, int, int, float]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        # mmap(MAP_POPULATE) releases the GIL: this thread does not slow serving down.
        self._ready: queue.Queue[mmap.mmap] = queue.Queue()
        self._claims_lock = threading.Lock()
        self._claimed = 0  # segments being made or made, by the thread or on the spot
        self._reserved = 0  # bytes of segments made
        self._closed = False
        threading.Thread(target=self._map_ahead, name="sandbox-render-cache",
                         daemon=True).start()

    # -- reading --------------------------------------------------------------------------

    def get_valid(self, key: Hashable, t: int) -> bytes | None:
        """The cached body for ``key`` if it is valid at time ``t``."""
        return self.get_many([key], t)[0]

    def has_valid(self, key: Hashable, t: int) -> bool:
        """Whether ``key`` holds a body valid at ``t`` (no statistics)."""
        with self._lock:
            entry = self._entries.get(key)
            return (entry is not None and entry[4] <= t < entry[5]
                    and self._generations[entry[0]] == entry[1])

    def get_many(self, keys: Sequence[Hashable], t: int, views: bool = False
                 ) -> list[bytes | memoryview | None]:
        """:meth:`get_valid` of several keys.

        ``views``: return memoryviews into the cache instead of copies; they stay correct
        only until the next store (join them into an answer at once).
        """
        with self._lock:  # a store in another thread may recycle a segment meanwhile
            segments = self._segments
            generations = self._generations
            entries = list(map(self._entries.get, keys))
            valid = [e is not None and e[4] <= t < e[5] and generations[e[0]] == e[1]
                     for e in entries]
            misses = valid.count(False)
            self.hits += len(valid) - misses
            self.misses += misses
            if views:
                return [segments[e[0]][e[2] : e[3]] if ok else None
                        for e, ok in zip(entries, valid, strict=True)]
            return [bytes(segments[e[0]][e[2] : e[3]]) if ok else None
                    for e, ok in zip(entries, valid, strict=True)]

    # -- writing --------------------------------------------------------------------------

    def _claim_segment(self) -> bool:
        """Take one of the segments still to be made (False when all are, or on close)."""
        with self._claims_lock:
            if self._closed or self._claimed >= self.n_segments:
                return False
            self._claimed += 1
            return True

    def _new_segment(self) -> mmap.mmap:
        segment = _populated(self.segment_size)
        with self._claims_lock:
            self._reserved += self.segment_size
        return segment

    def _map_ahead(self) -> None:
        """Map and populate every segment, one after the other (runs in a thread)."""
        while self._claim_segment():
            self._ready.put(self._new_segment())

    def _take_segment(self) -> memoryview:
        """A new segment: one mapped ahead in the background, else one made now."""
        try:
            return memoryview(self._ready.get_nowait())
        except queue.Empty:
            pass
        if self._claim_segment() or self._closed:
            return memoryview(self._new_segment())
        return memoryview(self._ready.get())  # the thread is mapping the last ones

    def _next_segment(self) -> None:
        """Move on to the next segment (allocating it, or reusing the oldest one)."""
        nxt = (self._current + 1) % self.n_segments
        if nxt == len(self._segments):
            self._segments.append(self._take_segment())
            self._generations.append(0)
            self._keys_in.append([])
        else:
            generation = self._generations[nxt]
            entries = self._entries
            for key in self._keys_in[nxt]:
                entry = entries.get(key)
                if entry is not None and entry[0] == nxt and entry[1] == generation:
                    del entries[key]
                    self._size -= entry[3] - entry[2]
            self._keys_in[nxt] = []
            self._generations[nxt] = generation + 1
        self._current = nxt
        self._position = 0

    def _store(self, key: Hashable, body: bytes, valid_from: int, valid_until: float) -> None:
        """Copy one body in (the caller holds the lock)."""
        n = len(body)
        if n > self.segment_size:
            return  # too large to cache
        if self._position + n > self.segment_size:
            self._next_segment()
        start = self._position
        current = self._current
        self._segments[current][start : start + n] = body
        self._position = start + n
        old = self._entries.get(key)
        if old is not None and self._generations[old[0]] == old[1]:
            self._size -= old[3] - old[2]
        self._entries[key] = (current, self._generations[current], start, start + n,
                              valid_from, valid_until)
        self._keys_in[current].append(key)
        self._size += n

    def put(self, key: Hashable, valid_from: int, valid_until: float, body: bytes) -> None:
        """Store a body valid for [valid_from, valid_until)."""
        with self._lock:
            self._store(key, body, valid_from, valid_until)

    def put_many(self, keys: Sequence[Hashable], bodies: Sequence[bytes],
                 valid_from: Sequence[int], valid_until: Sequence[float]) -> None:
        """Store several bodies with their validity (see :meth:`put`)."""
        lengths = list(map(len, bodies))
        total = sum(lengths)
        entries = self._entries
        with self._lock:
            if (total > self.segment_size - self._position
                    or any(map(entries.__contains__, keys)) or len(set(keys)) < len(keys)):
                deque(map(self._store, keys, bodies, valid_from, valid_until), maxlen=0)
                return
            # New keys that fit in the current segment: copies and entries made in C.
            start = self._position
            current = self._current
            bounds = list(accumulate(lengths, initial=start))
            deque(map(self._segments[current].__setitem__, map(slice, bounds, bounds[1:]),
                      bodies), maxlen=0)
            entries.update(zip(keys, zip(
                repeat(current), repeat(self._generations[current]), bounds, bounds[1:],
                valid_from, valid_until, strict=False,
            ), strict=True))
            self._keys_in[current].extend(keys)
            self._position = start + total
            self._size += total

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The cached body for an immutable ``key``, computing and storing it on a miss."""
        body = self.get_valid(key, 0)
        if body is None:
            body = make()
            self.put(key, 0, 1, body)
        return body

    def clear(self) -> None:
        """Forget everything (the memory stays allocated for reuse)."""
        with self._lock:
            self._entries.clear()
            self._generations = [g + 1 for g in self._generations]
            self._keys_in = [[] for _ in self._segments]
            self._current = -1
            self._position = self.segment_size
            self._size = 0

    def close(self) -> None:
        """Stop mapping segments ahead (the memory goes with the last reference)."""
        self._closed = True

    def stats(self) -> dict[str, int]:
        """Entries, bytes of live bodies, bytes in use and mapped so far, hits and misses."""
        return {
            "entries": len(self._entries),
            "bytes": self._size,
            "allocated": len(self._segments) * self.segment_size,
            "reserved": self._reserved,
            "capacity": self.n_segments * self.segment_size,
            "hits": self.hits,
            "misses": self.misses,
        }


def _populated(size: int) -> mmap.mmap:
    """Anonymous memory, populated at once where the platform can (one call, no faults)."""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if flags and populate:
        try:
            return mmap.mmap(-1, size, flags=flags | populate)
        except OSError:
            pass
    return mmap.mmap(-1, size)


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
