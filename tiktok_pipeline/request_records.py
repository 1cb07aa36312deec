"""What the client reports about each HTTP attempt, and the shape of whatever keeps the reports.

The client makes :class:`RequestRecord` s; the store's request log writes them
(``tiktok_pipeline.store.RequestLogWriter`` is a :class:`RequestLogSink`). Both import this
module, neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass
class RequestRecord:
    """One HTTP attempt as the request log and observers see it; holds no secret."""

    action: str
    method: str
    path: str
    shop_id: str | None = None
    query: dict[str, Any] | None = None
    body: str | None = None
    http_status: int | None = None
    code: int | None = None
    message: str | None = None
    request_id: str | None = None
    attempt: int = 1
    duration_ms: float | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class RequestLogSink(Protocol):
    """Where request records go: accepted without blocking the call, written later."""

    def record(self, entry: RequestRecord) -> None:
        """Accept one record without blocking the caller."""

    def flush(self, timeout: float | None = None) -> None:
        """Block until every record accepted so far is written (or ``timeout`` seconds pass)."""
