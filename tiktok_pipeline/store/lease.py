"""The refresh lease: one refresher per seller authorization across threads and processes.

The lease lives in the authorization's row (``refresh_lease_owner``, ``refresh_lease_expires_at``)
so that every process sharing the database sees it. A caller that cannot take it waits until its
holder releases it (or it expires) and then re-reads the tokens the holder stored. The holder
renews the lease while its refresh runs (:meth:`RefreshLease.kept`), however slow TikTok answers;
a lease whose holder died stops being renewed, expires after :data:`LEASE_DURATION` and can be
taken over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.errors import TokenError
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t

log = logging.getLogger(__name__)

#: How long a lease holds unless renewed; its holder renews it every third of this.
LEASE_DURATION = timedelta(seconds=30)
#: How often a waiter looks whether the lease was released.
LEASE_POLL_SECONDS = 0.05
#: How long a waiter waits for someone else's refresh before giving up.
LEASE_WAIT_SECONDS = 45.0


def lease_owner() -> str:
    """A name unique to this caller: host, process, thread and a random part."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    return owner[-255:]


class RefreshLease:
    """The right to refresh one authorization's tokens, held by at most one caller at a time.

    Args:
        engine: the operational store's engine.
        authorization_id: the authorization whose row holds the lease.
        owner: the name written into the row (default: :func:`lease_owner`).
        duration: how long a taken lease holds before others may take it over.
    """

    def __init__(
        self,
        engine: sa.Engine,
        authorization_id: int,
        *,
        owner: str | None = None,
        duration: timedelta = LEASE_DURATION,
    ) -> None:
        self.engine = engine
        self.authorization_id = authorization_id
        self.owner = owner or lease_owner()
        self.duration = duration

    def acquire(self) -> bool:
        """Take the lease if nobody holds it or its holder's time ran out; True when taken."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == self.authorization_id)
                .where(
                    sa.or_(
                        auth_t.c.refresh_lease_owner.is_(None),
                        auth_t.c.refresh_lease_expires_at < now,
                    )
                )
                .values(
                    refresh_lease_owner=self.owner, refresh_lease_expires_at=now + self.duration
                )
            )
        return result.rowcount == 1

    def renew(self) -> bool:
        """Push the lease's end ``duration`` away; False when this caller no longer holds it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(auth_t)
                .where(auth_t.c.id == self.authorization_id)
                .where(auth_t.c.refresh_lease_owner == self.owner)
                .values(refresh_lease_expires_at=utcnow() + self.duration)
            )
        return result.rowcount == 1

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Keep the (acquired) lease for as long as the block runs, renewing it in a thread.

        A refresh slower than the lease (TikTok answering in 16 s, then a retry) must not let
        another process take the lease over and spend the refresh token a second time.
        """
        stop = threading.Event()
        interval = self.duration.total_seconds() / 3

        def renew_until_stopped() -> None:
            while not stop.wait(interval):
                try:
                    if not self.renew():
                        log.warning(
                            "lost the refresh lease of authorization %s", self.authorization_id
                        )
                        return
                except sa.exc.SQLAlchemyError as exc:  # try again at the next interval
                    log.warning(
                        "could not renew the refresh lease of authorization %s (%s)",
                        self.authorization_id,
                        type(exc).__name__,
                    )

        renewer = threading.Thread(
            target=renew_until_stopped, name=f"refresh-lease-{self.authorization_id}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()

    def release(self) -> None:
        """Give the lease back if this caller still holds it; never raises."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(auth_t)
                    .where(auth_t.c.id == self.authorization_id)
                    .where(auth_t.c.refresh_lease_owner == self.owner)
                    .values(refresh_lease_owner=None, refresh_lease_expires_at=None)
                )
        except sa.exc.SQLAlchemyError as exc:
            # The lease expires on its own; do not hide the caller's real outcome.
            log.warning(
                "could not release the refresh lease of authorization %s (%s); it expires in %ss",
                self.authorization_id,
                type(exc).__name__,
                int(self.duration.total_seconds()),
            )

    def wait_for_release(self, deadline: float) -> None:
        """Return once the lease is free or expired; TokenError after ``deadline``.

        Args:
            deadline: a :func:`time.monotonic` value.
        """
        query = sa.select(auth_t.c.refresh_lease_owner, auth_t.c.refresh_lease_expires_at).where(
            auth_t.c.id == self.authorization_id
        )
        while True:
            time.sleep(LEASE_POLL_SECONDS)
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
            if row is None or row.refresh_lease_owner is None:
                return
            if row.refresh_lease_expires_at is None or row.refresh_lease_expires_at < utcnow():
                return
            if time.monotonic() > deadline:
                raise TokenError(
                    f"gave up after {LEASE_WAIT_SECONDS:.0f}s waiting for another process "
                    f"({row.refresh_lease_owner}) to refresh authorization "
                    f"{self.authorization_id}",
                    hint="retry the call; if it keeps happening, check that process",
                )
