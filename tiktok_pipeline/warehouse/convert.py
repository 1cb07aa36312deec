"""Conversions from TikTok's JSON values to column values (money, epoch seconds, flags, hashes).

TikTok sends money as decimal strings, times as Unix seconds and ids as strings; optional
fields may be missing, ``null``, ``""`` or ``0``. These helpers map all of that to exact
Python values or ``None``, and raise :class:`BadValue` for a value that cannot be read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: Unix time 0 as an aware UTC datetime.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadValue(ValueError):
    """A field holds a value of the wrong kind; the loader adds the shop, entity and id."""


def money(value: Any) -> Decimal | None:
    """A Decimal from TikTok's amount string; ``None`` and ``""`` give None. Never via float."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise BadValue(f"expected a decimal amount string, got {value!r}")
    try:
        amount = Decimal(value) if isinstance(value, str) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise BadValue(f"expected a decimal amount string, got {value!r}") from None
    if not amount.is_finite():
        raise BadValue(f"expected a finite decimal amount, got {value!r}")
    return amount


def epoch(value: Any) -> int | None:
    """Unix seconds as an int; ``0``, ``None`` and ``""`` give None (TikTok's "not set")."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise BadValue(f"expected Unix seconds, got {value!r}")
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise BadValue(f"expected Unix seconds, got {value!r}") from None
    return seconds or None


def integer(value: Any) -> int | None:
    """An int from an int or a numeric string; ``None`` and ``""`` give None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadValue(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadValue(f"expected an integer, got {value!r}") from None


def flag(value: Any) -> bool | None:
    """A bool from TikTok's ``true``/``false`` (also ``"true"``, ``1``); missing gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
    raise BadValue(f"expected a boolean, got {value!r}")


def text(value: Any) -> str | None:
    """A string column value; ``""`` (TikTok's "not set") gives None, numbers become strings."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        raise BadValue(f"expected a string, got {value!r}")
    return str(value)


def items(value: Any) -> list[Any]:
    """A nested JSON array, or an empty list when it is missing or null."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadValue(f"expected a JSON array, got {type(value).__name__}")
    return value
