"""Rows as the text of Postgres's ``COPY ... FROM STDIN``, written fast.

``COPY`` takes rows as text and parses them once; binding each value as a query parameter
costs the driver microseconds per value (see bench/warehouse_load.py). The format is CSV
with a tab as delimiter and SOH (``\\x01``) as quote: JSON text and most values need no
quoting and, unlike COPY's text format, no backslash escapes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tiktok_pipeline.warehouse.batch import Row
from tiktok_pipeline.warehouse.columns import EPOCH_SECONDS
from tiktok_pipeline.warehouse.convert import EPOCH
from tiktok_pipeline.warehouse.types import RawJSON

#: Columns whose value is the same on every row of one load: copied as one prepared suffix.
SHARED_COLUMNS = ("shop_id", "_synced_at", "_source")
_OPTIONS = "FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01'"
_QUOTE = "\x01"
_SPECIAL = ("\t", "\n", "\r", _QUOTE)

_DAYS: dict[int, str] = {}
_TWO_DIGITS = [f"{n:02d}" for n in range(60)]


def csv_field(value: Any) -> str:
    """One value as a field of the CSV (quoted when needed; NULL is an empty field)."""
    if value is None:
        return ""
    text = str(value)
    if not text or any(char in text for char in _SPECIAL):
        return _QUOTE + text.replace(_QUOTE, _QUOTE + _QUOTE) + _QUOTE
    return text


def utc_text(seconds: int) -> str:
    """Unix seconds as Postgres timestamp input (``2024-06-01 12:34:56+00``).

    Four times faster than ``str`` of the datetime; the dates are cached.
    """
    days, rest = divmod(seconds, 86400)
    date = _DAYS.get(days)
    if date is None:
        date = _DAYS[days] = (EPOCH + timedelta(days=days)).strftime("%Y-%m-%d ")
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{date}{_TWO_DIGITS[hours]}:{_TWO_DIGITS[minutes]}:{_TWO_DIGITS[rest]}+00"


def shared_suffix(shop_id: str, synced_at: Any, source: str) -> str:
    """The end of every line of one load: its :data:`SHARED_COLUMNS`."""
    return "\t" + "\t".join(csv_field(value) for value in (shop_id, synced_at, source))


class CopyFormat:
    """How the rows of one table are copied: the column order and the ``COPY`` statement."""

    def __init__(self, table: sa.Table) -> None:
        raw = [c.name for c in table.columns if isinstance(c.type, RawJSON)]
        epochs = {c.name: c.info[EPOCH_SECONDS] for c in table.columns if EPOCH_SECONDS in c.info}
        varying = [
            c.name
            for c in table.columns
            if c.name not in SHARED_COLUMNS and c.name not in raw and c.name not in epochs
        ]
        # Timestamps, raw JSON and the shared values come last: they need no check (see pack).
        columns = varying + list(epochs) + raw + list(SHARED_COLUMNS)
        preparer = postgresql.dialect().identifier_preparer
        # Identifiers of our own tables, quoted by the dialect; no value ever goes in here.
        column_list = ", ".join(preparer.quote(name) for name in columns)
        self.sql = (
            f"COPY {preparer.format_table(table)} ({column_list}) FROM STDIN WITH ({_OPTIONS})"
        )
        self._epochs: Callable[[Row], Any] | None = (
            operator.itemgetter(*epochs.values()) if epochs else None
        )
        self._raw: Callable[[Row], Any] | None = operator.itemgetter(raw[0]) if raw else None
        self._values = operator.itemgetter(*varying)
        self._tabs = len(varying) - 1
        # JSON columns, by position: ``str`` would not turn their values into JSON.
        self._json = [
            index for index, name in enumerate(varying) if isinstance(table.c[name].type, sa.JSON)
        ]

    def pack(self, rows: Sequence[Row], shared: str) -> str:
        """``rows`` as COPY text, ``shared`` (see :func:`shared_suffix`) ending each line.

        Values are joined as they are and the line is checked as a whole: only a row with a
        tab, line break or SOH inside a value, or an empty string, is built again with
        quotes. ``str`` of a Decimal, int, bool or aware datetime is valid Postgres input and
        an empty field is NULL. UTC timestamps are written from their epoch seconds (the
        mapping derives them from those), raw JSON is canonical JSON text, whose encoder
        escapes every control character: neither is ever quoted nor scanned.
        """
        values_of, raw_of, tabs, json_positions = self._values, self._raw, self._tabs, self._json
        epochs_of = self._epochs
        end = shared + "\n"
        parts = []
        for row in rows:
            values = values_of(row)
            if json_positions:
                values = list(values)
                for index in json_positions:
                    if values[index] is not None:
                        values[index] = orjson.dumps(values[index], default=str).decode()
            line = "\t".join(
                [
                    "" if v is None else (v or _QUOTE) if v.__class__ is str else str(v)
                    for v in values
                ]
            )
            if line.count("\t") != tabs or "\n" in line or "\r" in line or _QUOTE in line:
                line = "\t".join([csv_field(v) for v in values])
            parts.append(line)
            if epochs_of is not None:
                parts.append("\t")
                seconds = epochs_of(row)
                if seconds.__class__ is tuple:
                    parts.append("\t".join(["" if s is None else utc_text(s) for s in seconds]))
                elif seconds is not None:  # the one timestamp of the table
                    parts.append(utc_text(seconds))
            if raw_of is not None:
                parts.append("\t")
                parts.append(raw_of(row))
            parts.append(end)
        return "".join(parts)
