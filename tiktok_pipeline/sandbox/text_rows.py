"""Writing the same JSON text for many objects at once, with numpy.

A :class:`RowLayout` describes a run of text with holes: fixed-width decimal numbers, and
texts picked from a :class:`TextTable` (padded with NUL bytes to the table's width). One
uint8 row per object holds it; the layout is cut into *segments*, each ending where its
text may end early: a segment's trailing NULs (a short text, or an optional part that is
absent and was zeroed) are dropped when it is read out as bytes, so no NUL is ever left
inside the text. Joining the segments with other per-object pieces (``bytes.join`` over
rows) gives each object's text without any Python code per field.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from tiktok_pipeline.sandbox.catalog import money

_DIGITS5: np.ndarray | None = None
_lock = threading.Lock()


class UnusualValues(Exception):
    """Numbers that do not fit their fixed-width holes (render these objects another way)."""


def digits5() -> np.ndarray:
    """The five ASCII digits of 0..99999 (a (100000, 5) uint8 table, made once)."""
    global _DIGITS5
    if _DIGITS5 is None:
        with _lock:
            if _DIGITS5 is None:
                values = np.arange(100_000, dtype=np.int64)
                powers = 10 ** np.arange(4, -1, -1, dtype=np.int64)
                _DIGITS5 = ((values[:, None] // powers) % 10 + 48).astype(np.uint8)
    return _DIGITS5


_DIGITS5_PACKED: np.ndarray | None = None


def digits5_packed() -> np.ndarray:
    """:func:`digits5` with each row packed in the first 5 bytes of a uint64 (fast to gather)."""
    global _DIGITS5_PACKED
    if _DIGITS5_PACKED is None:
        packed = np.zeros((100_000, 8), np.uint8)
        packed[:, :5] = digits5()
        _DIGITS5_PACKED = packed.view(np.uint64).ravel()
    return _DIGITS5_PACKED


def table(items: Sequence[str | bytes]) -> np.ndarray:
    """A lookup table of byte strings (an object array: indexing it is done in C)."""
    out = np.empty(len(items), object)
    out[:] = [x.encode() if isinstance(x, str) else x for x in items]
    return out


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


class RowLayout:
    """A run of text with fixed-width holes, split into segments (see the module doc).

    Build it with :meth:`text`, :meth:`number`, :meth:`pick` and :meth:`end`; then per batch
    :meth:`new` rows, fill them, and read them out with :meth:`segments`.
    """

    def __init__(self) -> None:
        self._row = bytearray()
        self.numbers: dict[str, tuple[int, int, str | None]] = {}
        self._plans: dict[tuple[str, ...], tuple[np.ndarray, ...]] = {}
        self._prefix_masks: dict[tuple[int, int], np.ndarray] = {}
        self.texts: dict[str, tuple[int, TextTable]] = {}
        self.segments_at: list[tuple[str, int, int]] = []
        self.marks: dict[str, int] = {}
        self._start = 0
        self._dtype: np.dtype | None = None
        self._base: np.ndarray | None = None

    # -- building -------------------------------------------------------------------------

    def text(self, text: str) -> RowLayout:
        """Literal text."""
        self._row.extend(text.encode())
        return self

    def number(self, name: str, width: int, source: str | None = None) -> RowLayout:
        """A hole for a decimal number of ``width`` digits (at most 10), zero-padded.

        The caller makes sure the numbers fit. ``source``: the hole repeats the last
        ``width`` digits of another number (give only that one).
        """
        if name in self.numbers:
            raise ValueError(f"duplicate hole {name}")
        if not 1 <= width <= 10:
            raise ValueError("holes hold 1 to 10 digits")
        self.numbers[name] = (len(self._row), width, source)
        self._row.extend(b"0" * width)
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

    # -- per batch ------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Bytes per row."""
        return len(self._row)

    def new(self, n: int) -> np.ndarray:
        """``n`` rows holding the literal text (holes: zeros and NULs)."""
        if self._base is None:
            self._base = np.frombuffer(bytes(self._row), np.uint8)
        rows = np.empty((n, self.width), np.uint8)
        rows[:] = self._base
        return rows

    def _plan(self, names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """Where the digits of these numbers go: (dst columns, src columns).

        The source row holds, per number, its 5 high digits then its 5 low digits, each
        group in the first 5 bytes of 8.
        """
        plan = self._plans.get(names)
        if plan is None:
            position = {name: j for j, name in enumerate(names)}
            dst: list[int] = []
            src: list[int] = []
            for hole, (start, width, source) in self.numbers.items():
                j = position[source or hole]
                for d in range(width):
                    digit = 10 - width + d
                    src.append(j * 16 + (digit if digit < 5 else digit + 3))
                    dst.append(start + d)
            if set(position) != {s or h for h, (_a, _w, s) in self.numbers.items()}:
                raise ValueError("give exactly the numbers the holes need")
            plan = (np.array(dst, np.intp), np.array(src, np.intp))
            self._plans[names] = plan
        return plan

    def put_numbers(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Write numbers into their holes (each must fit its width)."""
        n = len(rows)
        if not values or not n:
            return
        names = tuple(values)
        dst, src = self._plan(names)
        stacked = np.array([values[name] for name in names], np.int64).T
        upper = stacked // 100_000
        table = digits5_packed()
        pairs = np.empty((n, len(names), 2), np.uint64)
        pairs[:, :, 0] = table[upper]
        pairs[:, :, 1] = table[stacked - upper * 100_000]
        rows[:, dst] = pairs.view(np.uint8).reshape(n, -1)[:, src]

    def put_text(self, rows: np.ndarray, name: str, keys: np.ndarray) -> None:
        """Write the texts ``keys`` of a pick hole's table."""
        start, texts = self.texts[name]
        rows[:, start : start + texts.width] = texts.rows[keys]

    def keep(self, rows: np.ndarray, start: str | int, stop: str | int,
             where: np.ndarray) -> None:
        """Zero a span (marks, segment names or columns) of the rows except ``where``."""
        a = self._position(start, 0)
        b = self._position(stop, 1)
        rows[:, a:b] *= where.view(np.uint8)[:, None]

    def keep_prefix(self, rows: np.ndarray, start: str | int, lengths: np.ndarray) -> None:
        """Keep only the first ``lengths[i]`` bytes of row i from ``start`` to its segment end."""
        a = self._position(start, 0)
        b = next(stop for _n, s, stop in self.segments_at if s <= a < stop)
        masks = self._prefix_masks.get((a, b))
        if masks is None:
            # Row L: L ones then zeros, for every length L the span can keep.
            masks = (np.arange(b - a) < np.arange(b - a + 1)[:, None]).astype(np.uint8)
            self._prefix_masks[(a, b)] = masks
        rows[:, a:b] *= masks[lengths]

    def put_digits(self, rows: np.ndarray, column: int, values: np.ndarray,
                   width: int = 10) -> None:
        """Write zero-padded ``width``-digit numbers (at most 10) at a column of every row."""
        table5 = digits5()
        if width <= 5:
            rows[:, column : column + width] = table5[values % 10**width][:, 5 - width :]
            return
        upper = values // 100_000
        rows[:, column : column + width - 5] = table5[upper % 10 ** (width - 5)][:, 10 - width :]
        rows[:, column + width - 5 : column + width] = table5[values - upper * 100_000]

    def _position(self, where: str | int, side: int) -> int:
        """A column: given as such, a mark, or a segment's start (side 0) or end (side 1)."""
        if isinstance(where, int):
            return where
        if where in self.marks:
            return self.marks[where]
        for name, start, stop in self.segments_at:
            if name == where:
                return (start, stop)[side]
        raise KeyError(where)

    def segments(self, rows: np.ndarray) -> dict[str, list[bytes]]:
        """Every segment of every row as bytes, trailing NULs dropped."""
        if self._dtype is None:
            self._dtype = np.dtype({
                "names": [name for name, _a, _b in self.segments_at],
                "formats": [f"S{b - a}" for _n, a, b in self.segments_at],
                "offsets": [a for _n, a, _b in self.segments_at],
                "itemsize": self.width,
            })
        view = rows.view(self._dtype).ravel()
        return {name: view[name].tolist() for name, _a, _b in self.segments_at}


class MoneyText:
    """Decimal strings of minor-unit amounts as bytes, for arrays of amounts.

    Amounts below ``TABLE_MAX`` come from a table shared by every shop with the same
    decimals; others are formatted one by one (and remembered, up to a bound).
    """

    TABLE_MAX = 1 << 17
    _tables: dict[int, np.ndarray] = {}

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals
        self.memo: dict[int, bytes] = {}

    def _table(self) -> np.ndarray:
        current = MoneyText._tables.get(self.decimals)
        if current is None:
            with _lock:
                current = MoneyText._tables.get(self.decimals)
                if current is None:
                    current = MoneyText._tables[self.decimals] = _money_table(
                        self.decimals, self.TABLE_MAX)
        return current

    def one(self, minor: int) -> bytes:
        """One amount."""
        text = self.memo.get(minor)
        if text is None:
            if len(self.memo) > 1 << 16:
                self.memo.clear()
            text = self.memo[minor] = money(minor, self.decimals).encode()
        return text

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The text of every amount (an object array of bytes)."""
        if not len(values):
            return np.empty(0, object)
        if values.min() >= 0:
            high = int(values.max())
            if high < self.TABLE_MAX:
                return self._table()[values]
        out = np.empty(len(values), object)
        out[:] = [self.one(v) for v in values.tolist()]
        return out


def _money_table(decimals: int, size: int) -> np.ndarray:
    """``money(v, decimals)`` as bytes for v in 0..size-1 (built by concatenation: fast)."""
    if decimals == 0:
        return table([b"%d" % v for v in range(size)])
    unit = 10**decimals
    fractions = [b".%0*d" % (decimals, f) for f in range(unit)]
    wholes = [b"%d" % w for w in range(-(-size // unit))]
    return table([w + f for w in wholes for f in fractions][:size])
