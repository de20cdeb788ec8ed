"""One unit of work redacted: a file, a gzipped file, or a zip or tar archive member by member.

Containers stay what they were: a ``.gz`` is written gzipped, a zip as a zip with its members in
their order (and folders), a tar as a tar compressed as it was.  Nothing is unpacked to disk but
a tar member's redacted copy, which a tar must know the size of before it is written (spooled to
a temporary file past 16 MiB).  Each input ends as one `Outcome`.
"""

from __future__ import annotations

import copy
import gzip
import io
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from bes_logdiag.errors import reason_of
from bes_logdiag.filehead import ZIP_MAGIC
from bes_logdiag.inflate import GZIP_MAGIC, Capped, Gunzip, open_zip_member
from bes_logdiag.read import READ_ERRORS, file_info
from bes_logdiag.redact.grammar import Redactor
from bes_logdiag.redact.inputs import NESTED, NOT_LOGS, TAR, ZIP, Unit
from bes_logdiag.redact.logs import looks_like_log, read_head, redact_stream
from bes_logdiag.redact.usermaps import NotAUserMap, redact_user_map

WRITTEN, PARTIAL, MAP, NOT_LOG, UNPARSED, COPIED = (
    "written",
    "partial",
    "map",
    "not_log",
    "unparsed",
    "copied",
)
MAP_LIMIT = 512 * 1024 * 1024
"""A CSV larger than this is not read as a user map (a user map of a million rows is ~60 MB)."""
_SPOOL = 16 * 1024 * 1024

Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True)
class Outcome:
    """What became of one input: a file, or one member of an archive (``archive.zip!member``)."""

    path: str
    status: str
    """`WRITTEN` (redacted), `PARTIAL` (redacted up to where it broke off), `MAP` (a user map,
    redacted), `NOT_LOG` (left out: not a log), `UNPARSED` (left out: it could not be read as a
    log), `COPIED` (could not be read, copied unredacted as --copy-unparsed asks)."""
    out: str | None = None
    """The copy written (a path, or ``archive!member``)."""
    reason: str | None = None
    lines: int = 0


@dataclass(frozen=True)
class Settings:
    out_dir: str
    servers: bool = False
    copy_unparsed: bool = False
    max_expand: float = 1000.0


def redact_unit(unit: Unit, out_rel: str, redactor: Redactor, settings: Settings) -> list[Outcome]:
    """Redact one input into ``out_dir/out_rel`` (its name redacted already, `redacted_rel`)."""
    target = Path(settings.out_dir, *PurePosixPath(out_rel).parts)
    try:
        if unit.kind == ZIP:
            return _zip(unit, target, redactor, settings)
        if unit.kind == TAR:
            return _tar(unit, target, redactor, settings)
    except (*READ_ERRORS, tarfile.TarError) as e:
        return [_unreadable(unit.path, f"not a readable archive ({reason_of(e)})", target, settings)]

    @contextmanager
    def stored() -> Iterator[BinaryIO]:
        with open(unit.path, "rb") as f:
            yield f

    return [_content(unit.path, stored, _file_sink(target), target.name, redactor, settings, str(target))]


def redacted_rel(rel: str, redactor: Redactor) -> str:
    """A path below the output folder with each part's names redacted (server names with
    ``--servers``; addresses, IPs and host names always)."""
    return "/".join(redactor.redact(part) for part in PurePosixPath(rel).parts)


def _unreadable(path: str, reason: str, target: Path, settings: Settings) -> Outcome:
    if settings.copy_unparsed:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            return Outcome(path, COPIED, str(target), reason)
        except OSError:
            pass
    return Outcome(path, UNPARSED, None, reason)


def _classify(name: str, head: bytes, problem: str | None) -> tuple[str, str | None]:
    """What an input is, from its name and its first 64 KiB: a log, a user map, not a log, or a
    log that cannot be read."""
    p = PurePosixPath(name.replace("\\", "/"))
    base = p.name
    if base.startswith("._") or "__MACOSX" in p.parts:
        return NOT_LOG, f"macOS metadata, not a log ({base})"
    if base.lower().endswith(".csv"):
        return MAP, None
    if NESTED.search(base):
        return UNPARSED, "an archive inside an archive (unpack it first)"
    if NOT_LOGS.match(base):
        return NOT_LOG, f"not a log file ({base})"
    if head[257:262] == b"ustar" or head.startswith(ZIP_MAGIC):
        return UNPARSED, "an archive under a name that does not say so (name it .zip, .tar or .tar.gz)"
    bes = file_info(name).service is not None
    if problem is not None and not head:
        return UNPARSED, problem
    if not head:
        return (WRITTEN, None) if bes else (NOT_LOG, "empty file")
    if looks_like_log(head):
        return WRITTEN, None
    if bes:
        return UNPARSED, "not BES log text: no line in its first 64 KiB has a BES timestamp"
    return NOT_LOG, "not a BES log: no line in its first 64 KiB has a BES timestamp"


def _content(
    name: str,
    stored: Opener,
    sink: Opener,
    out_name: str,
    redactor: Redactor,
    settings: Settings,
    shown: str,
) -> Outcome:
    """One stream (a file or a member) classified and, when it is a log or a user map, redacted
    into `sink`; gzip data is inflated and written gzipped again."""
    try:
        with stored() as raw:
            source, gz = _inflating(raw, settings.max_expand)
            head, problem = read_head(source)
            kind, why = _classify(name, head, problem)
            if kind == MAP:
                return _map(name, head, source, sink, redactor, settings, shown)
            if kind != WRITTEN:
                return _left_out(name, kind, why, stored, sink, settings, shown)
            with sink() as out:
                if gz:
                    inner = out_name[:-3] if out_name.lower().endswith(".gz") else out_name
                    with gzip.GzipFile(filename=inner, mode="wb", fileobj=out, mtime=0) as zipped:
                        done = redact_stream(source, zipped, redactor, head)  # type: ignore[arg-type]
                else:
                    done = redact_stream(source, out, redactor, head)
    except READ_ERRORS as e:
        return _left_out(name, UNPARSED, reason_of(e), stored, sink, settings, shown)
    why = done.problem or problem
    return Outcome(name, PARTIAL if why else WRITTEN, shown, why, done.lines)


def _map(
    name: str, head: bytes, source: BinaryIO, sink: Opener, redactor: Redactor, settings: Settings, shown: str
) -> Outcome:
    data = head + source.read(MAP_LIMIT)
    try:
        redacted = redact_user_map(data, redactor, servers=settings.servers)
    except NotAUserMap as e:
        return Outcome(name, NOT_LOG, None, f"not a log, nor a user map: {e}")
    with sink() as out:
        out.write(redacted)
    return Outcome(name, MAP, shown, None, redacted.count(b"\n"))


def _left_out(
    name: str, kind: str, why: str | None, stored: Opener, sink: Opener, settings: Settings, shown: str
) -> Outcome:
    if kind != UNPARSED or not settings.copy_unparsed:
        return Outcome(name, kind, None, why)
    try:
        with stored() as raw, sink() as out:
            shutil.copyfileobj(raw, out)
    except READ_ERRORS as e:
        return Outcome(name, UNPARSED, None, f"{why}; it could not be copied either ({reason_of(e)})")
    return Outcome(name, COPIED, shown, why)


def _inflating(raw: BinaryIO, max_expand: float) -> tuple[BinaryIO, bool]:
    """The stream's content (gzip data inflated, told by its first bytes) and whether it was gzip."""
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)  # type: ignore[arg-type,type-var]
    if raw.peek(2)[:2] == GZIP_MAGIC:  # type: ignore[attr-defined]
        return Gunzip(raw, max_expand), True  # type: ignore[return-value]
    return raw, False


def _file_sink(target: Path) -> Opener:
    @contextmanager
    def sink() -> Iterator[BinaryIO]:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as f:
            yield f

    return sink


# -- zip ---------------------------------------------------------------------------------------


def _zip(unit: Unit, target: Path, redactor: Redactor, settings: Settings) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with zipfile.ZipFile(unit.path) as zin:
        infos = zin.infolist()
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        for info in infos:
            name = f"{unit.path}!{info.filename}"
            new_name = redacted_rel(info.filename, redactor) + ("/" if info.is_dir() else "")
            if info.is_dir():
                zout.writestr(_zip_info(new_name, info), b"")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                outcomes.append(Outcome(name, NOT_LOG, None, "a symbolic link in the archive: not followed"))
                continue
            outcome = _content(
                name, _zip_member(unit.path, info, settings.max_expand),
                _zip_sink(zout, _zip_info(new_name, info)), PurePosixPath(new_name).name,
                redactor, settings, f"{target}!{new_name}",
            )  # fmt: skip
            written += outcome.out is not None
            outcomes.append(outcome)
    if not written:
        target.unlink()  # nothing of it could be written: no empty archive in the output
    return outcomes


def _zip_info(name: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, like.date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = like.external_attr
    return info


def _zip_member(path: str, info: zipfile.ZipInfo, max_expand: float) -> Opener:
    @contextmanager
    def stored() -> Iterator[BinaryIO]:
        with open_zip_member(path, info) as member:
            yield Capped(member, lambda: info.compress_size, max_expand)  # type: ignore[misc]

    return stored


def _zip_sink(zout: zipfile.ZipFile, info: zipfile.ZipInfo) -> Opener:
    @contextmanager
    def sink() -> Iterator[BinaryIO]:
        with zout.open(info, "w", force_zip64=True) as f:
            yield f  # type: ignore[misc]

    return sink


# -- tar ---------------------------------------------------------------------------------------

_TAR_MAGIC = ((GZIP_MAGIC, "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def _tar(unit: Unit, target: Path, redactor: Redactor, settings: Settings) -> list[Outcome]:
    with open(unit.path, "rb") as f:
        magic = f.read(6)
    compression = next((c for m, c in _TAR_MAGIC if magic.startswith(m)), "")
    outcomes: list[Outcome] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    mode = f"w:{compression}"
    with tarfile.open(unit.path, "r:*") as tin, tarfile.open(target, mode) as tout:  # type: ignore[call-overload]
        try:
            for ti in tin:
                name = f"{unit.path}!{ti.name}"
                new = copy.copy(ti)
                new.name = redacted_rel(ti.name, redactor)
                if ti.isdir():
                    tout.addfile(new)
                    continue
                if not ti.isreg():
                    outcomes.append(
                        Outcome(name, NOT_LOG, None, "a link or device in the archive: not followed")
                    )
                    continue
                outcome = _content(
                    name, _tar_member(tin, ti), _tar_sink(tout, new), PurePosixPath(new.name).name,
                    redactor, settings, f"{target}!{new.name}",
                )  # fmt: skip
                written += outcome.out is not None
                outcomes.append(outcome)
        except (*READ_ERRORS, tarfile.TarError) as e:
            outcomes.append(
                Outcome(unit.path, PARTIAL, str(target), f"the tar archive breaks off ({reason_of(e)})")
            )
    if not written:
        target.unlink()
    return outcomes


def _tar_member(tin: tarfile.TarFile, ti: tarfile.TarInfo) -> Opener:
    @contextmanager
    def stored() -> Iterator[BinaryIO]:
        member = tin.extractfile(ti)
        if member is None:
            raise ValueError(f"{ti.name} is not a file in the archive")
        with member:
            yield member  # type: ignore[misc]

    return stored


def _tar_sink(tout: tarfile.TarFile, info: tarfile.TarInfo) -> Opener:
    @contextmanager
    def sink() -> Iterator[BinaryIO]:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
            yield spool  # type: ignore[misc]
            info.size = spool.tell()
            spool.seek(0)
            tout.addfile(info, spool)  # type: ignore[arg-type]

    return sink
