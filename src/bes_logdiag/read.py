"""Reading: paths, folders and archives to sources; a source to line-aligned chunks of bytes."""

from __future__ import annotations

import codecs
import glob
import io
import os
import sys
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import IO, BinaryIO

import regex

from bes_logdiag.model import FileInfo, Skipped

CHUNK_SIZE = 256 * 1024
"""Bytes read at a time.  Small enough that a chunk stays in the CPU's cache while the prefilter
and the newline count pass over it, and that malloc recycles chunks instead of mapping fresh
pages (a pass over the benchmark corpus took 1.3x as long with 1 MiB chunks, and reading alone
10x as long with 8 MiB ones: benchmarks/README.md); large enough that the per-chunk overhead
vanishes."""
SNIFF_SIZE = 4096
"""The first read is at least this long, so that `detect_encoding` sees a BOM or NUL pattern."""
MAX_LINE = 8 * 1024 * 1024
"""A line longer than this is passed on in pieces, so that memory stays bounded."""
LONG_LINE = 1024 * 1024
"""A line this long is not a log line (BES lines are well under 4 KiB): the report says so."""

# <server>_<CODE>_<NN>_<yyyymmdd>_<NNNN>.txt; the server may itself contain "_", so the name is
# split from the right (BES-LOGS.md section 1).
_BES_NAME = regex.compile(
    r"^(?P<server>.+)_(?P<code>[A-Za-z]{3,5})_(?P<inst>\d{1,3})_(?P<date>\d{8})_(?P<iter>\d{1,5})"
    r"\.(?:txt|log)(?:\.gz)?$",
    regex.IGNORECASE,
)
_DAY_FOLDER = regex.compile(r"^(\d{8})$")
READ_ERRORS = (OSError, EOFError, ValueError, RuntimeError, zipfile.BadZipFile, zlib.error)
"""What reading a source can raise: I/O, a cut or corrupt gzip stream, and a zip member that is
encrypted (RuntimeError), packed with a method Python lacks (NotImplementedError, a RuntimeError),
fails its CRC (BadZipFile) or holds corrupt deflate data (zlib.error)."""
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Source:
    """One stream of log text: a file, a gzipped file, a member of a zip archive, or stdin."""

    name: str
    """How messages and the report name it (``archive.zip!member`` for zip members)."""
    path: str
    member: str | None = None
    stdin: bool = False
    info: FileInfo = field(default_factory=FileInfo)
    size: int = 0
    """Bytes stored (a zip member's compressed size): what sizes the worker pool and the progress bar."""


def file_info(name: str, folder: str | None = None) -> FileInfo:
    """Server, service, instance, date and iteration from a BES file name (and its day folder)."""
    base = PurePath(name.replace("\\", "/")).name
    m = _BES_NAME.match(base)
    if m:
        day = _date(m["date"])
        if day is not None:
            return FileInfo(
                server=m["server"],
                service=m["code"].upper(),
                instance=int(m["inst"]),
                day=day,
                iteration=int(m["iter"]),
            )
    parent = folder if folder is not None else PurePath(name.replace("\\", "/")).parent.name
    fm = _DAY_FOLDER.match(parent or "")
    return FileInfo(day=_date(fm[1]) if fm else None)


def _date(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return None


def discover(paths: Sequence[str]) -> tuple[list[Source], list[Skipped]]:
    """Expand the command line's paths (files, folders, globs, archives, ``-``) into sources."""
    sources: list[Source] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str | None]] = set()

    def add(src: Source) -> None:
        key = (src.path if src.stdin else str(Path(src.path).resolve()), src.member)
        if key not in seen:
            seen.add(key)
            sources.append(src)

    for raw in paths:
        if raw == "-":
            add(Source(name="<stdin>", path="-", stdin=True))
            continue
        p = Path(raw)
        if p.is_dir():
            refused = len(skipped)
            files = _files_below(p, skipped)
            for f in files:
                _add_file(f, add, skipped)
            if not files and len(skipped) == refused:  # (a folder it could not list is named)
                skipped.append(Skipped(raw, "folder holds no files"))
        elif p.is_file():
            _add_file(p, add, skipped)
        elif _GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                skipped.append(Skipped(raw, "no file matches this pattern"))
            for m in matches:
                mp = Path(m)
                if mp.is_file():
                    _add_file(mp, add, skipped)
        else:
            skipped.append(Skipped(raw, "no such file or folder"))
    return sources, skipped


def _files_below(folder: Path, skipped: list[Skipped]) -> list[Path]:
    """Every file below `folder`, sorted; a sub-folder that cannot be listed is named in `skipped`."""

    def refused(e: OSError) -> None:
        why = e.strerror.lower() if e.strerror else str(e)
        skipped.append(Skipped(str(e.filename or folder), f"cannot list this folder: {why}"))

    files = []
    for top, _dirs, names in os.walk(folder, onerror=refused):
        files += [f for f in (Path(top, n) for n in names) if f.is_file()]
    return sorted(files)


def _add_file(path: Path, add: object, skipped: list[Skipped]) -> None:
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            skipped.append(Skipped(name, f"not a readable zip archive ({e})"))
            return
        for info in members:
            member_path = PurePath(info.filename)
            add(  # type: ignore[operator]
                Source(
                    name=f"{name}!{info.filename}",
                    path=name,
                    member=info.filename,
                    info=file_info(info.filename, member_path.parent.name or path.parent.name),
                    size=info.compress_size,
                )
            )
        return
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # opening it will say what is wrong
    add(  # type: ignore[operator]
        Source(name=name, path=name, info=file_info(name), size=size)
    )


class Gunzip:
    """Stream-decompress gzip data (several members too) and notice a truncated file.

    The standard ``gzip`` module returns a truncated file's bytes as if it were whole when read
    in chunks; a report must say the file was cut short instead.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._z = zlib.decompressobj(31)
        self._done = False
        self._error: ValueError | None = None

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        want = size if size > 0 else 1 << 62
        while len(out) < want and not self._done:
            block = self._raw.read(1 << 20)
            if not block:
                if self._z.eof:
                    self._done = True
                elif out:
                    break  # hand over what was decompressed; the next read reports the cut
                else:
                    raise EOFError("truncated gzip file: it ends before its end-of-stream marker")
                break
            try:
                self._inflate_into(block, out)
            except zlib.error as e:
                self._done = True
                self._error = ValueError(f"corrupt gzip data ({e})")
        if self._error is not None and not out:
            raise self._error
        return bytes(out)

    def _inflate_into(self, data: bytes, out: bytearray) -> None:
        """Inflate `data` onto `out`.  zlib drops a whole call's output when it meets damage (a
        bad checksum at the very end included), so a failing piece is inflated again in halves
        from the state before it: all that precedes the damage is kept."""
        saved = self._z.copy()
        try:
            out += self._inflate(data)
        except zlib.error:
            if len(data) <= 1:
                raise
            self._z = saved
            half = len(data) // 2
            self._inflate_into(data[:half], out)
            self._inflate_into(data[half:], out)

    def _inflate(self, data: bytes) -> bytes:
        out = self._z.decompress(data)
        while self._z.eof and self._z.unused_data:  # the next gzip member
            rest = self._z.unused_data
            self._z = zlib.decompressobj(31)
            out += self._z.decompress(rest)
        return out


@contextmanager
def open_source(src: Source) -> Iterator[BinaryIO]:
    """The byte stream of a source, inflated when it holds gzip data (whatever its name says:
    ``gzip -c log | bes-logdiag scan -`` works, and so does a .gz renamed .txt)."""
    if src.stdin:
        yield _inflated(sys.stdin.buffer)
        return
    if src.member is not None:
        with zipfile.ZipFile(src.path) as zf, zf.open(src.member) as member:
            yield _inflated(member)  # type: ignore[arg-type]
        return
    with open(src.path, "rb") as f:
        yield _inflated(f)


GZIP_MAGIC = b"\x1f\x8b"


def _inflated(stream: BinaryIO) -> BinaryIO:
    if not hasattr(stream, "peek"):  # a stdin replaced by a plain byte stream (embedding, tests)
        stream = io.BufferedReader(stream)  # type: ignore[arg-type,type-var]
    head = stream.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)]  # type: ignore[attr-defined]
    return Gunzip(stream) if head == GZIP_MAGIC else stream  # type: ignore[return-value]


@dataclass
class Encoding:
    """The encoding a stream was read in; ``cp1252_lines`` counts lines that were not UTF-8."""

    name: str = "utf-8"
    cp1252_lines: int = 0
    replaced: int = 0
    """Characters of a UTF-16 stream that did not decode (read as U+FFFD)."""
    long_lines: int = 0
    """Lines longer than ``LONG_LINE`` that spanned blocks (a shorter one within a block goes
    uncounted: no log line comes near either size)."""

    @property
    def label(self) -> str:
        if self.name == "utf-8" and self.cp1252_lines:
            return "cp1252"
        return self.name


def detect_encoding(head: bytes) -> str:
    """BOM first (UTF-8, UTF-16 LE/BE); then UTF-16 told by its NUL bytes; else ASCII-compatible."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    sample = head[:4096]
    if len(sample) >= 16:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = len(sample) // 2
        if odd > 0.4 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.4 * half and odd < 0.05 * half:
            return "utf-16-be"
    return "utf-8"


def read_chunks(
    stream: BinaryIO, enc: Encoding, size: int = CHUNK_SIZE, max_line: int = MAX_LINE
) -> Iterator[bytes]:
    """Yield buffers of whole lines in an ASCII-compatible encoding (UTF-8 or cp1252 bytes).

    UTF-16 input is transcoded to UTF-8 on the way; a BOM is dropped.  A buffer ends at a line
    end, except the last one and a single line longer than ``max_line``, which comes in pieces.
    """
    first = stream.read(max(size, SNIFF_SIZE))  # enough for detect_encoding, whatever the size
    enc.name = detect_encoding(first)
    raw = _raw_chunks(stream, first, size)
    if enc.name.startswith("utf-16"):
        raw = _transcode(raw, enc)
    elif enc.name == "utf-8-sig":
        raw = _drop_bom(raw)
    carry: list[bytes] = []  # the start of a line that the next block ends
    pending = 0
    told = False  # this over-long line has been counted
    for block in raw:
        if not block:
            continue
        cut = block.rfind(b"\n")
        if cut < 0:
            carry.append(block)
            pending += len(block)
            if pending >= LONG_LINE and not told:
                enc.long_lines, told = enc.long_lines + 1, True
            if pending >= max_line:  # one enormous line: pass it on in pieces
                yield b"".join(carry)
                carry, pending = [], 0
            continue
        # One copy at most: the whole block when it ends a line, else the lines it completes.
        if carry:
            if pending + block.find(b"\n") >= LONG_LINE and not told:
                enc.long_lines += 1
            told = False
            yield b"".join((*carry, memoryview(block)[: cut + 1]))
        elif cut == len(block) - 1:
            yield block
        else:
            yield block[: cut + 1]
        tail = block[cut + 1 :]
        carry, pending = ([tail], len(tail)) if tail else ([], 0)
    if carry:
        yield b"".join(carry)


def _raw_chunks(stream: BinaryIO, first: bytes, size: int) -> Iterator[bytes]:
    if first:
        yield first
    while True:
        block = stream.read(size)
        if not block:
            return
        yield block


def _drop_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    first = True
    for c in chunks:
        if first:
            c = c[len(codecs.BOM_UTF8) :]
            first = False
        yield c


def _transcode(chunks: Iterator[bytes], enc: Encoding) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(enc.name)(errors="replace")
    first = True
    for c in chunks:
        text = decoder.decode(c)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        if text:
            enc.replaced += text.count("\ufffd")
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        enc.replaced += tail.count("\ufffd")
        yield tail.encode("utf-8")


def decode_line(raw: bytes, enc: Encoding) -> str:
    """Decode one line: UTF-8 when it is valid UTF-8, else Windows cp1252 (BES-LOGS.md section 1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        enc.cp1252_lines += 1
        return raw.decode("cp1252", errors="replace")
