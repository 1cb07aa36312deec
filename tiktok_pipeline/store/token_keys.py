"""Which key encrypts a store's tokens: ``TIKTOK_TOKEN_KEY``, else the embedded default's key file.

On a server database the key must come from ``TIKTOK_TOKEN_KEY``. The embedded default (a
SQLite file) works without setup: on first need a key is generated into ``token.key`` next to
the database file (mode 0600), announced once, and read from there afterwards.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from tiktok_pipeline.config import (
    NEW_TOKEN_KEY_HINT,
    TOKEN_KEY_VARIABLE,
    ConfigurationError,
    load_token_keys,
    parse_token_keys,
)
from tiktok_pipeline.db import shared_engine
from tiktok_pipeline.store.encryption import PREFIX, TokenCipher, TokenKeyError

log = logging.getLogger(__name__)

#: The generated key's file name, in the SQLite database's folder.
KEY_FILE_NAME = "token.key"

# An in-memory SQLite database lives as long as the process: so does its key.
_memory_keys: dict[str, str] = {}
_memory_lock = threading.Lock()


def key_file_path(url: str | sa.URL) -> Path | None:
    """Where the embedded default keeps its key: next to the SQLite file; None for servers and
    in-memory databases."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser().resolve().parent / KEY_FILE_NAME


def cipher_for(
    store: str | sa.URL | sa.Engine,
    environ: Mapping[str, str] | None = None,
    *,
    connection: sa.Connection | None = None,
) -> TokenCipher:
    """The cipher for ``store`` (a URL or an engine): ``TIKTOK_TOKEN_KEY``, else (SQLite) the
    key file.

    Raises TokenKeyError on a server database without ``TIKTOK_TOKEN_KEY``, or when the key
    file is missing although the database holds encrypted tokens (a new key could not read
    them); ConfigurationError for a malformed key. ``connection`` (default: one of the engine)
    looks for those tokens.
    """
    url = store.url if isinstance(store, sa.Engine) else store
    keys = load_token_keys(environ)
    key_file = key_file_path(url)
    if keys:
        hint = ""
        if key_file is not None and key_file.exists():
            hint = (
                f"if they were encrypted with the generated key in {key_file}, list that key "
                f"after yours in {TOKEN_KEY_VARIABLE}"
            )
        return TokenCipher(keys, hint=hint)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise TokenKeyError(
            f"{TOKEN_KEY_VARIABLE} is not set: the tokens of a {parsed.get_backend_name()} "
            f"store are encrypted with it. Set {TOKEN_KEY_VARIABLE} to a Fernet key; "
            f"{NEW_TOKEN_KEY_HINT}. Keep it secret and back it up: without it the stored tokens "
            "cannot be read and every seller must authorize again"
        )
    if key_file is None:
        with _memory_lock:
            key = _memory_keys.setdefault(str(url), Fernet.generate_key().decode("ascii"))
        return TokenCipher([key], source="the in-memory database's key")
    if not key_file.exists() and _holds_encrypted_tokens(store, connection):
        raise TokenKeyError(
            f"the database {parsed.database} holds encrypted tokens but their key file "
            f"{key_file} is missing: restore it from your backup, or "
            f"set {TOKEN_KEY_VARIABLE} to the key they were encrypted with. Nothing was changed"
        )
    return TokenCipher(read_or_create_key_file(key_file), source=f"the key file {key_file}")


def _holds_encrypted_tokens(
    store: str | sa.URL | sa.Engine, connection: sa.Connection | None
) -> bool:
    query = sa.text(
        "SELECT 1 FROM tiktok_authorizations WHERE access_token LIKE :prefix "
        "OR refresh_token LIKE :prefix LIMIT 1"
    )
    try:
        if connection is not None:
            return connection.execute(query, {"prefix": f"{PREFIX}%"}).first() is not None
        engine = store if isinstance(store, sa.Engine) else shared_engine(str(store))
        with engine.connect() as conn:
            return conn.execute(query, {"prefix": f"{PREFIX}%"}).first() is not None
    except sa.exc.OperationalError:  # no table yet: nothing encrypted
        return False


def read_or_create_key_file(path: Path) -> tuple[str, ...]:
    """The keys in ``path``, generating one key there (mode 0600) if the file does not exist.

    Safe when several processes start at once: the key is written to a temporary file and
    linked into place, so exactly one key wins and everyone reads it.
    """
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "the token key file %s can be read by other users (mode %o): run `chmod 600 %s`",
            path,
            mode,
            path,
        )
    keys = parse_token_keys(path.read_text(encoding="ascii", errors="replace"), str(path))
    if not keys:
        raise ConfigurationError(
            f"{path} holds no key: delete it only if the store holds no tokens yet (a new key "
            f"is then generated), or set {TOKEN_KEY_VARIABLE}"
        )
    return keys


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, Fernet.generate_key() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return  # another process generated it first: use theirs
    finally:
        temporary.unlink()
    log.warning(
        "generated the key that encrypts seller tokens at rest: %s (mode 0600). Back it up with "
        "the database: without it the stored tokens cannot be read and every seller must "
        "authorize again. In production set %s instead; %s",
        path,
        TOKEN_KEY_VARIABLE,
        NEW_TOKEN_KEY_HINT,
    )
