"""Opaque page tokens and search selections (the matching entities of one search, in order).

A page token carries the query fingerprint, the snapshot time of the search and the offset,
encrypted and authenticated with a per-instance key: clients cannot read offsets out of it,
and a token used with other filters is rejected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from array import array
from collections.abc import Sequence

import numpy as np

_PLAIN = struct.Struct(">QqI")
_MAC_LEN = 10


class InvalidPageToken(ValueError):
    """The page token is malformed, forged, or belongs to another query."""


class PageTokens:
    """Encrypts and decrypts page tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, fingerprint: int, snapshot: int, offset: int) -> str:
        """A token for the page starting at ``offset`` of a search."""
        plain = _PLAIN.pack(fingerprint, snapshot, offset)
        mac = hmac.new(self._secret, plain, hashlib.sha256).digest()[:_MAC_LEN]
        stream = hmac.new(self._secret, b"stream" + mac, hashlib.sha256).digest()
        cipher = bytes(a ^ b for a, b in zip(plain, stream, strict=False))
        # Standard base64 (with + and /) like TikTok's tokens: clients must URL-encode it.
        return base64.b64encode(mac + cipher).decode().rstrip("=")

    def decode(self, token: str, fingerprint: int) -> tuple[int, int]:
        """(snapshot, offset) of a token; raises InvalidPageToken when it does not fit."""
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (ValueError, TypeError) as exc:
            raise InvalidPageToken("page_token is not a token this API issued") from exc
        if len(raw) != _MAC_LEN + _PLAIN.size:
            raise InvalidPageToken("page_token is not a token this API issued")
        mac, cipher = raw[:_MAC_LEN], raw[_MAC_LEN:]
        stream = hmac.new(self._secret, b"stream" + mac, hashlib.sha256).digest()
        plain = bytes(a ^ b for a, b in zip(cipher, stream, strict=False))
        expected = hmac.new(self._secret, plain, hashlib.sha256).digest()[:_MAC_LEN]
        if not hmac.compare_digest(mac, expected):
            raise InvalidPageToken("page_token is not a token this API issued")
        token_fp, snapshot, offset = _PLAIN.unpack(plain)
        if token_fp != fingerprint:
            raise InvalidPageToken(
                "page_token belongs to a search with other filters or sorting; send the same "
                "query parameters and body as for the first page, or start again without "
                "page_token"
            )
        return snapshot, offset


def fingerprint(*parts: object) -> int:
    """A 64-bit fingerprint of a normalised query."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class Selection:
    """The matching entity numbers of one search, in the order they are served."""

    total: int

    def slice(self, offset: int, size: int) -> Sequence[int]:
        """The entity numbers of one page."""
        raise NotImplementedError


class RangeSelection(Selection):
    """A contiguous index range, ascending or descending."""

    def __init__(self, lo: int, hi: int, descending: bool) -> None:
        self.lo = lo
        self.hi = max(lo, hi)
        self.descending = descending
        self.total = self.hi - self.lo

    def slice(self, offset: int, size: int) -> Sequence[int]:
        """The entity numbers of one page."""
        end = min(self.total, offset + size)
        if offset >= end:
            return []
        if self.descending:
            return range(self.hi - 1 - offset, self.hi - 1 - end, -1)
        return range(self.lo + offset, self.lo + end)


class ListSelection(Selection):
    """An explicit list of entity numbers (kept as a compact array)."""

    def __init__(self, items: Sequence[int] | np.ndarray, descending: bool = False) -> None:
        if isinstance(items, np.ndarray):
            self.items = array("q")
            self.items.frombytes(items.astype(np.int64).tobytes())
        else:
            self.items = array("q", items)
        self.descending = descending
        self.total = len(self.items)

    def slice(self, offset: int, size: int) -> Sequence[int]:
        """The entity numbers of one page."""
        end = min(self.total, offset + size)
        if offset >= end:
            return []
        if self.descending:
            n = self.total
            return [self.items[n - 1 - j] for j in range(offset, end)]
        return self.items[offset:end].tolist()
