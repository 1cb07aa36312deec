"""Re-encrypt every stored token with the first key of ``TIKTOK_TOKEN_KEY`` (key rotation).

Every token is checked first: when one cannot be decrypted with the keys given, nothing is
written. Each row is then rewritten with a compare-and-set on the ciphertexts just read, so a
refresh storing new tokens meanwhile is never overwritten (that row is read again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from tiktok_pipeline.store.encryption import TokenCipher, is_encrypted
from tiktok_pipeline.store.schema import tiktok_authorizations as auth_t

log = logging.getLogger(__name__)

_COLUMNS = ("access_token", "refresh_token")


@dataclass(frozen=True)
class RotationResult:
    """What a key rotation did.

    Attributes:
        total: authorizations in the store.
        reencrypted: authorizations whose tokens were re-encrypted with the first key.
        encrypted: of those, how many stored plaintext tokens (written outside tiktok-pipeline).
        current: authorizations already encrypted with the first key (left alone).
    """

    total: int
    reencrypted: int
    encrypted: int
    current: int

    def to_dict(self) -> dict[str, int]:
        """The counts as a JSON-ready dict."""
        return {
            "total": self.total,
            "reencrypted": self.reencrypted,
            "encrypted_plaintext": self.encrypted,
            "already_current": self.current,
        }


def rotate_token_key(engine: sa.Engine, cipher: TokenCipher) -> RotationResult:
    """Re-encrypt every authorization's tokens with ``cipher``'s first key; idempotent.

    Raises TokenKeyError, writing nothing, when a token cannot be decrypted with any key.
    """
    query = sa.select(auth_t.c.id, *(auth_t.c[c] for c in _COLUMNS)).order_by(auth_t.c.id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for row in rows:  # check every token before changing any
        for column in _COLUMNS:
            if is_encrypted(row._mapping[column]):
                cipher.decrypt(row._mapping[column], authorization_id=row.id)
    reencrypted = encrypted = 0
    for row in rows:
        outcome = _rotate_row(engine, cipher, row)
        if outcome is not None:
            reencrypted += 1
            encrypted += outcome
    result = RotationResult(
        total=len(rows),
        reencrypted=reencrypted,
        encrypted=encrypted,
        current=len(rows) - reencrypted,
    )
    log.info(
        "token key rotation: re-encrypted %d of %d authorization(s) with the first key of %s",
        reencrypted,
        len(rows),
        cipher.source,
    )
    return result


def _rotate_row(engine: sa.Engine, cipher: TokenCipher, first: sa.Row) -> bool | None:
    """Rotate one row; None when it needed nothing (or is gone), else whether it was plaintext."""
    query = sa.select(auth_t.c.id, *(auth_t.c[c] for c in _COLUMNS)).where(auth_t.c.id == first.id)
    row: sa.Row | None = first
    while row is not None:
        stored = {column: row._mapping[column] for column in _COLUMNS}
        if all(cipher.is_current(value) for value in stored.values()):
            return None
        plaintext = not all(is_encrypted(value) for value in stored.values())
        values = {
            column: cipher.rotate(value, authorization_id=row.id)
            for column, value in stored.items()
        }
        update = sa.update(auth_t).where(auth_t.c.id == row.id)
        for column, value in stored.items():
            update = update.where(auth_t.c[column] == value)
        with engine.begin() as conn:
            if conn.execute(update.values(**values)).rowcount == 1:
                return plaintext
        with engine.connect() as conn:  # a refresh stored new tokens meanwhile: look again
            row = conn.execute(query).first()
    return None
