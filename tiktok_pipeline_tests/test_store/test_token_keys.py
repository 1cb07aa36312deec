"""Where the token key comes from, and `tiktok-pipeline tokens new-key|rotate-key`."""

from __future__ import annotations

import logging
import stat
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tiktok_pipeline import cli, db
from tiktok_pipeline.config import ConfigurationError, sqlite_url
from tiktok_pipeline.store import Store
from tiktok_pipeline.store.encryption import TokenKeyError
from tiktok_pipeline.store.token_keys import read_or_create_key_file
from tiktok_pipeline_tests.test_store.fakes import shop, token_data
from tiktok_pipeline_tests.test_store.test_token_encryption import (
    SECRETS,
    _insert_plaintext,
    _store_at_0003,
    raw_rows,
)

SHOP_A = "7494049642642441621"


@pytest.fixture(autouse=True)
def only_token_commands(monkeypatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("tiktok_pipeline.cli.tokens",))


def test_the_embedded_default_generates_its_key_once(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.delenv("TIKTOK_TOKEN_KEY", raising=False)
    url = sqlite_url(tmp_path / "data" / "tiktok.db")
    key_file = tmp_path / "data" / "token.key"

    with caplog.at_level(logging.WARNING):
        Store.from_url(url).tokens.save_authorization(token_data(), [shop(SHOP_A)])
        # Another process (a new store) finds the key and says nothing.
        (authorization,) = Store(db.shared_engine(url)).tokens.list_authorizations()

    assert authorization.access_token == "TTP_access_1"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    Fernet(key)  # a valid key
    notices = [r.getMessage() for r in caplog.records if "token.key" in r.getMessage()]
    assert len(notices) == 1
    assert str(key_file) in notices[0]
    assert "Back it up" in notices[0] and "TIKTOK_TOKEN_KEY" in notices[0]
    assert key not in caplog.text
    assert not any(secret in repr(raw_rows(db.shared_engine(url))) for secret in SECRETS)


def test_processes_starting_at_once_share_one_generated_key(tmp_path) -> None:
    path = tmp_path / "token.key"
    barrier = threading.Barrier(8)
    keys: list[tuple[str, ...]] = []

    def start() -> None:
        barrier.wait(timeout=10)
        keys.append(read_or_create_key_file(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token.key"]


def test_postgres_without_a_key_says_how_to_make_one(postgres_url: str, monkeypatch) -> None:
    monkeypatch.delenv("TIKTOK_TOKEN_KEY", raising=False)
    store = Store.from_url(postgres_url, upgrade=True)  # no token yet: no key needed

    with pytest.raises(TokenKeyError) as failure:
        store.tokens.save_authorization(token_data(), [shop(SHOP_A)])

    message = str(failure.value)
    assert "TIKTOK_TOKEN_KEY is not set" in message and "tokens new-key" in message
    assert "Fernet.generate_key()" in message
    assert store.tokens.list_shops() == []


def test_migrating_plaintext_tokens_on_postgres_needs_the_key(
    postgres_url: str, monkeypatch
) -> None:
    monkeypatch.delenv("TIKTOK_TOKEN_KEY", raising=False)
    engine = _store_at_0003(postgres_url)
    _insert_plaintext(engine, "seller-1", *SECRETS)

    with pytest.raises(TokenKeyError, match="TIKTOK_TOKEN_KEY is not set"):
        Store(engine).upgrade()

    assert [r["access_token"] for r in raw_rows(engine)] == ["TTP_access_1"]
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", Fernet.generate_key().decode())
    Store(engine).upgrade()
    assert Store.from_url(postgres_url).tokens.list_authorizations()[0].access_token == SECRETS[0]


def test_a_malformed_key_is_named_not_shown(sqlite_db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", f"{Fernet.generate_key().decode()},not-a-key-at-all")

    with pytest.raises(ConfigurationError) as failure:
        Store.from_url(sqlite_db_url).tokens.save_authorization(token_data(), [shop(SHOP_A)])

    message = str(failure.value)
    assert "TIKTOK_TOKEN_KEY: key 2 of 2 is not a Fernet key" in message
    assert "not-a-key-at-all" not in message


def test_new_key_prints_a_usable_key(capsys) -> None:
    assert cli.main(["tokens", "new-key"]) == 0

    out, err = capsys.readouterr()
    Fernet(out.strip())
    assert "TIKTOK_TOKEN_KEY" in err and "rotate-key" in err


def test_rotate_key_reencrypts_every_row_with_the_first_key(
    database_url: str, monkeypatch, capsys
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", old)
    store = Store.from_url(database_url, upgrade=True)
    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    store.tokens.save_authorization(
        token_data("TTP_access_b", "TTP_refresh_b", open_id="other"), [shop("42")]
    )
    before = raw_rows(store.engine)

    monkeypatch.setenv("TIKTOK_TOKEN_KEY", f"{new},{old}")
    assert cli.main(["tokens", "rotate-key", "--url", database_url]) == 0
    first = capsys.readouterr().out
    assert cli.main(["tokens", "rotate-key", "--url", database_url, "--json"]) == 0
    second = capsys.readouterr().out

    assert "re-encrypted the tokens of 2 of 2 authorization(s)" in first
    assert '"reencrypted": 0' in second and '"already_current": 2' in second
    after = raw_rows(store.engine)
    assert all(a != b for a, b in zip(after, before, strict=True))
    only_new = Fernet(new.encode())
    assert {only_new.decrypt(r["refresh_token"][7:].encode()).decode() for r in after} == {
        "TTP_refresh_1",
        "TTP_refresh_b",
    }

    # The old key alone no longer reads them: a clear error, naming the variable only.
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", old)
    with pytest.raises(TokenKeyError) as failure:
        Store.from_url(database_url).tokens.list_authorizations()
    assert "cannot be decrypted with the key in TIKTOK_TOKEN_KEY" in str(failure.value)
    assert cli.main(["tokens", "rotate-key", "--url", database_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the tokens of authorization") and "TIKTOK_TOKEN_KEY" in err
    for secret in (old, new, *SECRETS, "TTP_refresh_b"):
        assert secret not in err and secret not in str(failure.value)
    assert raw_rows(store.engine) == after


def test_rotate_key_leaves_rows_alone_when_one_cannot_be_decrypted(
    sqlite_db_url: str, monkeypatch, capsys
) -> None:
    first, second, third = (Fernet.generate_key().decode() for _ in range(3))
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", first)
    store = Store.from_url(sqlite_db_url)
    store.tokens.save_authorization(token_data(), [shop(SHOP_A)])
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", second)
    Store(store.engine).tokens.save_authorization(
        token_data("TTP_access_b", "TTP_refresh_b", open_id="other", access_in=timedelta(1)),
        [shop("42")],
    )
    before = raw_rows(store.engine)

    # The key of the first row is missing: nothing may be rewritten, not even the second row.
    monkeypatch.setenv("TIKTOK_TOKEN_KEY", f"{third},{second}")
    assert cli.main(["tokens", "rotate-key", "--url", sqlite_db_url]) == 2

    assert "authorization 1" in capsys.readouterr().err
    assert raw_rows(store.engine) == before
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM tiktok_authorizations")).scalar() == 2


def test_a_lost_key_file_is_not_silently_replaced(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TIKTOK_TOKEN_KEY", raising=False)
    url = sqlite_url(tmp_path / "tiktok.db")
    Store.from_url(url).tokens.save_authorization(token_data(), [shop(SHOP_A)])
    (tmp_path / "token.key").unlink()
    before = raw_rows(db.shared_engine(url))

    with pytest.raises(TokenKeyError, match=r"key file .*token\.key is missing: restore it"):
        Store.from_url(url).tokens.list_authorizations()

    assert not (tmp_path / "token.key").exists()  # no new key that could not read them
    assert raw_rows(db.shared_engine(url)) == before
