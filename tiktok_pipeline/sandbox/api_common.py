"""Helpers shared by the endpoint handlers: paging and pre-serialized list answers."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence

from tiktok_pipeline.sandbox.errors import param_error
from tiktok_pipeline.sandbox.paging import InvalidPageToken, Selection, fingerprint
from tiktok_pipeline.sandbox.params import Call, RawData


def normalise(query: object) -> object:
    """A JSON-stable form of a query dataclass (sets become sorted lists)."""
    if dataclasses.is_dataclass(query):
        return {f.name: normalise(getattr(query, f.name)) for f in dataclasses.fields(query)}
    if isinstance(query, frozenset | set):
        return sorted(query, key=str)
    return query


class Page:
    """One page of a search: the selection, this page's entity numbers and the next token."""

    __slots__ = ("ids", "next_token", "offset", "selection", "snapshot")

    def __init__(
        self, selection: Selection, ids: Sequence[int], next_token: str, snapshot: int, offset: int
    ) -> None:
        self.selection = selection
        self.ids = ids
        self.next_token = next_token
        self.snapshot = snapshot
        self.offset = offset

    @property
    def total(self) -> int:
        """How many entities the whole search matches."""
        return self.selection.total


def paginate(
    call: Call,
    kind: str,
    code: int,
    query: object,
    page_size: int,
    make: Callable[[int], Selection],
    *,
    max_window: int | None = None,
    window_code: int | None = None,
) -> Page:
    """Resolve ``page_token`` and slice the (cached) selection of a search.

    Args:
        call: the call (its path and shop are part of the query fingerprint).
        kind: the entity kind, for the cache.
        code: the error code of an invalid page token.
        query: the normalised filters and sorting.
        page_size: entities per page.
        make: builds the selection at a snapshot time.
        max_window: how deep a search may be paged (TikTok's 10,000-result cap).
        window_code: the error code when paging past ``max_window``.
    """
    state = call.state
    world = call.shop
    fp = _query_fingerprint(kind, call.path, world.slot, query)
    token = call.query.get("page_token") or ""
    if token:
        try:
            snapshot, offset = state.page_tokens.decode(token, fp)
        except InvalidPageToken as exc:
            raise param_error(code, f"Invalid parameter. `page_token`: {exc}.") from None
    else:
        snapshot, offset = call.now, 0
    if max_window is not None and offset >= max_window:
        raise param_error(
            window_code or code,
            f"The total search results cannot exceed {max_window}. Narrow the search with "
            "filters (for example update_time_ge/update_time_le) instead of paging deeper.",
        )
    selection = state.selection(kind, world, fp, snapshot, lambda: make(snapshot))
    size = page_size
    if max_window is not None:
        size = min(size, max_window - offset)
    ids = selection.slice(offset, size)
    end = offset + len(ids)
    next_token = state.page_tokens.encode(fp, snapshot, end) if end < selection.total else ""
    return Page(selection, ids, next_token, snapshot, offset)


@functools.lru_cache(maxsize=4096)
def _query_fingerprint(kind: str, path: str, slot: int, query: object) -> int:
    """:func:`fingerprint` of a search, remembered (every page of a walk asks again)."""
    return fingerprint(kind, path, slot, normalise(query))


def list_data(fields: dict[str, object], list_key: str, parts: list[bytes]) -> RawData:
    """A ``data`` object with scalar ``fields`` and a list of pre-serialized objects."""
    head = json.dumps(fields, separators=(",", ":"))[:-1].encode()
    sep = b"," if fields else b""
    # The objects with commas between them, without copying them into a joined list.
    items = [b","] * (2 * len(parts) - 1) if parts else []
    items[::2] = parts
    return RawData(head + sep + b'"' + list_key.encode() + b'":[', *items, b"]}")
