"""Search Products over an ``update_time`` range without hitting TikTok's 10,000-result cap.

TikTok serves at most the first 10,000 results of a product search: asking for a page past
them answers error 12052180. A range whose ``total_count`` is above that is cut in two halves,
recursively, down to one second; a second that still holds more is walked once per status
filter. Only a single status of a single second holding more than 10,000 products cannot be
walked whole: its first 10,000 are fetched, a warning is logged, and the sync ledger shows the
shortfall (``api_total_count`` above ``items_received``, which the count check reports).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from tiktok_pipeline.client import Page, ShopAPI

logger = logging.getLogger(__name__)

#: TikTok's cap on the results of one product search (deeper pages answer 12052180).
RESULT_WINDOW = 10_000
#: Products per page: TikTok's largest.
PAGE_SIZE = 100
#: The status filters whose results add up to the unfiltered search (``ALL``).
STATUSES = (
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)


def product_pages(
    api: ShopAPI,
    update_ge: int | None,
    update_le: int,
    *,
    page_size: int = PAGE_SIZE,
    result_window: int = RESULT_WINDOW,
) -> Iterator[Page]:
    """Every page of the shop's products updated in ``[update_ge, update_le]`` (inclusive, Unix
    seconds; ``update_ge`` None: no lower bound), never asking past ``result_window`` results.

    Each search walked yields its pages from number 1, whose ``total_count`` is that search's:
    their sum is the range's total (the sync's count check compares it with what landed). The
    searches that only found a range too big to walk are not yielded.
    """
    return _SplitWalk(api, page_size, result_window).pages(update_ge or 0, update_le, None)


class _SplitWalk:
    """The recursion of :func:`product_pages`."""

    def __init__(self, api: ShopAPI, page_size: int, result_window: int) -> None:
        self.api = api
        self.page_size = page_size
        self.window = result_window

    def _search(self, lo: int, hi: int, status: str | None) -> Iterator[Page]:
        body: dict[str, object] = {"update_time_le": hi}
        if lo > 0:
            body["update_time_ge"] = lo
        if status is not None:
            body["status"] = status
        return iter(self.api.product.pages(query={"page_size": self.page_size}, body=body))

    def pages(self, lo: int, hi: int, status: str | None) -> Iterator[Page]:
        """The pages of ``[lo, hi]`` (one status, or all), split where TikTok's cap needs it."""
        search = self._search(lo, hi, status)
        first = next(search, None)  # one request: the next page is only asked for on demand
        if first is None:
            return
        total = first.total_count or 0
        if total <= self.window:
            yield first
            yield from search
            return
        if lo < hi:
            middle = (lo + hi) // 2
            logger.info(
                "%d products updated in [%d, %d]%s: over TikTok's %d, splitting at %d",
                total,
                lo,
                hi,
                f" with status {status}" if status else "",
                self.window,
                middle,
            )
            yield from self.pages(lo, middle, status)
            yield from self.pages(middle + 1, hi, status)
            return
        if status is None:
            logger.info(
                "%d products updated at the second %d: walking it once per status", total, lo
            )
            for each in STATUSES:
                yield from self.pages(lo, hi, each)
            return
        logger.warning(
            "%d products with status %s were updated at the second %d; TikTok serves only the "
            "first %d of them, the rest are not fetched",
            total,
            status,
            lo,
            self.window,
        )
        yield from self._capped(first, search)

    def _capped(self, first: Page, search: Iterator[Page]) -> Iterator[Page]:
        """``first`` and the following pages while they stay within the window."""
        seen = len(first.items)
        yield first
        while seen < self.window:
            page = next(search, None)
            if page is None:
                return
            seen += len(page.items)
            yield page
