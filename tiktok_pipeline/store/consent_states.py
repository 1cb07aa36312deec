"""Consent states already used: a consent link's state is accepted once, across processes.

The web service may run several workers; a state remembered in one worker's memory would be
accepted again by another. The nonce of each accepted state is kept in ``tiktok_consent_states``
until the state expires, and a second claim of it fails on the primary key.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tiktok_pipeline.db import utcnow
from tiktok_pipeline.store._sql import fitting, upsert_insert
from tiktok_pipeline.store.schema import tiktok_consent_states as states_t


class ConsentStates:
    """The nonces of accepted consent states, until they expire."""

    def __init__(self, engine: sa.Engine) -> None:
        """Use ``engine`` (already migrated) for every query."""
        self.engine = engine

    def claim(self, nonce: str, expires_at: datetime) -> bool:
        """Record ``nonce`` as used; False when it already was (the link is being reused).

        Expired nonces are forgotten on the way: their states are refused as expired anyway.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(sa.delete(states_t).where(states_t.c.expires_at < now))
            inserted = conn.execute(
                upsert_insert(conn, states_t)
                .values(nonce=fitting(states_t.c.nonce, nonce), used_at=now, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[states_t.c.nonce])
            )
        return inserted.rowcount == 1
