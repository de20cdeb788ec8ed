"""Output in few, large writes: what a writer produces piece by piece is passed on in batches.

A stream that PYTHONUNBUFFERED (or ``python -u``) makes unbuffered turns every ``write`` into a
system call: a record or a CSV row at a time, that is millions of them on a big scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

BATCH = 1 << 20
"""Characters held before they are written: about 1 MB, a handful of writes for any report."""


class Batched:
    """A text stream that holds what is written to it and passes it on to ``out`` in writes of
    about `BATCH` characters; `flush` writes the rest."""

    def __init__(self, out: TextIO, size: int = BATCH) -> None:
        self._out = out
        self._size = size
        self._held: list[str] = []
        self._count = 0

    def write(self, text: str) -> int:
        self._held.append(text)
        self._count += len(text)
        if self._count >= self._size:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._held:
            self._out.write("".join(self._held))
            self._held.clear()
            self._count = 0


@contextmanager
def batched(out: TextIO, size: int = BATCH) -> Iterator[Batched]:
    """A `Batched` stream over ``out``, flushed when the block ends without an error."""
    stream = Batched(out, size)
    yield stream
    stream.flush()
