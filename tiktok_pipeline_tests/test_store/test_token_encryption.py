"""Seller tokens at rest: encrypted in the table, migrated from plaintext, fenced while rotated."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet

from tiktok_pipeline import db
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.encryption import PlaintextTokenError, TokenCipher, TokenKeyError
from tiktok_pipeline.store.fencing import update_if_current
from tiktok_pipeline.store.key_rotation import rotate_token_key
from tiktok_pipeline.store.schema import VERSION_TABLE, tiktok_authorizations
from tiktok_pipeline.store.store import MIGRATIONS, head_revision
from tiktok_pipeline_tests.test_store.fakes import FakeTokenEndpoint, shop, token_data

SHOP_A = "7494049642642441621"
SECRETS = ("TTP_access_1", "TTP_refresh_1")


def raw_rows(engine: sa.Engine) -> list[dict]:
    """Every authorization as the database holds it."""
    with engine.connect() as conn:
        query = sa.text("SELECT id, access_token, refresh_token FROM tiktok_authorizations")
        return [dict(row._mapping) for row in conn.execute(query)]


def dump(engine: sa.Engine) -> str:
    """Every column of every authorization, as text."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM tiktok_authorizations")).all()
    return repr(rows)


def test_no_token_is_stored_in_plaintext(store: Store) -> None:
    authorization, _ = store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)]
    )

    (row,) = raw_rows(store.engine)
    assert row["access_token"].startswith("fernet:")
    assert row["refresh_token"].startswith("fernet:")
    assert not any(secret in dump(store.engine) for secret in SECRETS)
    assert store.tokens.get_authorization(authorization.id).access_token == "TTP_access_1"

    # A refresh stores the rotated tokens encrypted too.
    credentials = store.tokens.credentials(SHOP_A, refresh=FakeTokenEndpoint())
    assert credentials.access_token == "TTP_access_2"
    text = dump(store.engine)
    assert "TTP_access_2" not in text and "TTP_refresh_2" not in text
    assert store.tokens.get_authorization(authorization.id).refresh_token == "TTP_refresh_2"


def _store_at_0003(url: str) -> sa.Engine:
    engine = db.shared_engine(url)
    with engine.begin() as conn:
        command.upgrade(db.alembic_config(MIGRATIONS, VERSION_TABLE, conn), "0003")
    return engine


def _insert_plaintext(engine: sa.Engine, open_id: str, access: str, refresh: str) -> None:
    now = db.utcnow()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(tiktok_authorizations).values(
                open_id=open_id,
                access_token=access,
                refresh_token=refresh,
                authorized_at=now,
                created_at=now,
                updated_at=now,
            )
        )


def test_the_migration_encrypts_existing_plaintext_tokens(database_url: str) -> None:
    engine = _store_at_0003(database_url)
    _insert_plaintext(engine, "seller-1", "TTP_access_1", "TTP_refresh_1")
    _insert_plaintext(engine, "seller-2", "TTP_access_x", "TTP_refresh_x")

    store = Store(engine)
    assert store.upgrade() == ("0003", head_revision())

    rows = raw_rows(engine)
    assert len(rows) == 2
    assert all(r["access_token"].startswith("fernet:") for r in rows)
    assert all(r["refresh_token"].startswith("fernet:") for r in rows)
    assert not any(s in dump(engine) for s in (*SECRETS, "TTP_access_x", "TTP_refresh_x"))
    tokens = {
        (a.open_id, a.access_token, a.refresh_token) for a in store.tokens.list_authorizations()
    }
    assert tokens == {
        ("seller-1", "TTP_access_1", "TTP_refresh_1"),
        ("seller-2", "TTP_access_x", "TTP_refresh_x"),
    }

    # Downgrading gives the older version its plaintext back.
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(MIGRATIONS, VERSION_TABLE, conn), "0003")
    assert {r["access_token"] for r in raw_rows(engine)} == {"TTP_access_1", "TTP_access_x"}


def test_plaintext_written_after_the_migration_is_refused_until_rotate_key(store: Store) -> None:
    _insert_plaintext(store.engine, "restored", "TTP_access_1", "TTP_refresh_1")

    with pytest.raises(PlaintextTokenError, match="unencrypted") as refused:
        store.tokens.list_authorizations()
    assert "tokens rotate-key" in str(refused.value)
    assert not any(secret in str(refused.value) for secret in SECRETS)

    result = rotate_token_key(store.engine, store.tokens.cipher)

    assert (result.total, result.reencrypted, result.encrypted) == (1, 1, 1)
    assert not any(secret in dump(store.engine) for secret in SECRETS)
    (authorization,) = store.tokens.list_authorizations()
    assert authorization.refresh_token == "TTP_refresh_1"


def test_a_wrong_key_is_a_clear_error_and_changes_nothing(database_url: str) -> None:
    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store = Store(Store.from_url(database_url, upgrade=True).engine, cipher=TokenCipher([right]))
    store.tokens.save_authorization(token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)])
    before = raw_rows(store.engine)

    other = Store(store.engine, cipher=TokenCipher([wrong]))
    with pytest.raises(TokenKeyError) as failure:
        other.tokens.credentials(SHOP_A, refresh=FakeTokenEndpoint())

    message = str(failure.value)
    assert "TIKTOK_TOKEN_KEY" in message and "cannot be decrypted" in message
    assert "Nothing was changed" in message
    for secret in (*SECRETS, right, wrong, before[0]["access_token"]):
        assert secret not in message and secret not in repr(failure.value)
    assert raw_rows(store.engine) == before
    assert store.tokens.list_authorizations()[0].access_token == "TTP_access_1"


def test_a_refresh_survives_a_key_rotation_in_flight(database_url: str) -> None:
    """The compare-and-set on the refresh token compares tokens, not ciphertexts: a rotation
    re-encrypting the row while TikTok answers does not make the refresh drop its new tokens
    (which TikTok's rotation would make the only valid ones)."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store = Store(Store.from_url(database_url, upgrade=True).engine, cipher=TokenCipher([old, new]))
    authorization, _ = store.tokens.save_authorization(
        token_data(access_in=timedelta(minutes=1)), [shop(SHOP_A)]
    )
    endpoint = FakeTokenEndpoint()
    rotations = []

    def refresh_during_rotation(refresh_token: str) -> dict:
        before = raw_rows(store.engine)
        rotations.append(rotate_token_key(store.engine, TokenCipher([new, old])))
        assert raw_rows(store.engine) != before  # the ciphertext read before the call is gone
        return endpoint(refresh_token)

    credentials = store.tokens.credentials(SHOP_A, refresh=refresh_during_rotation)

    assert rotations[0].reencrypted == 1
    assert credentials.access_token == "TTP_access_2"
    stored = store.tokens.get_authorization(authorization.id)
    assert stored.refresh_token == "TTP_refresh_2" == endpoint.valid_refresh_token


def test_the_fence_reads_again_when_a_rotation_lands_between_its_read_and_write(
    database_url: str,
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    engine = Store.from_url(database_url, upgrade=True).engine
    store = Store(engine, cipher=TokenCipher([old, new]))
    authorization, _ = store.tokens.save_authorization(token_data(), [shop(SHOP_A)])

    class RotatedAfterTheRead(TokenCipher):
        rotations = 0

        def decrypt(self, stored: str, *, authorization_id: object = None) -> str:
            token = super().decrypt(stored, authorization_id=authorization_id)
            if not self.rotations:  # the fence has read the row; rotate before it writes
                self.rotations += rotate_token_key(engine, TokenCipher([new, old])).reencrypted
            return token

    cipher = RotatedAfterTheRead([old, new])
    written = update_if_current(
        engine, cipher, authorization.id, "TTP_refresh_1", {"access_token": cipher.encrypt("A9")}
    )

    assert cipher.rotations == 1 and written
    assert store.tokens.get_authorization(authorization.id).access_token == "A9"
    # Another refresh token than the stored one is still refused, after any number of reads.
    assert not update_if_current(
        engine, cipher, authorization.id, "TTP_refresh_0", {"access_token": cipher.encrypt("B")}
    )
    assert store.tokens.get_authorization(authorization.id).access_token == "A9"
