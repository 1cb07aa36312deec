"""What a load did, per table: inserted, updated, unchanged, stale and deleted rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class TableCounts:
    """Row counts of one table for one load.

    Parent tables (orders, products, returns) count entities: ``inserted`` (new), ``updated``
    (replaced an older or equally old version), ``unchanged`` (identical, nothing written) and
    ``stale`` (older than the stored version, ignored). Child tables count rows ``inserted``
    and ``deleted`` when their parent was replaced.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    deleted: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        if not isinstance(other, TableCounts):
            return NotImplemented
        return TableCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(TableCounts))
        )

    @property
    def written(self) -> int:
        """Rows inserted or updated."""
        return self.inserted + self.updated

    @property
    def received(self) -> int:
        """Entities seen (for parent tables: distinct ids in the load)."""
        return self.inserted + self.updated + self.unchanged + self.stale

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict."""
        return {f.name: getattr(self, f.name) for f in fields(TableCounts)}


class LoadResult(Mapping[str, TableCounts]):
    """Table name -> :class:`TableCounts`, plus the ids of the parents that were written.

    Results add up with ``+`` (e.g. over the pages or shops of a run); ``changed_ids`` are
    then concatenated in order.
    """

    __slots__ = ("_changed_ids", "_tables")

    def __init__(
        self,
        tables: Mapping[str, TableCounts] | None = None,
        changed_ids: Iterable[str] = (),
    ) -> None:
        self._tables: dict[str, TableCounts] = dict(tables or {})
        self._changed_ids: tuple[str, ...] = tuple(changed_ids)

    def __getitem__(self, table: str) -> TableCounts:
        return self._tables[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __add__(self, other: LoadResult) -> LoadResult:
        if not isinstance(other, LoadResult):
            return NotImplemented
        tables = dict(self._tables)
        for name, counts in other.items():
            tables[name] = tables.get(name, TableCounts()) + counts
        return LoadResult(tables, self._changed_ids + other._changed_ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoadResult):
            return NotImplemented
        return self._tables == other._tables and self._changed_ids == other._changed_ids

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LoadResult({self._tables!r}, changed={len(self._changed_ids)})"

    @property
    def changed_ids(self) -> tuple[str, ...]:
        """Ids of the parent entities (orders, products or returns) inserted or updated."""
        return self._changed_ids

    def counts(self, table: str) -> TableCounts:
        """The counts of ``table``; zeros when the load did not touch it."""
        return self._tables.get(table, TableCounts())

    def as_metadata(self) -> dict[str, int]:
        """A flat dict for Dagster metadata: ``{"tiktok_orders.inserted": 3, ...}``."""
        flat: dict[str, int] = {}
        for name, counts in self._tables.items():
            for field_name, value in counts.as_dict().items():
                flat[f"{name}.{field_name}"] = value
        return flat
