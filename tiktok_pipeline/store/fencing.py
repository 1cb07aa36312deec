"""Compare-and-set on an authorization's refresh token, with the tokens encrypted.

Fernet ciphertexts differ each time the same token is encrypted, so SQL cannot compare a
stored token with a known one. The fence reads the stored ciphertext, compares its decryption
with the expected token in Python, and writes with ``WHERE refresh_token = <that ciphertext>``:
the write still lands only if nothing replaced the row's tokens in between, atomically in SQL.
When the ciphertext changed but still holds the same token (``tokens rotate-key`` re-encrypted
it meanwhile), the fence reads again instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from tiktok_pipeline.store.encryption import TokenCipher
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t

log = logging.getLogger(__name__)

#: Re-reads after a concurrent re-encryption; each needs another writer to touch the row.
ATTEMPTS = 10


def update_if_current(
    engine: sa.Engine,
    cipher: TokenCipher,
    authorization_id: int,
    refresh_token: str,
    values: Mapping[str, Any],
    *,
    lease_owner: str | None = None,
    also: Callable[[sa.Connection], None] | None = None,
) -> bool:
    """Update an authorization with ``values`` only while it stores ``refresh_token`` (and,
    given ``lease_owner``, while that caller holds its refresh lease).

    ``also`` runs in the same transaction after a successful update. Returns False (nothing
    written) when the row is gone, stores another refresh token, or the lease is someone else's.
    """
    query = sa.select(auth_t.c.refresh_token, auth_t.c.refresh_lease_owner).where(
        auth_t.c.id == authorization_id
    )
    for _ in range(ATTEMPTS):
        # Read outside the write transaction: on SQLite (WAL) a read-then-write transaction
        # fails outright when another process wrote in between.
        with engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return False
        if lease_owner is not None and row.refresh_lease_owner != lease_owner:
            return False
        stored = row.refresh_token
        if cipher.decrypt(stored, authorization_id=authorization_id) != refresh_token:
            return False
        update = (
            sa.update(auth_t)
            .where(auth_t.c.id == authorization_id)
            .where(auth_t.c.refresh_token == stored)
        )
        if lease_owner is not None:
            update = update.where(auth_t.c.refresh_lease_owner == lease_owner)
        with engine.begin() as conn:
            if conn.execute(update.values(**values)).rowcount == 1:
                if also is not None:
                    also(conn)
                return True
    log.warning(
        "authorization %s: its tokens kept changing during %d attempts to update them; "
        "left them as they are",
        authorization_id,
        ATTEMPTS,
    )
    return False
