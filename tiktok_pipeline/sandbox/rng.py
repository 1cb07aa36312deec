"""Fast deterministic randomness and reversible numeric ids.

Every generated value is a pure function of (seed, shop, entity index), computed with the
splitmix64 finaliser, so any entity can be produced on its own, in any order, without state.
"""

from __future__ import annotations

import math

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(x: int) -> int:
    """The splitmix64 finaliser: a well-mixed 64-bit hash of ``x``."""
    x = (x + GOLDEN) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def key(*parts: int) -> int:
    """A 64-bit key combining several integers (order matters)."""
    h = 0x243F6A8885A308D3
    for part in parts:
        h = mix64(h ^ (part & M64))
    return h


class Draws:
    """A short deterministic stream of random numbers for one entity."""

    __slots__ = ("_base", "_n")

    def __init__(self, base: int) -> None:
        self._base = base
        self._n = 0

    def bits(self) -> int:
        """The next 64 random bits."""
        self._n += 1
        return mix64(self._base + self._n * GOLDEN)

    def below(self, n: int) -> int:
        """A number in [0, n)."""
        return self.bits() % n

    def between(self, lo: int, hi: int) -> int:
        """A number in [lo, hi] (inclusive)."""
        return lo + self.bits() % (hi - lo + 1)

    def chance(self, share: float) -> bool:
        """True with probability ``share``."""
        return self.bits() < share * 18446744073709551616.0

    def pick(self, seq):
        """One element of a non-empty sequence."""
        return seq[self.bits() % len(seq)]


class IdCodec:
    """Reversible numeric string ids: prefix + shop slot + scrambled index + check digits.

    The index is scrambled by an affine map modulo 10**digits, so ids look random but decode
    back to the entity index without any lookup table.
    """

    def __init__(self, prefix: str, slot: int, digits: int, seed: int, kind: int) -> None:
        self.prefix = f"{prefix}{slot:03d}"
        self.digits = digits
        self.mod = 10**digits
        a = key(seed, kind, 1) % self.mod | 1
        while math.gcd(a, 10) != 1:
            a += 2
        self.a = a
        self.b = key(seed, kind, 2) % self.mod
        self.inverse = pow(a, -1, self.mod)
        self.length = len(self.prefix) + digits + 2
        self._prefix_term = int(self.prefix) * self.mod
        self._format = f"{self.prefix}{{:0{digits}d}}{{:02d}}"

    def encode(self, index: int) -> str:
        """The id of entity ``index``."""
        x = (index * self.a + self.b) % self.mod
        return self._format.format(x, (self._prefix_term + x) % 97)

    def decode(self, value: str) -> int | None:
        """The entity index of an id, or None when ``value`` is not one of this codec's ids."""
        if (
            not isinstance(value, str)
            or len(value) != self.length
            or not value.isdigit()
            or not value.startswith(self.prefix)
        ):
            return None
        scrambled = int(value[len(self.prefix) : -2])
        if (self._prefix_term + scrambled) % 97 != int(value[-2:]):
            return None
        return ((scrambled - self.b) * self.inverse) % self.mod
