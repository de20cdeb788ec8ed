"""Prefilter engines: find every occurrence of the library's literals in a chunk of bytes.

Only lines that hold a literal are decoded and parsed, so this pass is the scan's hot loop
(BES-LOGS research, section 4: grep is fast because it never splits the input into lines).
Two engines give identical hits: hyperscan where it imports, and a pure-Python one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Prefilter(Protocol):
    name: str

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        """``(offset, literal index)`` of every occurrence, in no particular order."""
        ...


class PythonPrefilter:
    """One ``bytes.find`` pass per literal: C-speed searching without any extra dependency."""

    name = "python"

    def __init__(self, literals: Sequence[bytes]) -> None:
        self._literals = tuple(literals)

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        find = buf.find
        for index, lit in enumerate(self._literals):
            pos = find(lit)
            while pos >= 0:
                hits.append((pos, index))
                pos = find(lit, pos + 1)
        return hits


class HyperscanPrefilter:
    """All literals in one hyperscan database, scanned in block mode."""

    name = "hyperscan"

    def __init__(self, literals: Sequence[bytes]) -> None:
        import hyperscan

        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[lit for lit in literals],
            ids=list(range(len(literals))),
            elements=len(literals),
            flags=[hyperscan.HS_FLAG_ALLOWEMPTY * 0] * len(literals),
            literal=True,
        )
        self._lengths = [len(lit) for lit in literals]

    def scan(self, buf: bytes) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        lengths = self._lengths

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            hits.append((end - lengths[index], index))

        self._db.scan(buf, match_event_handler=on_match)
        return hits


def hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


def make_prefilter(literals: Sequence[bytes], engine: str = "auto") -> Prefilter:
    """``auto`` takes hyperscan when it imports; ``python`` and ``hyperscan`` force one engine."""
    if engine == "python" or (engine == "auto" and not hyperscan_available()):
        return PythonPrefilter(literals)
    return HyperscanPrefilter(literals)
