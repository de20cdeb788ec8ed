"""Decompression in bounded pieces: gzip streams and zip members inflated a piece at a time, so
memory stays flat whatever the ratio, and stopped past an absurd expansion (a decompression bomb)."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

GZIP_PIECE = 64 * 1024
"""Compressed bytes read at a time."""
_INFLATE_STEP = 1024 * 1024
"""The output bound of one zlib call when a read asks for everything (``read()``)."""
DEFAULT_MAX_EXPAND = 1000.0
"""How many times its compressed size a gzip stream or an archive member may inflate to
(``--max-expand``; 0: no limit) once it is past `EXPAND_FLOOR`: a 1 MB .gz of one repeated line
holds 1 GiB, which takes a minute to scan and finds nothing new after its first lines."""
EXPAND_FLOOR = 1024**3
"""Inflated bytes below which no ratio is absurd: a real log compresses up to 50:1, and a small
file of a repeated line may go far higher at no cost."""


class ExpansionError(ValueError):
    """A gzip stream or an archive member inflates absurdly (a decompression bomb?): it is
    stopped, what came before is kept, as for a file that breaks off."""


def check_expansion(produced: int, consumed: int, max_expand: float) -> None:
    """Raise `ExpansionError` when `produced` inflated bytes from `consumed` compressed ones are
    over `EXPAND_FLOOR` and over `max_expand` times (0: never)."""
    if max_expand and produced > EXPAND_FLOOR and produced > max_expand * max(consumed, 1):
        raise ExpansionError(
            f"expands over {max_expand:g}:1 ({_size(produced)} from {_size(consumed)}): "
            "a decompression bomb? (--max-expand to allow)"
        )


def _size(n: int) -> str:
    """Bytes in binary units, one decimal: ``1.0 GiB``, ``512.0 KiB``, ``80 B``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            break
    else:
        unit, value = "TiB", value / 1024
    return f"{value:.1f} {unit}"


class Gunzip:
    """Stream-decompress gzip data (several members too) and notice a truncated file.

    The standard ``gzip`` module returns a truncated file's bytes as if it were whole when read
    in chunks; a report must say the file was cut short instead.  Inflating is bounded: one
    ``read(size)`` returns at most `size` bytes and reads `GZIP_PIECE` compressed bytes at a time,
    so memory stays flat whatever the compression ratio (a 5 MB .gz of zeros holds 5 GiB).  Time
    is bounded too: past `max_expand` times the compressed bytes consumed (and `EXPAND_FLOOR`), the
    next read raises `ExpansionError` (0: no limit).
    """

    def __init__(self, raw: IO[bytes], max_expand: float = DEFAULT_MAX_EXPAND) -> None:
        self._raw = raw
        self._max_expand = max_expand
        self._read_in = 0
        """Compressed bytes read from `raw` (those still in `_input` not yet consumed)."""
        self._produced = 0
        self._z = zlib.decompressobj(31)
        self._input = b""
        """Compressed bytes read but not yet inflated: what the last call left unconsumed (its
        output bound was reached) or what follows the end of a member."""
        self._full = False
        """The last call stopped at its output bound: zlib may hold more output for no more input."""
        self._done = False
        self._error: ValueError | None = None

    def _read_raw(self) -> bytes:
        data = self._raw.read(GZIP_PIECE)
        self._read_in += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        out = bytearray()
        while not self._done and (size < 0 or len(out) < size):
            if self._z.eof and not self._input:
                self._input = self._read_raw()
                if not self._input:
                    self._done = True  # a clean end: the last member is whole
                    break
            if self._z.eof:  # the next gzip member
                # (zeros after a whole member are padding, a tape's or a copy tool's: gzip and
                # Python's gzip pass over them, and so does this)
                self._input = self._input.lstrip(b"\0")
                if not self._input:
                    continue
                self._z = zlib.decompressobj(31)
            if not self._input and not self._full:
                self._input = self._read_raw()
                if not self._input:
                    if out:
                        break  # hand over what was inflated; the next read reports the cut
                    raise EOFError("truncated gzip file: it ends before its end-of-stream marker")
            bound = _INFLATE_STEP if size < 0 else min(size - len(out), _INFLATE_STEP)
            try:
                piece = self._inflate(bound)
                self._produced += len(piece)
                out += piece
                check_expansion(self._produced, self._read_in - len(self._input), self._max_expand)
            except zlib.error as e:
                self._done = True
                self._error = ValueError(f"corrupt gzip data ({e})")
            except ExpansionError as e:
                self._done = True  # (what was inflated is handed over first)
                self._error = e
        if self._error is not None and not out:
            raise self._error
        return bytes(out)

    def _inflate(self, bound: int) -> bytes:
        """Inflate at most `bound` bytes from the pending input.  zlib drops a whole call's output
        when it meets damage (a bad checksum at the very end included), so a failing call is made
        again from the state before it on the first half of its input, then a quarter, ...: all
        that precedes the damage is handed over before the error is raised."""
        data, take = self._input, len(self._input)
        while True:
            saved = self._z.copy()
            try:
                piece = self._z.decompress(data[:take], bound)
            except zlib.error:
                if take <= 1:
                    raise
                self._z, take = saved, take // 2
                continue
            rest = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
            self._input = rest + data[take:] if take < len(data) else rest
            self._full = len(piece) == bound and not self._z.eof
            return piece


class _Passed(io.RawIOBase):
    """Bytes read from ``self._inner`` and passed on (by a subclass's ``read``), with what a
    buffered reader around them asks for."""

    _inner: io.BufferedIOBase | io.RawIOBase | IO[bytes]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def peek(self, size: int = 0) -> bytes:
        return self._inner.peek(size)  # type: ignore[union-attr,no-any-return]


class Capped(_Passed):
    """An archive member's unpacked bytes, stopped with `ExpansionError` once they pass
    `max_expand` times the compressed bytes `consumed` says were used (`check_expansion`)."""

    def __init__(
        self,
        inner: io.BufferedIOBase | io.RawIOBase | IO[bytes],
        consumed: Callable[[], int],
        max_expand: float,
    ) -> None:
        self._inner = inner
        self._consumed = consumed
        self._max_expand = max_expand
        self._produced = 0
        self._error: ExpansionError | None = None

    def read(self, size: int | None = -1) -> bytes:
        if self._error is not None:
            raise self._error
        data = self._inner.read(-1 if size is None else size)
        self._produced += len(data)
        try:
            check_expansion(self._produced, self._consumed(), self._max_expand)
        except ExpansionError as e:
            self._error = e  # (the bytes of this read are handed over first)
        return data


class CrcAtEnd(_Passed):
    """A zip member's unpacked bytes, its CRC-32 checked once the last of them has been handed
    over.  ``zipfile`` checks it inside the read that reaches the end, and that read's bytes are
    lost with the error: a member smaller than one read (256 KiB) lost every line for a bad CRC,
    though each byte may be sound.  Here they are read, and the next read raises."""

    def __init__(self, member: zipfile.ZipExtFile, info: zipfile.ZipInfo) -> None:
        member._expected_crc = None  # type: ignore[attr-defined]  # (zipfile's own check: off)
        self._inner = member
        self._name = info.filename
        self._expected = info.CRC
        self._crc = 0
        self._checked = False

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        if data:
            self._crc = zlib.crc32(data, self._crc)
        elif not self._checked:
            self._checked = True
            if self._crc != self._expected:
                raise zipfile.BadZipFile(f"Bad CRC-32 for file {self._name!r}: its bytes may be damaged")
        return data


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
"""A zip member's local header (APPNOTE.TXT 4.3.7): signature, version, flags, method, time,
date, CRC, sizes, name and extra lengths."""


def open_zip_member(path: str, info: zipfile.ZipInfo) -> zipfile.ZipExtFile:
    """A zip member's unpacked bytes, from its central-directory entry: the file is opened and
    the member's local header read where the entry says, with the checks ``ZipFile.open`` makes.

    ``zipfile.ZipFile(path)`` would read the whole central directory again for every member (a
    10,000-member archive read 10,000 times); one ZipFile shared by the reading threads is not
    safe, and one per thread must be closed by someone.  Here each member has its own file
    handle, as a plain file has, and nothing outlives the read."""
    f = open(path, "rb")  # closed by the ZipExtFile, or below
    try:
        f.seek(info.header_offset)
        raw = f.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size:
            raise zipfile.BadZipFile(f"{info.filename}: truncated file header")
        magic, _v, flags, _m, _t, _d, _crc, _cs, _us, name_len, extra_len = _LOCAL_HEADER.unpack(raw)
        if magic != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{info.filename}: bad magic number for file header")
        stored_name = f.read(name_len)
        if stored_name.decode("utf-8" if flags & 0x800 else "cp437", "replace") != info.orig_filename:
            raise zipfile.BadZipFile(f"{info.filename}: file name in directory and header differ")
        f.seek(extra_len, io.SEEK_CUR)
        if info.flag_bits & 0x20:
            raise NotImplementedError("compressed patched data (flag bit 5)")
        if info.flag_bits & 0x40:
            raise NotImplementedError("strong encryption (flag bit 6)")
        if info.flag_bits & 0x1:
            raise RuntimeError(f"File {info.filename!r} is encrypted, password required for extraction")
        return zipfile.ZipExtFile(f, "r", info, None, close_fileobj=True)
    except BaseException:
        f.close()
        raise


GZIP_MAGIC = b"\x1f\x8b"


def inflated(stream: BinaryIO, max_expand: float = DEFAULT_MAX_EXPAND) -> BinaryIO:
    if not hasattr(stream, "peek"):  # a stdin replaced by a plain byte stream (embedding, tests)
        stream = io.BufferedReader(stream)  # type: ignore[arg-type,type-var]
    head = stream.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)]  # type: ignore[attr-defined]
    return Gunzip(stream, max_expand) if head == GZIP_MAGIC else stream  # type: ignore[return-value]


class TarReader:
    """Opens members of tar archives, keeping the last archive open.

    A compressed tar can only be read forward: opening it afresh for each member inflated all the
    members before it again (2,000 members of a 1 MB .tar.gz: 98 s).  Members asked for in
    archive order (`ArchiveOrder`) are read in one pass; any other order is still right, only
    slower.  One reader serves one thread; `close` it when done."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._raw: BinaryIO | None = None
        self._tf: tarfile.TarFile | None = None

    @contextmanager
    def member(self, path: str, entry: tarfile.TarInfo, max_expand: float) -> Iterator[BinaryIO]:
        """The member's unpacked bytes.  Those of a compressed tar count against `max_expand`
        by the compressed bytes read since the member was opened, the gap before it included
        (an upper bound: the ratio is never overstated)."""
        if self._path != path or self._tf is None:
            self.close()
            self._raw = open(path, "rb")  # noqa: SIM115 (kept open for the next member)
            self._path = path
            self._tf = tarfile.open(fileobj=self._raw, mode="r:*")
        tf, raw = self._tf, self._raw
        assert raw is not None
        start = raw.tell()
        tar_member = tf.extractfile(entry)
        if tar_member is None:
            raise ValueError(f"{entry.name} is not a file in the archive")
        with tar_member:  # (a plain tar's member is as stored: its ratio is 1, it may seek)
            if tf.fileobj is raw:
                yield tar_member  # type: ignore[misc]
            else:
                yield Capped(tar_member, lambda: raw.tell() - start, max_expand)  # type: ignore[misc]

    def close(self) -> None:
        if self._tf is not None:
            self._tf.close()
        if self._raw is not None:
            self._raw.close()
        self._path = self._raw = self._tf = None
