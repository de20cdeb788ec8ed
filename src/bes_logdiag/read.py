"""Reading: paths, folders and archives to sources, and a source to its stream of bytes (inflated)."""

from __future__ import annotations

import copy
import functools
import glob
import lzma
import os
import stat
import struct
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import BinaryIO

import regex

from bes_logdiag.errors import reason_of
from bes_logdiag.inflate import (
    DEFAULT_MAX_EXPAND,
    GZIP_MAGIC,
    Capped,
    CrcAtEnd,
    TarReader,
    inflated,
    open_zip_member,
)
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
READ_ERRORS = (
    OSError, EOFError, ValueError, RuntimeError, zipfile.BadZipFile, zlib.error, tarfile.TarError,
    lzma.LZMAError,
)  # fmt: skip
"""What reading a source can raise: I/O, a cut or corrupt gzip stream, a zip member that is
encrypted (RuntimeError), packed with a method Python lacks (NotImplementedError, a RuntimeError),
fails its CRC (BadZipFile) or holds corrupt deflate data (zlib.error), and a tar member cut short
(TarError) or inside corrupt xz data (LZMAError)."""
TAR_NAME = regex.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz))$", regex.IGNORECASE)
TAR_MAGIC_AT = 257
"""Where a POSIX (ustar) or GNU tar header says ``ustar``: how a tar is told by content."""
GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Source:
    """One stream of log text: a file, a gzipped file, a member of a zip archive, or stdin."""

    name: str
    """How messages and the report name it (``archive.zip!member``, ``archive.tar!member``)."""
    path: str
    member: str | None = None
    """The member's name inside the archive at `path`; None for a file or stdin."""
    stdin: bool = False
    info: FileInfo = field(default_factory=FileInfo)
    size: int = 0
    """Bytes stored (a zip member's compressed size): what sizes the worker pool and the progress bar."""
    content_size: int | None = None
    """Bytes of its content as a file (a zip member's uncompressed size; gzip data not inflated),
    None for stdin: what tells cheaply that two sources cannot be copies of each other."""
    entry: zipfile.ZipInfo | tarfile.TarInfo | None = field(default=None, compare=False, repr=False)
    """A member's entry in its archive's directory, as `discover` read it: the member is opened
    from it directly.  Reading a zip's central directory again for each member cost O(members)
    per member (4,000 members: 113 s)."""


def file_info(name: str, folder: str | None = None) -> FileInfo:
    """Server, service, instance, date and iteration from a BES file name (and its day folder)."""
    parts = name.replace("\\", "/").rstrip("/").rsplit("/", 2)
    m, day = _bes_name(parts[-1])
    if m is not None:
        if day is not None:
            return FileInfo(
                server=m["server"],
                service=m["code"].upper(),
                instance=int(m["inst"]),
                day=day,
                iteration=int(m["iter"]),
            )
    parent = folder if folder is not None else (parts[-2] if len(parts) > 1 else "")
    fm = _DAY_FOLDER.match(parent or "")
    return FileInfo(day=_date(fm[1]) if fm else None)


def is_copy_name(name: str) -> bool:
    """The file name is a BES name with a copy's marks ("X - Copy.txt", "Copy of X.txt", "X.bak"),
    or no BES name at all: when the same bytes also come under a plain BES name, that one is kept
    (the copy is read, its lines set aside)."""
    m, day = _bes_name(name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
    if m is None or day is None:
        return True
    return bool(m["copy_of"]) or not _PLAIN_TAIL.match(m["tail"])


@functools.lru_cache(maxsize=1)
def _bes_name(base: str) -> tuple[regex.Match[str] | None, datetime | None]:
    """A file name read as a BES name, and its date (None: no real date).  Remembered for the last
    name: discovery asks both whether a name is a copy's and what it says (20,000 files)."""
    m = _BES_NAME.match(base)
    return m, _date(m["date"]) if m is not None else None


def day_folder_date(path: str) -> datetime | None:
    """The date of a ``YYYYMMDD`` day folder (BES-LOGS.md section 1), from its path; else None."""
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _date(name) if _DAY_FOLDER.match(name) else None


def os_reason(e: OSError) -> str:
    """What an operating-system error says, in lower case, for a one-line message."""
    return e.strerror.lower() if e.strerror else str(e)


YEARS = range(1990, 2200)
"""The years a BES log can be dated in: eight digits outside them (``99991231``, ``00010101``) are
no date, and the times of such a log would leave the calendar Python can count in."""


def _date(text: str) -> datetime | None:
    """``yyyymmdd`` (eight digits, as the name and day-folder patterns give it), or None."""
    year = int(text[:4])
    if year not in YEARS:
        return None
    try:  # not strptime: ten times slower, and this runs for every file of a folder
        return datetime(year, int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def discover(
    paths: Sequence[str], found: Callable[[Source], None] | None = None
) -> tuple[list[Source], list[Skipped]]:
    """Expand the command line's paths (files, folders, globs, archives, ``-``) into sources;
    ``found`` is told of each as it is found (`parallel` starts its workers meanwhile)."""
    sources: list[Source] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str | None, int | None]] = set()

    def add(src: Source) -> None:
        # The same file named twice (``a/x.txt``, ``./a/../a/x.txt``) is one source; a string
        # operation, where resolve() costs system calls per file of a 20,000-file folder.  A link
        # or a copy is the same bytes under another name: `duplicates` finds it by content.
        # Two members of one name in an archive (appended to it again) are two inputs: told
        # apart by where their entries stand.
        entry = src.entry
        place = (
            entry.header_offset if isinstance(entry, zipfile.ZipInfo)
            else entry.offset if isinstance(entry, tarfile.TarInfo)
            else None
        )  # fmt: skip
        key = (src.path if src.stdin else os.path.normcase(os.path.abspath(src.path)), src.member, place)
        if key not in seen:
            seen.add(key)
            sources.append(src)
            if found is not None:
                found(src)

    for raw in paths:
        if raw == "-":
            add(Source(name="<stdin>", path="-", stdin=True))
            continue
        p = Path(raw)
        mode = _mode(p)
        if mode is not None and stat.S_ISFIFO(mode):
            # A named pipe or a process substitution (``<(zcat x.gz)``: /dev/fd/63, a pipe) is
            # read as stdin is: once, in the main thread, with no size, never opened to sniff.
            add(Source(name=raw, path=raw, stdin=True, info=file_info(raw)))
        elif mode is not None and not_a_file(mode) is not None:
            # /dev/zero never ends, a terminal waits for typing: "-" reads stdin.
            skipped.append(Skipped(raw, f"{not_a_file(mode)} (give - to read standard input)"))
        elif p.is_dir():
            refused = len(skipped)
            files = _files_below(p, skipped)
            for f, size in files:
                _add_file(Path(f) if _may_be_archive(f) else f, add, skipped, size)
            if not files and len(skipped) == refused:  # (a folder it could not list is named)
                skipped.append(Skipped(raw, "folder holds no files"))
        elif p.is_file():
            _add_file(p, add, skipped)
        elif GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                skipped.append(Skipped(raw, "no file matches this pattern"))
            for m in matches:
                mp = Path(m)
                if mp.is_file():
                    _add_file(mp, add, skipped)
                elif mp.is_dir():  # (``Logs\2024*``: day folders, searched as a folder given is)
                    for f, size in _files_below(mp, skipped):
                        _add_file(Path(f) if _may_be_archive(f) else f, add, skipped, size)
                elif (why := not_a_file(_mode(mp))) is not None:
                    skipped.append(Skipped(m, why))
        else:
            skipped.append(Skipped(raw, "no such file or folder"))
    return sources, skipped


def _files_below(folder: Path, skipped: list[Skipped]) -> list[tuple[str, int]]:
    """Every file below `folder` with its size, sorted by path; a sub-folder that cannot be listed
    is named in `skipped`.  ``os.scandir`` with string paths: a BES Logs folder of size-rotated
    logs holds tens of thousands of files, and a `Path` and a `stat` call per file cost more than
    scanning a small one (`benchmarks/` variant ``files-20000``)."""
    files: list[tuple[str, int]] = []
    todo = [str(folder)]
    listed_folders = {os.path.realpath(folder)}
    while todo:
        top = todo.pop()
        try:
            with os.scandir(top) as entries:
                listed = list(entries)
        except OSError as e:
            skipped.append(Skipped(str(e.filename or top), f"cannot list this folder: {os_reason(e)}"))
            continue
        for entry in listed:
            try:
                if entry.is_dir():
                    # A link to a folder (logs kept on another drive) is listed too, and every
                    # folder once: a link back up the tree would list it forever.
                    real = os.path.realpath(entry.path)
                    if real in listed_folders:
                        again = "a folder listed already (the same, through a link)"
                        skipped.append(Skipped(entry.path, again))
                        continue
                    listed_folders.add(real)
                    todo.append(entry.path)
                    continue
                st = entry.stat()  # (cached on Windows; one stat, links followed, elsewhere)
            except OSError as e:
                if entry.is_symlink():  # (one gone since the listing is no input any more)
                    skipped.append(Skipped(entry.path, f"a link to nothing: {os_reason(e)}"))
                continue
            if stat.S_ISREG(st.st_mode):
                files.append((entry.path, st.st_size))
            elif (what := not_a_file(st.st_mode)) is not None:
                # Opening a pipe found in a folder would wait for a writer that may never come.
                skipped.append(Skipped(entry.path, what))
    files.sort(key=lambda f: _path_order(f[0]))
    return files


def _path_order(name: str) -> tuple[str, ...]:
    """Sorts paths as `Path` objects sort: part by part (``a/b`` before ``a-b``), case folded
    on Windows."""
    return tuple(os.path.normcase(name).split(os.sep))


def _mode(path: Path) -> int | None:
    """What `path` is (``st_mode``, links followed), or None when it cannot be stat'ed (a broken link)."""
    try:
        return path.stat().st_mode
    except (OSError, ValueError):
        return None


def not_a_file(mode: int | None) -> str | None:
    """Why something that is neither a file nor a folder is not read as a file; None otherwise."""
    if mode is None:
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    return None


def _add_file(
    path: Path | str, add: Callable[[Source], None], skipped: list[Skipped], size: int | None = None
) -> None:
    """A file as a source, or an archive's members; ``path`` may be a string where
    `_may_be_archive` says it is a plain log (no `Path` made: a folder may hold 20,000)."""
    name = str(path)
    if isinstance(path, Path):
        kind = _archive_kind(path)
        if kind == "zip":
            _add_zip_members(path, add, skipped)
            return
        if kind == "tar":
            _add_tar_members(path, add, skipped)
            return
    if size is None:
        try:
            size = os.stat(name).st_size
        except OSError:
            size = 0  # opening it will say what is wrong
    add(Source(name=name, path=name, info=file_info(name), size=size, content_size=size))


def _may_be_archive(name: str) -> bool:
    """Whether `_archive_kind` could call this file an archive: a plain BES log name is never
    opened to find out."""
    base = os.path.basename(name)
    return base.lower().endswith(".zip") or bool(TAR_NAME.search(base)) or is_copy_name(base)


def _archive_kind(path: Path) -> str | None:
    """ "zip" or "tar" when `path` is an archive to read member by member, by its name, or, for a
    file without a plain BES log name, by its first bytes (a tar, or gzip data whose first 512
    inflated bytes are a tar header).  Plain BES names are not opened here: a day folder may
    hold 20,000 of them."""
    name = path.name
    if name.lower().endswith(".zip"):
        return "zip"
    if TAR_NAME.search(name):
        return "tar"
    if not is_copy_name(name):
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None  # opening it again will say what is wrong
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, tarfile.BLOCKSIZE)
        except zlib.error:
            return None
    return "tar" if head[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == b"ustar" else None


def _starts_as_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _add_zip_members(path: Path, add: Callable[[Source], None], skipped: list[Skipped]) -> None:
    name = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        why = f"not a readable zip archive ({e})"
        if isinstance(e, zipfile.BadZipFile) and _starts_as_zip(path):  # (its directory is at its end)
            why = (
                f"not a readable zip archive: cut short or damaged, its directory at the end is missing ({e})"
            )
        skipped.append(Skipped(name, why))
        return
    if not members:
        skipped.append(Skipped(name, "the zip archive holds no files"))
    for info in members:
        if stat.S_ISLNK(info.external_attr >> 16):  # made by zip -y on Unix: the target's path
            skipped.append(Skipped(f"{name}!{info.filename}", "a symbolic link in the archive: not followed"))
            continue
        add(_member(path, info.filename, info.compress_size, info.file_size, info))


def _member(
    archive: Path, member: str, size: int, content_size: int, entry: zipfile.ZipInfo | tarfile.TarInfo
) -> Source:
    """A member of a zip or tar archive as a source: ``archive!member``, its server and date from
    the member's name, or from its folder inside the archive, or from the archive's own folder."""
    # (a zip written on Windows may name its members with backslashes: ``Logs\20240101\x.txt``)
    folder = PurePath(member.replace("\\", "/")).parent.name or archive.parent.name
    return Source(
        name=f"{archive}!{member}",
        path=str(archive),
        member=member,
        info=file_info(member, folder),
        size=size,
        content_size=content_size,
        entry=entry,
    )


_TAR_NOT_FILES = (
    (tarfile.TarInfo.issym, "a symbolic link in the archive: not followed"),
    (tarfile.TarInfo.islnk, "a hard link in the archive: not followed"),
    (tarfile.TarInfo.isdev, "a device or pipe in the archive, not a file"),
)


def _add_tar_members(path: Path, add: Callable[[Source], None], skipped: list[Skipped]) -> None:
    """A tar's members (compressed or not), read as a stream of headers: nothing is extracted,
    and a member's name (``../x``, ``/etc/x``) is only a name."""
    name = str(path)
    seen = found = 0
    try:
        with tarfile.open(path, "r:*") as tf:
            for ti in tf:
                seen += 1
                member = f"{name}!{ti.name}"
                if ti.isdir():
                    continue
                why = next((why for test, why in _TAR_NOT_FILES if test(ti)), None)
                if why is None and not ti.isreg():
                    why = "not a regular file in the archive"
                if why is not None:
                    skipped.append(Skipped(member, why))
                    continue
                entry = copy.copy(ti)
                entry.tarfile = None  # (the open archive: not to be kept, nor pickled for a worker)
                add(_member(path, ti.name, ti.size, ti.size, entry))
                found += 1
            if not found and not any(x.path.startswith(f"{name}!") for x in skipped):
                skipped.append(Skipped(name, "the tar archive holds no files"))
            if not _ends_whole(tf):
                skipped.append(
                    Skipped(
                        name,
                        "the tar archive ends without its end-of-archive blocks: cut short?",
                        partial=True,
                    )
                )
    except (*READ_ERRORS, struct.error) as e:
        why = reason_of(e)
        if isinstance(e, tarfile.ReadError) and seen == 0:
            why = "not a tar archive, or a damaged one"
        skipped.append(Skipped(name, f"not a readable tar archive ({why})", partial=found > 0))


def _ends_whole(tf: tarfile.TarFile) -> bool:
    """After its last member the tar holds zero bytes only (its end-of-archive blocks and record
    padding).  ``tarfile`` stops quietly at a header cut short or damaged after the first one."""
    assert tf.fileobj is not None
    tf.fileobj.seek(tf.offset)
    rest = tf.fileobj.read(2 * tarfile.BLOCKSIZE)
    return bool(rest) and not rest.strip(b"\0")


@contextmanager
def open_source(
    src: Source, *, max_expand: float = DEFAULT_MAX_EXPAND, tars: TarReader | None = None
) -> Iterator[BinaryIO]:
    """The byte stream of a source, inflated when it holds gzip data (whatever its name says:
    ``gzip -c log | bes-logdiag scan -`` works, and so does a .gz renamed .txt).  Inflating past
    `max_expand` times the compressed size raises `ExpansionError` (`check_expansion`)."""
    if src.stdin:
        if src.path == "-":
            yield inflated(sys.stdin.buffer, max_expand)
            return
        with open(src.path, "rb") as pipe:  # a named pipe given by name (`discover`)
            yield inflated(pipe, max_expand)
        return
    with open_stored(src, max_expand=max_expand, tars=tars) as stored:
        yield inflated(stored, max_expand)


@contextmanager
def open_stored(
    src: Source, *, max_expand: float = DEFAULT_MAX_EXPAND, tars: TarReader | None = None
) -> Iterator[BinaryIO]:
    """A file's bytes, or an archive member's unpacked, as a file would hold them (gzip data is
    not inflated).  A member is opened from its entry as `discover` read it, not by name; one
    that unpacks past `max_expand` times its compressed size raises `ExpansionError`.  ``tars``
    keeps a tar archive open from one member to the next (`TarReader`)."""
    if isinstance(src.entry, zipfile.ZipInfo):
        entry = src.entry
        with open_zip_member(src.path, entry) as zip_member:
            checked = CrcAtEnd(zip_member, entry)
            yield Capped(checked, lambda: entry.compress_size, max_expand)  # type: ignore[misc]
    elif isinstance(src.entry, tarfile.TarInfo):
        reader = tars if tars is not None else TarReader()
        try:
            with reader.member(src.path, src.entry, max_expand) as tar_member:
                yield tar_member
        finally:
            if tars is None:
                reader.close()
    elif src.member is not None:  # built by hand, without discover(): found by name
        with zipfile.ZipFile(src.path) as zf, zf.open(src.member) as named:
            size = zf.getinfo(src.member).compress_size
            yield Capped(named, lambda: size, max_expand)  # type: ignore[misc]
    else:
        with open(src.path, "rb") as f:
            yield f


def reading_order(src: Source) -> tuple[str, int]:
    """Sorts the members of a tar archive together, in the order the archive holds them (how a
    `TarReader` reads them in one pass); other sources keep their place among themselves."""
    if isinstance(src.entry, tarfile.TarInfo):
        return (src.path, src.entry.offset)
    return ("", 0)
