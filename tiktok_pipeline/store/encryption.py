"""Seller tokens encrypted at rest: Fernet with the keys of ``TIKTOK_TOKEN_KEY``.

A stored token reads ``fernet:<Fernet token>``, so encrypted values are recognisable: store
revision 0004 encrypted the plaintext rows of older versions, and reading refuses any plaintext
left (written outside tiktok-pipeline, or restored from an old backup). Several keys rotate:
the first encrypts, every one decrypts (:class:`cryptography.fernet.MultiFernet`).

Errors name the key's source and what to do, never a token or a key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tiktok_pipeline.config import TOKEN_KEY_VARIABLE, ConfigurationError

#: What every encrypted column value starts with.
PREFIX = "fernet:"


class TokenKeyError(ConfigurationError):
    """No token key, or the key cannot decrypt the stored tokens; nothing was changed."""


class PlaintextTokenError(TokenKeyError):
    """A stored token is not encrypted: it was written outside tiktok-pipeline."""


def is_encrypted(value: str | None) -> bool:
    """True when ``value`` is a token as tiktok-pipeline stores it (encrypted)."""
    return isinstance(value, str) and value.startswith(PREFIX)


class TokenCipher:
    """Encrypts and decrypts the tokens of ``tiktok_authorizations``.

    Args:
        keys: Fernet keys; the first encrypts, all decrypt.
        source: where the keys come from, for messages (``TIKTOK_TOKEN_KEY`` or a key file).
        hint: what to try when the keys do not decrypt a token (e.g. a key file that exists).
    """

    def __init__(
        self, keys: Sequence[str], *, source: str = TOKEN_KEY_VARIABLE, hint: str = ""
    ) -> None:
        if not keys:
            raise TokenKeyError(f"{source} holds no key")
        self._fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._multi = MultiFernet(self._fernets)
        self.source = source
        self.hint = hint
        self.key_count = len(keys)

    def __repr__(self) -> str:
        return f"TokenCipher(source={self.source!r}, keys={self.key_count})"

    def encrypt(self, token: str) -> str:
        """``token`` encrypted with the first key, as stored (``fernet:...``)."""
        return PREFIX + self._fernets[0].encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str, *, authorization_id: object = None) -> str:
        """The token in a stored value; TokenKeyError when no key decrypts it.

        Raises PlaintextTokenError when ``stored`` is not encrypted.
        """
        if not is_encrypted(stored):
            raise PlaintextTokenError(
                f"{_which(authorization_id)} stores its tokens unencrypted (written outside "
                "tiktok-pipeline, or restored from a backup older than store revision 0004); "
                "tiktok-pipeline refuses to use plaintext tokens: run `tiktok-pipeline tokens "
                "rotate-key` to encrypt them"
            )
        try:
            return self._multi.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise self._wrong_key(authorization_id) from None

    def is_current(self, stored: str) -> bool:
        """True when ``stored`` is encrypted with the first key (nothing to rotate)."""
        if not is_encrypted(stored):
            return False
        try:
            self._fernets[0].decrypt(stored[len(PREFIX) :].encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def rotate(self, stored: str, *, authorization_id: object = None) -> str:
        """``stored`` re-encrypted with the first key; a plaintext value gets encrypted.

        TokenKeyError when no key decrypts it.
        """
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            rotated = self._multi.rotate(stored[len(PREFIX) :].encode("ascii"))
        except (InvalidToken, UnicodeError):
            raise self._wrong_key(authorization_id) from None
        return PREFIX + rotated.decode("ascii")

    def _wrong_key(self, authorization_id: object) -> TokenKeyError:
        keys = "the key" if self.key_count == 1 else f"any of the {self.key_count} keys"
        hint = f"; {self.hint}" if self.hint else ""
        return TokenKeyError(
            f"the tokens of {_which(authorization_id)} cannot be decrypted with {keys} in "
            f"{self.source}: they were encrypted with another key (or the value is damaged). "
            f"Set {TOKEN_KEY_VARIABLE} to the key they were encrypted with; to change keys, list "
            "the new key first and the old one after a comma, then run `tiktok-pipeline tokens "
            f"rotate-key`{hint}. Nothing was changed"
        )


def _which(authorization_id: object) -> str:
    if authorization_id is None:
        return "an authorization"
    return f"authorization {authorization_id}"
