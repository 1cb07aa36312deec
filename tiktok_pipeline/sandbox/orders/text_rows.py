"""Writing the same JSON text for many objects at once, with numpy.

A :class:`RowLayout` describes a run of text with holes: decimal numbers, and texts picked
from a :class:`TextTable` (padded with NUL bytes to the table's width). One uint8 row per
object holds it; the layout is cut into *segments*, each ending where its text may end
early: a segment's trailing NULs (a short text, or an optional part that was zeroed) are
dropped when it is read out as bytes. Joining the segments with other per-object pieces
(``bytes.join`` over rows) gives each object's text without any Python code per field.

Number holes are *padded* (exactly ``width`` digits, leading zeros: ids, check digits; the
fast case) or *free* (the number's plain decimal text, sign included, NUL-padded to the
hole's width: any int64 fits 20 bytes). Free holes leave NULs inside segments, which
:meth:`RowLayout.segments` then removes: slower, so free holes are meant for unusual values.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiktok_pipeline.sandbox.catalog import money

#: Characters of the longest int64 text ("-9223372036854775808").
INT64_WIDTH = 20


@functools.cache
def digits5() -> np.ndarray:
    """The five ASCII digits of 0..99999 (a (100000, 5) uint8 table, made once)."""
    values = np.arange(100_000, dtype=np.int64)
    powers = 10 ** np.arange(4, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10 + 48).astype(np.uint8)


@functools.cache
def digits5_packed() -> np.ndarray:
    """:func:`digits5` with each row in the first 5 bytes of a uint64 (one gather per number)."""
    packed = np.zeros((100_000, 8), np.uint8)
    packed[:, :5] = digits5()
    return packed.view(np.uint64).ravel()


def table(items: Sequence[str | bytes]) -> np.ndarray:
    """A lookup table of byte strings (an object array: indexing it is done in C)."""
    out = np.empty(len(items), object)
    out[:] = [x.encode() if isinstance(x, str) else x for x in items]
    return out


def lengths(pieces: np.ndarray) -> np.ndarray:
    """The length of every bytes object of a table."""
    return np.fromiter(map(len, pieces), np.int64, len(pieces))


class TextTable:
    """Texts padded with NULs to a common width, to be written into layout rows."""

    def __init__(self, texts: Sequence[str]) -> None:
        encoded = [t.encode() for t in texts]
        if any(b"\0" in t for t in encoded):
            raise ValueError("texts must not contain NUL bytes")
        self.width = max((len(t) for t in encoded), default=0)
        self.rows = np.zeros((len(encoded), self.width), np.uint8)
        for n, text in enumerate(encoded):
            self.rows[n, : len(text)] = np.frombuffer(text, np.uint8)


@dataclass(frozen=True)
class Hole:
    """Where a number goes in a row: ``width`` bytes from ``start``.

    ``source``: the number whose (last ``width``) digits the hole repeats (default: its own
    name); ``free``: plain decimal text, NUL-padded, instead of exactly ``width`` digits.
    """

    start: int
    width: int
    source: str
    free: bool


class RowLayout:
    """A run of text with holes, split into segments (see the module doc).

    Build it with :meth:`text`, :meth:`number`, :meth:`pick`, :meth:`mark` and :meth:`end`;
    then per batch make :meth:`new` rows, fill them, and read them out with :meth:`segments`.
    """

    def __init__(self) -> None:
        self._row = bytearray()
        self.numbers: dict[str, Hole] = {}
        self.texts: dict[str, tuple[int, TextTable]] = {}
        self.segments_at: list[tuple[str, int, int]] = []
        self.marks: dict[str, int] = {}
        self._start = 0
        self._plans: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._prefix_masks: dict[tuple[int, int], np.ndarray] = {}

    # -- building -------------------------------------------------------------------------

    def text(self, text: str) -> RowLayout:
        """Literal text."""
        self._row.extend(text.encode())
        return self

    def number(
        self, name: str, width: int, source: str | None = None, free: bool = False
    ) -> RowLayout:
        """A hole for a decimal number.

        Padded (``free`` False): exactly ``width`` digits (1 to 10), zero-padded; the caller
        makes sure the numbers fit. Free: the number's text, up to ``width`` characters.
        ``source``: the hole repeats another number (give only that one).
        """
        if name in self.numbers:
            raise ValueError(f"duplicate hole {name}")
        if not 1 <= width <= (INT64_WIDTH if free else 10):
            raise ValueError(f"hole {name} is too wide")
        self.numbers[name] = Hole(len(self._row), width, source or name, free)
        self._row.extend((b"\0" if free else b"0") * width)
        return self

    def pick(self, name: str, texts: TextTable) -> RowLayout:
        """A hole for one text of a table."""
        self.texts[name] = (len(self._row), texts)
        self._row.extend(b"\0" * texts.width)
        return self

    def mark(self, name: str) -> RowLayout:
        """Remember the current position (e.g. where an optional part starts)."""
        self.marks[name] = len(self._row)
        return self

    def end(self, name: str) -> RowLayout:
        """End a segment here."""
        self.segments_at.append((name, self._start, len(self._row)))
        self._start = len(self._row)
        return self

    @functools.cached_property
    def base(self) -> np.ndarray:
        """The literal text of a row (holes: zeros and NULs)."""
        return np.frombuffer(bytes(self._row), np.uint8)

    @functools.cached_property
    def segment_dtype(self) -> np.dtype:
        """A row seen as one fixed-width bytes field per segment."""
        return np.dtype(
            {
                "names": [name for name, _a, _b in self.segments_at],
                "formats": [f"S{b - a}" for _n, a, b in self.segments_at],
                "offsets": [a for _n, a, _b in self.segments_at],
                "itemsize": self.width,
            }
        )

    @property
    def width(self) -> int:
        """Bytes per row."""
        return len(self._row)

    @functools.cached_property
    def free_holes(self) -> tuple[Hole, ...]:
        """The free holes (rows may then hold NULs inside segments)."""
        return tuple(hole for hole in self.numbers.values() if hole.free)

    @functools.cached_property
    def sources(self) -> tuple[frozenset[str], frozenset[str]]:
        """(every number the holes need, those written as padded digits)."""
        holes = self.numbers.values()
        return (
            frozenset(hole.source for hole in holes),
            frozenset(hole.source for hole in holes if not hole.free),
        )

    # -- per batch ------------------------------------------------------------------------

    def new(self, n: int) -> np.ndarray:
        """``n`` rows holding the literal text."""
        rows = np.empty((n, self.width), np.uint8)
        rows[:] = self.base
        return rows

    def put_numbers(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Write the numbers every hole needs (int64 arrays, one value per row)."""
        n = len(rows)
        if not n:
            return
        needed, digits = self.sources
        if needed != values.keys():
            raise ValueError(f"give exactly the numbers the holes need: {sorted(needed)}")
        padded = tuple(name for name in values if name in digits)
        if padded:
            dst, src = self._plan(padded)
            stacked = np.array([values[name] for name in padded], np.int64).T
            upper = stacked // 100_000
            packed = digits5_packed()
            pairs = np.empty((n, len(padded), 2), np.uint64)
            pairs[:, :, 0] = packed[upper]
            pairs[:, :, 1] = packed[stacked - upper * 100_000]
            rows[:, dst] = pairs.view(np.uint8).reshape(n, -1)[:, src]
        for hole in self.free_holes:
            text = np.asarray(values[hole.source], np.int64).astype(f"S{hole.width}")
            rows[:, hole.start : hole.start + hole.width] = text.view(np.uint8).reshape(
                n, hole.width
            )

    def _plan(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Where the digits of these numbers go: (dst columns, src columns).

        The source row holds, per number, its 5 high digits then its 5 low digits, each
        group in the first 5 bytes of 8.
        """
        plan = self._plans.get(names)
        if plan is None:
            position = {name: j for j, name in enumerate(names)}
            dst: list[int] = []
            src: list[int] = []
            for hole in self.numbers.values():
                if hole.free:
                    continue
                j = position[hole.source]
                for d in range(hole.width):
                    digit = 10 - hole.width + d
                    src.append(j * 16 + (digit if digit < 5 else digit + 3))
                    dst.append(hole.start + d)
            plan = (np.array(dst, np.intp), np.array(src, np.intp))
            self._plans[names] = plan
        return plan

    def put_text(self, rows: np.ndarray, name: str, keys: np.ndarray) -> None:
        """Write the texts ``keys`` of a pick hole's table."""
        start, texts = self.texts[name]
        rows[:, start : start + texts.width] = texts.rows[keys]

    def keep(self, rows: np.ndarray, start: str, stop: str, where: np.ndarray) -> None:
        """Zero a span (from a mark or segment start to a segment end) except in ``where``."""
        a = self._position(start, 0)
        b = self._position(stop, 1)
        rows[:, a:b] *= where.view(np.uint8)[:, None]

    def keep_prefix(self, rows: np.ndarray, start: str, lengths: np.ndarray) -> None:
        """Keep only the first ``lengths[i]`` bytes of row i from ``start`` to its segment end."""
        a = self._position(start, 0)
        b = next(stop for _n, s, stop in self.segments_at if s <= a < stop)
        masks = self._prefix_masks.get((a, b))
        if masks is None:
            # Row L: L ones then zeros, for every length L the span can keep.
            masks = (np.arange(b - a) < np.arange(b - a + 1)[:, None]).astype(np.uint8)
            self._prefix_masks[(a, b)] = masks
        rows[:, a:b] *= masks[lengths]

    def _position(self, where: str, side: int) -> int:
        """A column: a mark, or a segment's start (side 0) or end (side 1)."""
        if where in self.marks:
            return self.marks[where]
        for name, start, stop in self.segments_at:
            if name == where:
                return (start, stop)[side]
        raise KeyError(where)

    def segments(self, rows: np.ndarray) -> dict[str, list[bytes]]:
        """Every segment of every row as bytes, without NULs."""
        view = rows.view(self.segment_dtype).ravel()
        out = {name: view[name].tolist() for name, _a, _b in self.segments_at}
        if self.free_holes:
            for name, texts in out.items():
                out[name] = [text.replace(b"\0", b"") for text in texts]
        return out


class Lookup:
    """Several lookup tables of byte strings, read together (one gather for all of them)."""

    def __init__(self, tables: dict[str, np.ndarray]) -> None:
        self.sizes = {name: len(t) for name, t in tables.items()}
        self.offsets = np.cumsum([0, *self.sizes.values()])[:-1][:, None]
        self.pieces = np.concatenate(list(tables.values()))

    def none(self, name: str) -> int:
        """The key of a table's last entry (the empty text, for absent pieces)."""
        return self.sizes[name] - 1

    def __call__(self, keys: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
        """The pieces of every table (give keys for all of them, in the tables' order)."""
        if list(keys) != list(self.sizes):
            raise ValueError("give keys for every table, in the tables' order")
        picked = self.pieces[np.array(list(keys.values()), np.int64) + self.offsets]
        return dict(zip(keys, picked.tolist(), strict=True))


class MoneyText:
    """Decimal strings of minor-unit amounts as bytes, for arrays of amounts.

    Amounts in [0, ``TABLE_SIZE``) come from a table shared by every shop with the same
    decimals; others (large or negative) are formatted one by one.
    """

    TABLE_SIZE = 1 << 17

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The text of every amount (an object array of bytes)."""
        if not len(values):
            return np.empty(0, object)
        if values.min() >= 0 and values.max() < self.TABLE_SIZE:
            return money_table(self.decimals, self.TABLE_SIZE)[values]
        out = np.empty(len(values), object)
        out[:] = [money(v, self.decimals).encode() for v in values.tolist()]
        return out


@functools.cache
def money_table(decimals: int, size: int) -> np.ndarray:
    """``money(v, decimals)`` as bytes for v in 0..size-1 (built by concatenation: fast)."""
    if decimals == 0:
        return table([b"%d" % v for v in range(size)])
    unit = 10**decimals
    fractions = [b".%0*d" % (decimals, f) for f in range(unit)]
    wholes = [b"%d" % w for w in range(-(-size // unit))]
    return table([w + f for w in wholes for f in fractions][:size])
