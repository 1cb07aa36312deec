"""``tiktok_webhooks``: the inbox of received pushes, deduplicated, processed later.

The web service stores each verified push here and answers TikTok at once; the Dagster sensor
reads pending rows and marks them. A replayed push (same ``tts_notification_id``, or the same
raw body when TikTok sent no id) is stored once.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.db import from_epoch, utcnow
from tiktok_pipeline.events import event_name
from tiktok_pipeline.store._sql import chunks, delete_in_batches, fitting, upsert_insert
from tiktok_pipeline.store.models import InboxRow, InboxStatus
from tiktok_pipeline.store.schema import tiktok_webhooks as inbox_t

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({InboxStatus.PROCESSED, InboxStatus.FAILED, InboxStatus.IGNORED})

_ROW_COLUMNS = [
    inbox_t.c[name]
    for name in (
        "id",
        "dedupe_key",
        "tts_notification_id",
        "type",
        "event_type",
        "shop_id",
        "push_timestamp",
        "data",
        "route",
        "received_at",
        "status",
        "attempts",
        "run_id",
        "error",
    )
]


#: The columns a new push fills.
_INSERTED = (
    "dedupe_key",
    "tts_notification_id",
    "type",
    "event_type",
    "shop_id",
    "push_timestamp",
    "push_time",
    "data",
    "raw_body",
    "route",
    "received_at",
    "status",
    "attempts",
)


def dedupe_key(raw_body: bytes, payload: Mapping[str, Any]) -> str:
    """``tts_notification_id`` when the push has one, else ``sha256:<hex of the raw body>``."""
    notification_id = _text(payload.get("tts_notification_id"))
    if notification_id is not None:
        return notification_id
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def _inbox_row(row: Any) -> InboxRow:
    return InboxRow(**row._mapping)


_WHOLE = re.compile(r"-?[0-9]+")
#: 9999-12-31 23:59:59 UTC, the last second a datetime holds.
_MAX_EPOCH = 253_402_300_799


def _whole_number(value: Any) -> int | None:
    """``12``, ``12.0`` and ``"12"`` give 12; anything else (``True``, ``1.5``, ``"x"``) None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value)
    return None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def refuse_unstorable(value: Any) -> None:
    """ValueError when ``value`` (a parsed JSON document) holds what no backend stores alike:
    NaN or infinite numbers (not JSON) and NUL characters (Postgres refuses them)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("the push holds NaN or Infinity, which JSON does not allow")
        if isinstance(item, str) and "\x00" in item:
            raise ValueError("the push holds a NUL character")
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@dataclass(frozen=True, slots=True)
class PushFields:
    """The columns :meth:`WebhookInbox.add` fills from a push's payload, normalised.

    The one place these rules live: the receiver hands its listeners these very values, so
    they see what the inbox stored.
    """

    type: int
    event_type: str
    shop_id: str | None
    tts_notification_id: str | None
    #: Unix seconds; None when the push has none or not a usable one (negative, fractional,
    #: a boolean, beyond year 9999).
    push_timestamp: int | None

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> PushFields:
        """The fields of ``payload``; ValueError when it has no integer ``type``, an id too
        long for its column, or a value no backend stores alike (:func:`refuse_unstorable`)."""
        push_type = _whole_number(payload.get("type"))
        if push_type is None:
            raise ValueError(
                f"webhook payload has no integer `type` (got {payload.get('type')!r}); "
                "TikTok pushes always carry one, so this is not a TikTok push"
            )
        refuse_unstorable(payload)
        timestamp = _whole_number(payload.get("timestamp"))
        if timestamp is not None and not 0 <= timestamp <= _MAX_EPOCH:
            timestamp = None
        return cls(
            type=push_type,
            event_type=event_name(push_type),
            shop_id=fitting(inbox_t.c.shop_id, _text(payload.get("shop_id"))),
            tts_notification_id=fitting(
                inbox_t.c.tts_notification_id, _text(payload.get("tts_notification_id"))
            ),
            push_timestamp=timestamp,
        )


class WebhookInbox:
    """Add, read and mark rows of ``tiktok_webhooks``."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use ``engine`` (already migrated) for every query."""
        self.engine = engine
        self._insert: Any = None

    def _insert_statement(self, conn: sa.Connection) -> Any:
        """The INSERT of a push, built once: the receiver runs it hundreds of times a second.

        ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to finish, so two
        deliveries of one push never both report created=True.
        """
        if self._insert is None:
            self._insert = (
                upsert_insert(conn, inbox_t)
                .values({name: sa.bindparam(name) for name in _INSERTED})
                .on_conflict_do_nothing(index_elements=[inbox_t.c.dedupe_key])
                .returning(inbox_t.c.id)
            )
        return self._insert

    def add(
        self,
        *,
        raw_body: bytes,
        payload: Mapping[str, Any],
        route: str,
        received_at: datetime | None = None,
    ) -> tuple[int, bool]:
        """Store a verified push; returns ``(row id, created)``.

        A replay (same dedupe key) stores nothing and returns the existing row's id and
        False; this holds under concurrent adds too.

        Args:
            raw_body: the request body exactly as received (kept for audits and re-parsing).
            payload: the parsed body; its ``type`` must be an integer. Its fields are
                normalised by :meth:`PushFields.of`.
            route: ``all`` or the per-event slug the push arrived on.
            received_at: when it arrived (default now).
        """
        fields = PushFields.of(payload)
        key = dedupe_key(raw_body, payload)
        values = {
            "dedupe_key": key,
            "tts_notification_id": fields.tts_notification_id,
            "type": fields.type,
            "event_type": fields.event_type,
            "shop_id": fields.shop_id,
            "push_timestamp": fields.push_timestamp,
            "push_time": from_epoch(fields.push_timestamp),
            "data": payload.get("data"),
            "raw_body": raw_body.decode("utf-8", errors="replace"),
            "route": route,
            "received_at": received_at or utcnow(),
            "status": InboxStatus.PENDING.value,
            "attempts": 0,
        }
        with self.engine.begin() as conn:
            row_id = conn.execute(self._insert_statement(conn), values).scalar_one_or_none()
            if row_id is not None:
                return row_id, True
            existing = conn.execute(
                sa.select(inbox_t.c.id).where(inbox_t.c.dedupe_key == key)
            ).scalar_one()
        log.info("webhook %s (%s) is a replay of row %s", key, values["event_type"], existing)
        return existing, False

    def pending(self, after_id: int = 0, limit: int = 500) -> list[InboxRow]:
        """Pending rows with ``id > after_id``, oldest first, at most ``limit``."""
        query = (
            sa.select(*_ROW_COLUMNS)
            .where(inbox_t.c.status == InboxStatus.PENDING.value)
            .where(inbox_t.c.id > after_id)
            .order_by(inbox_t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_inbox_row(row) for row in conn.execute(query)]

    def ready(
        self, *, after_id: int, dispatched_before: datetime, limit: int = 500
    ) -> list[InboxRow]:
        """Pending rows a consumer should take now, oldest first, at most ``limit``.

        That is rows past ``after_id`` (the consumer's cursor), rows put back for a retry
        (``attempts > 0``), and rows at or before the cursor received before
        ``dispatched_before`` that are still untouched (their run never started).
        """
        query = (
            sa.select(*_ROW_COLUMNS)
            .where(inbox_t.c.status == InboxStatus.PENDING.value)
            .where(
                sa.or_(
                    inbox_t.c.id > after_id,
                    inbox_t.c.attempts > 0,
                    inbox_t.c.received_at < dispatched_before,
                )
            )
            .order_by(inbox_t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_inbox_row(row) for row in conn.execute(query)]

    def in_status(self, status: str, limit: int = 500) -> list[InboxRow]:
        """Rows in ``status``, oldest first, at most ``limit``."""
        query = (
            sa.select(*_ROW_COLUMNS)
            .where(inbox_t.c.status == InboxStatus(status).value)
            .order_by(inbox_t.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_inbox_row(row) for row in conn.execute(query)]

    def get_many(self, row_ids: Sequence[int]) -> list[InboxRow]:
        """The rows with these ids, by id (missing ids are left out)."""
        rows: list[InboxRow] = []
        with self.engine.connect() as conn:
            for chunk in chunks(list(row_ids)):
                query = sa.select(*_ROW_COLUMNS).where(inbox_t.c.id.in_(chunk))
                rows += [_inbox_row(row) for row in conn.execute(query)]
        return sorted(rows, key=lambda row: row.id)

    def get(self, row_id: int) -> InboxRow:
        """The row with this id (LookupError when there is none)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_ROW_COLUMNS).where(inbox_t.c.id == row_id)).first()
        if row is None:
            raise LookupError(f"no webhook row with id {row_id} in tiktok_webhooks")
        return _inbox_row(row)

    def mark(
        self,
        row_ids: Sequence[int],
        status: str,
        *,
        run_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Move rows to ``status``; ``processing`` counts an attempt, final states stamp the time.

        ``run_id`` is kept when not given; ``error`` is replaced (None clears it).
        """
        try:
            new = InboxStatus(status)
        except ValueError:
            valid = ", ".join(s.value for s in InboxStatus)
            raise ValueError(f"unknown inbox status {status!r}; use one of: {valid}") from None
        if not row_ids:
            return
        values: dict[str, Any] = {
            "status": new.value,
            "error": error,
            "processed_at": utcnow() if new in FINAL_STATUSES else None,
        }
        if run_id is not None:
            values["run_id"] = run_id
        if new is InboxStatus.PROCESSING:
            values["attempts"] = inbox_t.c.attempts + 1
        with self.engine.begin() as conn:
            for chunk in chunks(list(row_ids)):
                conn.execute(sa.update(inbox_t).where(inbox_t.c.id.in_(chunk)).values(**values))

    def purge_processed(
        self, older_than: datetime, batch_size: int = 1000, *, dry_run: bool = False
    ) -> int:
        """Delete processed and ignored rows finished before ``older_than``; returns the count.

        Pending, processing and failed rows are never removed. ``dry_run``: count the rows
        that would go; delete nothing.
        """
        finished = sa.func.coalesce(inbox_t.c.processed_at, inbox_t.c.received_at)
        done = inbox_t.c.status.in_([InboxStatus.PROCESSED.value, InboxStatus.IGNORED.value])
        return delete_in_batches(
            self.engine,
            inbox_t,
            done,
            finished < older_than,
            batch_size=batch_size,
            dry_run=dry_run,
        )
