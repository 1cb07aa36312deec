"""Seller tokens encrypted at rest: the plaintext tokens of older versions get encrypted in place.

With the first key of TIKTOK_TOKEN_KEY (on the embedded SQLite default without it: the key file
generated next to the database). The token columns are TEXT, which holds the longer ciphertext
on every backend. A database without authorizations needs no key. Offline (``--sql``) runs
cannot encrypt: reading then refuses the plaintext rows until ``tokens rotate-key`` runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from tiktok_pipeline.store.encryption import is_encrypted
from tiktok_pipeline.store.token_keys import cipher_for

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

authorizations = sa.table(
    "tiktok_authorizations",
    sa.column("id", sa.Integer),
    sa.column("access_token", sa.Text),
    sa.column("refresh_token", sa.Text),
)


def upgrade() -> None:
    _convert(encrypt=True)


def downgrade() -> None:
    _convert(encrypt=False)


def _convert(*, encrypt: bool) -> None:
    if context.is_offline_mode():
        return
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(authorizations).order_by(authorizations.c.id).with_for_update()
    ).all()
    # Only the rows to change: a store without tokens needs no key.
    todo = [
        row
        for row in rows
        if encrypt != is_encrypted(row.access_token) or encrypt != is_encrypted(row.refresh_token)
    ]
    if not todo:
        return
    cipher = cipher_for(conn.engine.url, connection=conn)
    for row in todo:
        values = {}
        for column in ("access_token", "refresh_token"):
            value = getattr(row, column)
            if encrypt and not is_encrypted(value):
                values[column] = cipher.encrypt(value)
            elif not encrypt and is_encrypted(value):
                values[column] = cipher.decrypt(value, authorization_id=row.id)
        conn.execute(
            sa.update(authorizations).where(authorizations.c.id == row.id).values(**values)
        )
