"""Reading: paths, folders and archives to sources, and a source to its stream of bytes (inflated)."""

from __future__ import annotations

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

# <server>_<CODE>_<NN>_<yyyymmdd>_<NNNN>.txt; the server may itself contain "_", so the name is
# split from the right (BES-LOGS.md section 1).  Copies keep their name parseable: Windows
# Explorer's "X - Copy.txt", "X - Copy (2).txt", "Copy of X.txt" (XP) and their translations,
# macOS's "X copy.txt", a browser's "X (2).txt", and ".bak", ".old", ".gz" or no extension at all.
_COPY = r"(?:copy|kopie|copie|copia)"
_BES_CORE = r"(?P<server>.+)_(?P<code>[A-Za-z]{3,5})_(?P<inst>\d{1,3})_(?P<date>\d{8})_(?P<iter>\d{1,5})"
_BES_NAME = regex.compile(
    rf"^(?P<copy_of>{_COPY}(?:\s*\(\d+\))?\s+(?:of|von|de|di|van)\s+)?{_BES_CORE}"
    rf"(?P<tail>(?:\s*-\s*{_COPY}(?:\s*\(\d+\))?|\s+{_COPY}(?:\s+\d+)?|\s*\(\d+\)"
    r"|\.(?:txt|log|bak|old|orig|gz))*)$",
    regex.IGNORECASE,
)
_PLAIN_TAIL = regex.compile(r"^\.(?:txt|log)(?:\.gz)?$", regex.IGNORECASE)
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
    content_size: int | None = None
    """Bytes of its content as a file (a zip member's uncompressed size; gzip data not inflated),
    None for stdin: what tells cheaply that two sources cannot be copies of each other."""


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


def is_copy_name(name: str) -> bool:
    """The file name is a BES name with a copy's marks ("X - Copy.txt", "Copy of X.txt", "X.bak"),
    or no BES name at all: when the same bytes also come under a plain BES name, that one is read."""
    m = _BES_NAME.match(PurePath(name.replace("\\", "/")).name)
    if m is None or _date(m["date"]) is None:
        return True
    return bool(m["copy_of"]) or not _PLAIN_TAIL.match(m["tail"])


def _date(text: str) -> datetime | None:
    """``yyyymmdd`` (eight digits, as the name and day-folder patterns give it), or None."""
    try:  # not strptime: ten times slower, and this runs for every file of a folder
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def discover(paths: Sequence[str]) -> tuple[list[Source], list[Skipped]]:
    """Expand the command line's paths (files, folders, globs, archives, ``-``) into sources."""
    sources: list[Source] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str | None]] = set()

    def add(src: Source) -> None:
        # The same file named twice (``a/x.txt``, ``./a/../a/x.txt``) is one source; a string
        # operation, where resolve() costs system calls per file of a 20,000-file folder.  A link
        # or a copy is the same bytes under another name: `duplicates` finds it by content.
        key = (src.path if src.stdin else os.path.normcase(os.path.abspath(src.path)), src.member)
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
                    content_size=info.file_size,
                )
            )
        return
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # opening it will say what is wrong
    add(  # type: ignore[operator]
        Source(name=name, path=name, info=file_info(name), size=size, content_size=size)
    )


GZIP_PIECE = 64 * 1024
"""Compressed bytes read at a time."""
_INFLATE_STEP = 1024 * 1024
"""The output bound of one zlib call when a read asks for everything (``read()``)."""


class Gunzip:
    """Stream-decompress gzip data (several members too) and notice a truncated file.

    The standard ``gzip`` module returns a truncated file's bytes as if it were whole when read
    in chunks; a report must say the file was cut short instead.  Inflating is bounded: one
    ``read(size)`` returns at most `size` bytes and reads `GZIP_PIECE` compressed bytes at a time,
    so memory stays flat whatever the compression ratio (a 5 MB .gz of zeros holds 5 GiB).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._z = zlib.decompressobj(31)
        self._input = b""
        """Compressed bytes read but not yet inflated: what the last call left unconsumed (its
        output bound was reached) or what follows the end of a member."""
        self._full = False
        """The last call stopped at its output bound: zlib may hold more output for no more input."""
        self._done = False
        self._error: ValueError | None = None

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        out = bytearray()
        while not self._done and (size < 0 or len(out) < size):
            if self._z.eof and not self._input:
                self._input = self._raw.read(GZIP_PIECE)
                if not self._input:
                    self._done = True  # a clean end: the last member is whole
                    break
            if self._z.eof:  # the next gzip member
                self._z = zlib.decompressobj(31)
            if not self._input and not self._full:
                self._input = self._raw.read(GZIP_PIECE)
                if not self._input:
                    if out:
                        break  # hand over what was inflated; the next read reports the cut
                    raise EOFError("truncated gzip file: it ends before its end-of-stream marker")
            bound = _INFLATE_STEP if size < 0 else min(size - len(out), _INFLATE_STEP)
            try:
                out += self._inflate(bound)
            except zlib.error as e:
                self._done = True
                self._error = ValueError(f"corrupt gzip data ({e})")
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
