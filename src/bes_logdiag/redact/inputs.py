"""The command line's paths as units of work: each file (a zip or tar archive is one) with the place
its redacted copy takes under the output folder, and the server names the file names hold."""

from __future__ import annotations

import glob
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import regex

from bes_logdiag.read import GLOB_CHARS, READ_ERRORS, TAR_NAME, file_info, os_reason

ZIP, TAR, FILE = "zip", "tar", "file"
NOT_LOGS = regex.compile(
    r"^(?:thumbs\.db|ehthumbs\.db|desktop\.ini|\.ds_store"
    r"|.*\.(?:ini|xml|config|json|html?|db|lnk|url|exe|dll|msi|cab|pdf|docx?|xlsx?|pptx?|png|jpe?g|gif|bmp"
    r"|key|pem|pfx|p12|7z|rar))$",
    regex.IGNORECASE,
)
"""Files that are never logs (as the scan ignores them, `bes_logdiag.ignore`), and the formats
the tool cannot redact (documents, images, other archives, keys): left out with a note."""
NESTED = regex.compile(r"\.(?:zip|tar|tgz|tbz2?|txz|7z|rar)$", regex.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    """One input file and where its redacted copy goes (a path under the output folder, with
    ``/`` between its parts, not yet redacted)."""

    path: str
    rel: str
    kind: str = FILE
    """`FILE` (a log, a gzipped log, a user map, or anything else), `ZIP` or `TAR`."""
    size: int = 0


@dataclass(frozen=True)
class Missing:
    path: str
    reason: str


def plan_units(paths: Sequence[str], skip: Iterable[Path] = ()) -> tuple[list[Unit], list[Missing]]:
    """Every file under the paths (files, folders searched recursively, glob patterns), in order,
    each once.  A folder's files keep their place below the folder's own name; a file given by
    name goes to the top.  `skip`: files never to read (the key file, the mapping file)."""
    units: list[Unit] = []
    missing: list[Missing] = []
    seen: set[str] = set()
    never = {os.path.normcase(os.path.realpath(p)) for p in skip}

    def add(path: Path, rel: PurePosixPath) -> None:
        key = os.path.normcase(os.path.realpath(path))
        if key in seen or key in never:
            return
        seen.add(key)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        units.append(Unit(str(path), str(rel), _kind(path), size))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            _add_folder(p, add, missing)
        elif p.is_file():
            add(p, PurePosixPath(p.name))
        elif GLOB_CHARS & set(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                missing.append(Missing(raw, "no file matches this pattern"))
            for m in map(Path, matches):
                if m.is_file():
                    add(m, PurePosixPath(m.name))
                elif m.is_dir():
                    _add_folder(m, add, missing)
        elif p.exists():
            missing.append(Missing(raw, "not a file or folder (a device or a pipe)"))
        else:
            missing.append(Missing(raw, "no such file or folder"))
    return units, missing


def _add_folder(folder: Path, add: Callable[[Path, PurePosixPath], None], missing: list[Missing]) -> None:
    top_name = folder.resolve().name or "root"

    def refused(e: OSError) -> None:
        missing.append(Missing(str(e.filename or folder), f"cannot list this folder: {os_reason(e)}"))

    found = False
    for top, dirs, names in os.walk(folder, onerror=refused):
        dirs.sort()
        for name in sorted(names):
            path = Path(top, name)
            try:
                mode = path.stat().st_mode
            except OSError:
                missing.append(Missing(str(path), "cannot be read (a broken link?)"))
                continue
            if not stat.S_ISREG(mode):
                missing.append(Missing(str(path), "not a file (a pipe, device or socket)"))
                continue
            found = True
            rel = PurePosixPath(top_name, *Path(top).relative_to(folder).parts, name)
            add(path, rel)
    if not found and not any(m.path.startswith(str(folder)) for m in missing):
        missing.append(Missing(str(folder), "folder holds no files"))


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zip"):
        return ZIP
    if TAR_NAME.search(name):
        return TAR
    return FILE


def server_names(units: Sequence[Unit]) -> set[str]:
    """The BES server names of the file names: of the files, and of the members of zip and tar
    archives (a tar is read through for its member names)."""
    names: set[str] = set()
    for u in units:
        members: list[str] = [u.path]
        try:
            if u.kind == ZIP:
                with zipfile.ZipFile(u.path) as zf:
                    members = zf.namelist()
            elif u.kind == TAR:
                with tarfile.open(u.path, "r:*") as tf:
                    members = [ti.name for ti in tf]
        except (*READ_ERRORS, tarfile.TarError):
            pass  # the archive's own reading will say what is wrong with it
        for m in members:
            server = file_info(m).server
            if server:
                names.add(server)
    return names
