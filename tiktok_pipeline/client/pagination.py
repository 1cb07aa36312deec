"""Walking TikTok's cursor pagination (``page_token`` in, ``next_page_token`` out)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint."""

    number: int
    response: dict[str, Any]
    items: list[dict[str, Any]]
    next_page_token: str | None
    total_count: int | None

    @property
    def data(self) -> dict[str, Any]:
        """The response's ``data`` object."""
        return self.response.get("data") or {}


class PageIterator:
    """Iterates over the pages of a list call; :meth:`items` iterates over their items.

    It stops when ``next_page_token`` is empty or missing, when a page has no items, or when a
    token repeats (a server bug must not loop forever).
    """

    def __init__(
        self,
        fetch: Callable[[Mapping[str, Any]], dict[str, Any]],
        query: Mapping[str, Any] | None,
        items_key: str,
    ) -> None:
        self._fetch = fetch
        self._query = dict(query or {})
        self._items_key = items_key

    def __iter__(self) -> Iterator[Page]:
        query = dict(self._query)
        seen_tokens: set[str] = set()
        number = 0
        while True:
            number += 1
            response = self._fetch(query)
            data = response.get("data") or {}
            items = data.get(self._items_key) or []
            token = data.get("next_page_token") or None
            yield Page(number, response, items, token, data.get("total_count"))
            if not token or not items or token in seen_tokens:
                return
            seen_tokens.add(token)
            query["page_token"] = token

    def items(self) -> Iterator[dict[str, Any]]:
        """Every item of every page, in order."""
        for page in self:
            yield from page.items
