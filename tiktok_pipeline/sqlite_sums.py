"""Exact ``sum``, ``total`` and ``avg`` for SQLite connections (money amounts).

SQLite has no decimal type: a money amount is stored as the binary float nearest to TikTok's
decimal string, and SQLite's built-in ``SUM`` (before 3.43, plain float addition) lets the
errors of those floats pile up: ``15710.7099999999`` instead of ``15710.71``. These aggregates
replace the built-ins, with the same names, on every SQLite connection the package opens
(``db.make_engine``): each REAL value counts as the decimal it prints as (``repr``, the
shortest decimal that reads back as the same float, i.e. the amount TikTok sent), the sum is
computed exactly, and the result is the float nearest to that exact decimal total, which
prints as it (``15710.71``). Integers are summed exactly and stay integers, as in SQLite. NULL
handling, result types and the integer overflow error are SQLite's; they also work as window
functions (``SUM(x) OVER (...)``). One difference: over no rows at all (``SELECT total(x) FROM t
WHERE false``), Python's ``sqlite3`` never calls the aggregate and the result is NULL, where
SQLite's ``total`` gives 0.0 (groups of a GROUP BY always have rows; NULL values are rows).

The price is Python's: about 1 us per value where the built-in takes a few tens of
nanoseconds. On the 2-core development machine, over a year of one shop's orders (200,000
rows): ``SUM(total_amount)`` 0.23-0.29 s instead of 0.04-0.08 s, seven money sums 1.6-2.1 s
instead of 0.1-0.2 s, the whole ``tiktok_daily_sales`` view 1.2-2.4 s instead of 0.6-1.3 s.
Other SQLite clients (the ``sqlite3`` shell, BI tools) keep the built-ins.
"""

from __future__ import annotations

import re
import sqlite3
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from fractions import Fraction

#: Exact decimal arithmetic: with this precision an addition never rounds.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: Below this magnitude two different decimals with at most 6 decimal places never read back
#: as the same float (their distance, 1e-6, is more than a float's spacing there, < 2**-20),
#: so an amount whose micro-units ``m`` give back the float is exactly ``m / 10**6``.
_FAST_LIMIT = 4e9
_MICRO = 1e6
#: What SQLite reads as a number at the start of a text (``sqlite3AtoF``).
_NUMBER = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(\s*)")

_Number = int | Decimal | float


def _number(value: object) -> tuple[_Number, bool]:
    """``value`` (not NULL) as a number and whether it counts as REAL, as SQLite's sum sees it.

    Integers are exact; a float is the decimal it prints as; a text that is a number is that
    number (an integer text counts as an integer); any other text or blob counts as the number
    it starts with (0 if none), as a REAL.
    """
    if isinstance(value, int):
        return value, False
    if isinstance(value, float):
        return _float_number(value), True
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    match = _NUMBER.match(text)
    if match is None:
        return 0.0, True
    literal = match.group(1)
    whole = match.end() == len(text)
    if whole and literal.lstrip("+-").isdigit():
        number = int(literal)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number, False
    return Decimal(literal), True


def _float_number(value: float) -> Decimal | float:
    """The decimal ``value`` prints as; infinities and NaN stay floats."""
    if value != value or value in (float("inf"), float("-inf")):
        return value
    return Decimal(repr(value))


class _ExactSum:
    """State shared by the three aggregates: an exact running total of the non-NULL values."""

    __slots__ = ("count", "decimals", "integers", "micros", "reals", "special")

    def __init__(self) -> None:
        self.count = 0  # non-NULL values
        self.reals = 0  # of which REAL (or text that is not an integer)
        self.integers = 0  # exact sum of the integers
        self.micros = 0  # exact sum of the common floats, in millionths
        self.decimals = Decimal(0)  # exact sum of the other finite values
        self.special = 0.0  # sum of infinities and NaN, as SQLite's float arithmetic has it

    def step(self, value: object) -> None:
        """Adds one row's value (NULL is skipped)."""
        if type(value) is float:
            self.count += 1
            self.reals += 1
            if -_FAST_LIMIT < value < _FAST_LIMIT:
                micros = round(value * _MICRO)
                if micros / _MICRO == value:
                    self.micros += micros
                    return
            self._add_other(value, 1)
        elif type(value) is int:
            self.count += 1
            self.integers += value
        elif value is not None:
            self._add_other(value, 1)

    def inverse(self, value: object) -> None:
        """Removes a value that left the window frame (window functions)."""
        if value is None:
            return
        if type(value) is float:
            self.reals -= 1
            self.count -= 1
            self._add_number(_float_number(value), -1)
            return
        number, is_real = _number(value)
        self.count -= 1
        self.reals -= is_real
        self._add_number(number, -1)

    def _add_other(self, value: object, sign: int) -> None:
        if type(value) is float:
            self._add_number(_float_number(value), sign)
            return
        number, is_real = _number(value)
        self.count += 1
        self.reals += is_real
        self._add_number(number, sign)

    def _add_number(self, number: _Number, sign: int) -> None:
        if isinstance(number, int):
            self.integers += sign * number
        elif isinstance(number, Decimal):
            add = _EXACT.add if sign > 0 else _EXACT.subtract
            self.decimals = add(self.decimals, number)
        else:
            self.special += sign * number

    def exact_total(self) -> Decimal:
        """The exact sum of the finite values."""
        total = _EXACT.add(Decimal(self.integers), Decimal(self.micros).scaleb(-6, _EXACT))
        return _EXACT.add(total, self.decimals)

    def float_total(self) -> float:
        """The float nearest to the exact sum (plus any infinity or NaN)."""
        total = float(self.exact_total())
        return total + self.special if self.special else total

    def value(self) -> int | float | None:
        """The current result (window functions call it for every row)."""
        raise NotImplementedError

    def finalize(self) -> int | float | None:
        """The result of the group."""
        return self.value()


class ExactSum(_ExactSum):
    """``sum(X)``: NULL without values; an integer when every value is one (an error past
    64 bits, as SQLite); otherwise the float nearest to the exact decimal total."""

    __slots__ = ()

    def value(self) -> int | float | None:
        """The current result (window functions call it for every row)."""
        if self.count == 0:
            return None
        if self.reals == 0 and not self.special:
            if not _INT64_MIN <= self.integers <= _INT64_MAX:
                # SQLite raises "integer overflow" here; Python's sqlite3 reports any exception
                # of an aggregate as "user-defined aggregate's 'finalize' method raised error".
                raise ValueError("integer overflow")
            return self.integers
        return self.float_total()


class ExactTotal(_ExactSum):
    """``total(X)``: always a float, 0.0 without values; the float nearest the exact total."""

    __slots__ = ()

    def value(self) -> float:
        """The current result (window functions call it for every row)."""
        return self.float_total()


class ExactAvg(_ExactSum):
    """``avg(X)``: NULL without values; else the float nearest the exact mean."""

    __slots__ = ()

    def value(self) -> float | None:
        """The current result (window functions call it for every row)."""
        if self.count == 0:
            return None
        if self.special:
            return self.float_total() / self.count
        return float(Fraction(self.exact_total()) / self.count)


#: SQL name -> aggregate; each replaces SQLite's built-in of that name for one argument.
EXACT_AGGREGATES: dict[str, type[_ExactSum]] = {
    "sum": ExactSum,
    "total": ExactTotal,
    "avg": ExactAvg,
}


def register_exact_sums(connection: sqlite3.Connection) -> None:
    """Makes ``sum``, ``total`` and ``avg`` exact on ``connection`` (see the module doc)."""
    for name, aggregate in EXACT_AGGREGATES.items():
        connection.create_window_function(name, 1, aggregate)
