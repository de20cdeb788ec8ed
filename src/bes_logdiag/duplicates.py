"""Inputs with the same bytes as another (a copy, a rename, the file also inside a zip): counted once.

Decided by content, cheaply: only sources whose sizes collide are compared, first by a cheap
`probe` of their first and last bytes that the reader takes as it reads them anyway (a folder of
20,000 small files of alike sizes is neither read twice nor hashed), then, where those agree too,
by a hash of all their bytes.  Sources read without a probe (gzip data, which is compared as
stored) are told by a hash of their first 64 KiB instead.  A ``.gz`` and its plain original are
two inputs here, and the scan's line-level dedupe keeps their lines from counting twice.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import IO

from bes_logdiag.inflate import TarReader
from bes_logdiag.model import Duplicate
from bes_logdiag.read import READ_ERRORS, Source, is_copy_name, open_stored, reading_order

HEAD_BYTES = 64 * 1024
"""Two logs of one size nearly always differ here: most collisions cost this much per file."""
_BLOCK = 1 << 20


PROBE_BYTES = 4096


def probe(first: bytes, last: bytes) -> int:
    """A cheap fingerprint of what a reader read of a source, from its first block and its last
    (one block when it is small; the last read when the scanner refused the rest): the checksums of
    their first and last `PROBE_BYTES`.  The same bytes, read alike, give equal probes; equal probes
    only say that the sources are worth hashing (`find_duplicates`)."""
    return zlib.crc32(first[:PROBE_BYTES]) << 32 | zlib.crc32(last[-PROBE_BYTES:])


def find_duplicates(
    sources: Sequence[Source], probes: Mapping[int, int] | None = None
) -> tuple[list[Source], list[Duplicate]]:
    """The sources to count, in order, and those whose bytes another of them holds.  ``probes``:
    the `probe` its reader took of each source, by ``id``.  Sources of one size whose
    probes agree are hashed whole.  One without a probe is told by the hash of its first
    `HEAD_BYTES` (alone when it is no longer), and hashed whole when another shares that too.

    Of identical sources the one counted is the one with a plain BES name, then a file rather
    than a zip member, then the first given.  Two BES names of different servers are both
    counted: they are two servers' logs, however alike.
    """
    groups = _split(_files(sources), lambda s: s.content_size)
    tars = TarReader()
    try:
        probed = probes or {}
        keys: dict[int, int | bytes | None] = dict(probed)
        keys.update(_digests([[s for s in g if id(s) not in probed] for g in groups], HEAD_BYTES, tars))
        # (a probe, an int, never equals a hash: each group is probed or hashed throughout)
        groups = _regroup(groups, keys)
        told = [g for g in groups if id(g[0]) not in probed and (g[0].content_size or 0) <= HEAD_BYTES]
        rest = [g for g in groups if id(g[0]) in probed or (g[0].content_size or 0) > HEAD_BYTES]
        groups = told + _regroup(rest, _digests(rest, None, tars))
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


def _regroup(groups: list[list[Source]], digests: Mapping[int, Hashable | None]) -> list[list[Source]]:
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
