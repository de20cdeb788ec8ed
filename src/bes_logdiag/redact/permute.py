"""Keyed functions that pseudonyms are made of: an HMAC digest, and a keyed permutation of a range.

A permutation (a Feistel network with cycle walking, as format-preserving encryption does it)
gives every user id, PIN and IMEI a pseudonym no other one has: no two people can ever be joined
by a collision, however many there are.  Nothing here changes once made: the same key and value
give the same result in any process, run or order.
"""

from __future__ import annotations

import hashlib
from array import array
from math import isqrt

ROUNDS = 4
"""Feistel rounds: four with a pseudorandom round function make a strong pseudorandom
permutation (Luby and Rackoff)."""
TABLE_SIDE = 1 << 16
"""A permutation whose halves are at most this large keeps its round function's values in
tables (a PIN's halves are 16 bits: 4 x 256 KiB), so that a log of a hundred thousand PINs
computes each of them once, not four HMACs per PIN."""
_BLOCK = 64
"""SHA-256's block size, for HMAC's padded keys (RFC 2104)."""


class KeyedHash:
    """HMAC-SHA256 under one secret (RFC 2104).  The padded key's inner and outer hash states
    are computed once and copied for each message, in C: a third of the cost of
    ``hmac.HMAC.copy``."""

    def __init__(self, secret: bytes) -> None:
        key = (hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret).ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._networks: dict[tuple[str, int], tuple[int, list[tuple[str, array[int] | None]]]] = {}
        """Per kind and size: the halves' size, and per round its name and table of values."""

    def digest(self, kind: str, value: str) -> bytes:
        """The HMAC of `value`, apart per `kind` (an address and a word of the same spelling get
        unrelated pseudonyms)."""
        inner = self._inner.copy()
        inner.update(f"{kind}\0{value}".encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def number(self, kind: str, value: str, below: int) -> int:
        """A keyed number in ``[0, below)``, near uniform (from 128 bits)."""
        return int.from_bytes(self.digest(kind, value)[:16], "big") % below

    def permute(self, kind: str, x: int, size: int) -> int:
        """`x` in ``[0, size)`` sent to another number of that range, one to one.

        A balanced Feistel network over ``[0, side**2)``; a result at or past `size` goes
        through again (cycle walking) until it falls inside, which keeps the function a
        permutation of ``[0, size)``.
        """
        if not 0 <= x < size:
            raise ValueError(f"{x} is outside [0, {size})")
        network = self._networks.get((kind, size))
        if network is None:
            side = isqrt(size - 1) + 1
            table = side <= TABLE_SIDE
            rounds = [(f"{kind}/{r}", array("i", [-1]) * side if table else None) for r in range(ROUNDS)]
            network = self._networks[(kind, size)] = (side, rounds)
        side, rounds = network
        while True:
            left, right = divmod(x, side)
            for name, values in rounds:
                if values is None:
                    f = self.number(name, str(right), side)
                else:
                    f = values[right]
                    if f < 0:
                        f = values[right] = self.number(name, str(right), side)
                left, right = right, (left + f) % side
            x = left * side + right
            if x < size:
                return x
