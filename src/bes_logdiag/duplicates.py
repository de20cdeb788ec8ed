"""Inputs with the same bytes as another (a copy, a rename, the file also inside a zip): counted once.

Decided by content, cheaply: only sources whose sizes collide are hashed, first their first
64 KiB, then, where those agree too, all of them.  The first hash is taken by the reader as it
reads the source anyway (`Source.hash_head`, `head_digest`): a folder of 20,000 small files of
alike sizes is not read twice.  Gzip data is compared as stored: a ``.gz`` and its plain original
are two inputs here, and the scan's line-level dedupe keeps their lines from counting twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import IO

from bes_logdiag.inflate import TarReader
from bes_logdiag.model import Duplicate
from bes_logdiag.read import READ_ERRORS, Source, is_copy_name, open_stored, reading_order

HEAD_BYTES = 64 * 1024
"""Two logs of one size nearly always differ here: most collisions cost this much per file."""
_BLOCK = 1 << 20


def mark_same_sizes(sources: Sequence[Source]) -> list[Source]:
    """``sources``, those whose size another shares marked to have their head hashed as they are
    read (`Source.hash_head`)."""
    files = _files(sources)
    same = {id(s) for group in _split(files, lambda s: s.content_size) for s in group}
    return [dataclasses.replace(s, hash_head=True) if id(s) in same else s for s in sources]


def head_digest(head: bytes) -> bytes:
    """The hash of a source's first bytes as stored (its first `HEAD_BYTES`, or fewer)."""
    return hashlib.blake2b(head[:HEAD_BYTES], digest_size=32).digest()


def stored_head_digest(src: Source, tars: TarReader | None = None) -> bytes | None:
    """`head_digest` of a source read as stored (gzip data not inflated); None if unreadable."""
    return _hash(src, HEAD_BYTES, tars)


def find_duplicates(
    sources: Sequence[Source], heads: Mapping[int, bytes | None] | None = None
) -> tuple[list[Source], list[Duplicate]]:
    """The sources to count, in order, and those whose bytes another of them holds.  ``heads``:
    the `head_digest` of each source marked by `mark_same_sizes`, by ``id``, as its reader took
    it (otherwise they are read here).  A source no longer than its head is told by it alone;
    a longer one whose head another shares is hashed whole.

    Of identical sources the one counted is the one with a plain BES name, then a file rather
    than a zip member, then the first given.  Two BES names of different servers are both
    counted: they are two servers' logs, however alike.
    """
    groups = _split(_files(sources), lambda s: s.content_size)
    tars = TarReader()
    try:
        if heads is None:
            heads = _digests(groups, HEAD_BYTES, tars)
        groups = _regroup(groups, heads)
        told = [g for g in groups if (g[0].content_size or 0) <= HEAD_BYTES]  # (one size a group)
        longer = [g for g in groups if (g[0].content_size or 0) > HEAD_BYTES]
        groups = told + _regroup(longer, _digests(longer, None, tars))
    finally:
        tars.close()
    order = {id(s): i for i, s in enumerate(sources)}

    def preference(s: Source) -> tuple[bool, bool, int]:
        return (is_copy_name(s.member or s.path), s.member is not None, order[id(s)])

    same_as: dict[int, Source] = {}
    for group in groups:
        read: dict[str | None, Source] = {}  # per server named, the one of the group that is read
        for s in sorted(group, key=preference):
            server = s.info.server
            keep = read.get(server) if server is not None else next(iter(read.values()), None)
            if keep is None:
                read[server] = s
            else:
                same_as[id(s)] = keep
    kept = [s for s in sources if id(s) not in same_as]
    return kept, [Duplicate(s.name, same_as[id(s)].name) for s in sources if id(s) in same_as]


def _digests(groups: list[list[Source]], limit: int | None, tars: TarReader) -> dict[int, bytes | None]:
    """The hash of every source of ``groups`` (of its first ``limit`` bytes), by ``id``, read in
    reading order: a compressed tar's members in one pass (`TarReader`), not the archive once
    per member."""
    todo = sorted((s for group in groups for s in group), key=reading_order)
    return {id(s): _hash(s, limit, tars) for s in todo}


def _regroup(groups: list[list[Source]], digests: Mapping[int, bytes | None]) -> list[list[Source]]:
    """Each group split by the digests of its sources (an unreadable one, None, stands alone)."""
    return [g for group in groups for g in _split(group, lambda s: digests.get(id(s)))]


def _files(sources: Iterable[Source]) -> list[Source]:
    return [s for s in sources if s.content_size and not s.stdin]  # (an empty file is skipped)


def _split(sources: Iterable[Source], key: Callable[[Source], Hashable | None]) -> list[list[Source]]:
    """`sources` grouped by `key`, keeping only groups of two or more (None: unreadable, alone)."""
    groups: dict[Hashable, list[Source]] = {}
    for s in sources:
        k = key(s)
        if k is not None:
            groups.setdefault(k, []).append(s)
    return [g for g in groups.values() if len(g) > 1]


def _hash(src: Source, limit: int | None, tars: TarReader | None) -> bytes | None:
    h = hashlib.blake2b(digest_size=32)
    try:
        with open_stored(src, tars=tars) as f:  # (gzip data as stored, zip and tar members unpacked)
            for block in _blocks(f, limit):
                h.update(block)
    except READ_ERRORS:
        return None  # reading it will say what is wrong
    return h.digest()


def _blocks(f: IO[bytes], limit: int | None) -> Iterator[bytes]:
    left = limit if limit is not None else -1
    while left:
        block = f.read(_BLOCK if left < 0 else min(_BLOCK, left))
        if not block:
            return
        yield block
        if left > 0:
            left -= len(block)
