"""Durations as people type them: ``90m``, ``48h``, ``2d``, ``1w`` (also ``1d12h``).

Also :func:`iso_seconds`, the one way reports write a moment in JSON.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """``"48h"`` -> ``timedelta(hours=48)``; units s, m, h, d, w, combinable (``1d12h``).

    A bare number means hours. Raises ValueError saying how to write it.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        return timedelta(hours=text)
    value = str(text).strip().lower().replace(" ", "")
    if _NUMBER.fullmatch(value):
        return timedelta(hours=float(value))
    parts = _PART.findall(value)
    if not value or "".join(n + u for n, u in parts) != value:
        raise ValueError(
            f"cannot read the duration {text!r}: write a number and a unit, such as 90m, 48h, "
            "2d or 1w (s, m, h, d, w; combinable as 1d12h)"
        )
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: float(number)})
    return total


def format_duration(value: timedelta) -> str:
    """A short human form: ``2d``, ``48h`` stays ``2d``, ``90m`` -> ``1h30m``."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + "".join(out)


def iso_seconds(value: datetime | None) -> str | None:
    """``value`` in ISO 8601 to the second (``2026-01-01T00:00:00+00:00``); None stays None."""
    return None if value is None else value.isoformat(timespec="seconds")
