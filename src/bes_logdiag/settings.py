"""Scan settings: one config object built by the CLI and handed to the core, plus the parsing and
checking of the values it is built from (durations, user maps, the output file)."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePath

import regex

from bes_logdiag.inflate import DEFAULT_MAX_EXPAND
from bes_logdiag.read import GLOB_CHARS

_DURATION = regex.compile(r"(?i)^\s*(?:(\d+(?:\.\d+)?)\s*([dhms]))+\s*$")
_PART = regex.compile(r"(?i)(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h30m``, ``2d``; a bare number is minutes."""
    t = text.strip()
    try:
        if t.replace(".", "", 1).isdigit():
            return timedelta(minutes=float(t))
        if _DURATION.match(t):
            return timedelta(seconds=sum(float(n) * _UNIT[u.lower()] for n, u in _PART.findall(t)))
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any log can span") from None
    if "," in t:
        raise ValueError(f"{text!r}: give --stall-after once per stage (4=2h --stall-after 3=1h)")
    raise ValueError(f"{text!r} is not a duration (examples: 90s, 15m, 1h30m, 2d; a bare number is minutes)")


LONGEST_STALL = timedelta(days=3650)
"""Ten years: no activation waits longer, and a log's time plus it stays a date."""


def parse_stall_after(values: list[str]) -> dict[int | None, timedelta]:
    """``--stall-after 30m`` (every stage) or ``--stall-after 4=2h`` (one stage), repeatable."""
    out: dict[int | None, timedelta] = {}
    for v in values:
        stage_text, sep, dur = v.partition("=")
        if sep and stage_text.strip() not in ("1", "2", "3", "4"):
            raise ValueError(f"{v!r}: the stage before '=' must be 1, 2, 3 or 4")
        limit = parse_duration(dur if sep else v)
        if limit <= timedelta(0):
            raise ValueError(f"{v!r}: a stall threshold must be longer than zero")
        if limit > LONGEST_STALL:  # (added to a log's time, 99999999d ran past the year 9999)
            raise ValueError(f"{v!r}: a stall threshold of over {LONGEST_STALL.days:,} days is no threshold")
        out[int(stage_text) if sep else None] = limit
    return out


# A server name in ``--users SERVER=FILE``: what a BES log name can hold before ``_MAGT_`` and a
# Windows file name cannot (no path separator, no drive colon), so ``C:\maps\a=b.csv`` stays a path.
_SERVER_NAME = regex.compile(r"[^\\/:*?\"<>|=\s]+")


def parse_user_maps(values: list[str]) -> tuple[tuple[str | None, Path], ...]:
    """``--users FILE`` (its rows say their server, or are for every server) or ``--users
    SERVER=FILE`` (every row is that server's), repeatable.

    A value that is an existing file is a file, whatever it holds; otherwise ``=`` splits it when
    the part before is a server name (no path separator, colon or space).  A file that does not
    exist is a ValueError.
    """
    out: list[tuple[str | None, Path]] = []
    for v in values:
        server, sep, rest = v.partition("=")
        if Path(v).is_file() or not sep or not _SERVER_NAME.fullmatch(server):
            if not Path(v).is_file():
                raise ValueError(f"{v}: no such file")
            out.append((None, Path(v)))
        elif not rest:
            raise ValueError(f"{v!r}: give the user map file after '=' ({server}=users.csv)")
        elif not Path(rest).is_file():
            raise ValueError(f"{v}: no such file {rest} (the user map of server {server})")
        else:
            out.append((server, Path(rest)))
    return tuple(out)


def check_output_path(output: Path, inputs: Sequence[str]) -> None:
    """Refuse an ``-o`` file that cannot be written, or that would destroy or feed an input: a
    ValueError saying why.

    `inputs` are what the command reads: its PATH arguments (files, folders, glob patterns, zip
    archives, ``-``) and files named by options (``--users``, ``--patterns``).  The output may not
    be an input file or archive (the report would overwrite it), nor lie inside an input folder or
    match an input pattern (the next run would read the report as a log).  Paths are compared as
    written and resolved (``realpath``, ``samefile``): ``logs/../logs/x.txt``, a link to an input and
    a hard link are caught.  Its folder must exist and be writable; a device or pipe that exists
    (``/dev/null``) needs only to be writable itself.
    """
    target = os.path.realpath(output)
    if os.path.isdir(target):
        raise ValueError("is a folder; give the name of the report file")
    names = {_key(os.path.abspath(output)), _key(target)}
    for raw in inputs:
        if raw == "-":
            continue
        found = sorted(glob.glob(raw, recursive=True)) if GLOB_CHARS & set(raw) else [raw]
        for path in found:
            if os.path.isdir(path):
                folders = {_key(os.path.abspath(path)), _key(os.path.realpath(path))}
                if any(inside(n, f) for n in names for f in folders):
                    raise ValueError(
                        f"it is inside the input folder {path}: the next scan would read the report as a log"
                    )
            elif _same_file(output, names, path):
                what = "archive" if path.lower().endswith(_ARCHIVES) else "file"
                raise ValueError(f"it is the input {what} {path}: the report would overwrite it")
        if GLOB_CHARS & set(raw) and any(PurePath(n).match(_key(os.path.abspath(raw))) for n in names):
            raise ValueError(
                f"it matches the input pattern {raw}: the next scan would read the report as a log"
            )
    if os.path.exists(target) and not os.path.isfile(target):  # /dev/null, a named pipe
        if not os.access(target, os.W_OK):
            raise ValueError("cannot write to it (permission denied)")
        return
    folder = os.path.dirname(target)
    shown = str(output.parent)
    if not os.path.exists(folder):
        raise ValueError(f"no such folder {shown}")
    if not os.path.isdir(folder):
        raise ValueError(f"{shown} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot create files in the folder {shown} (permission denied)")


_ARCHIVES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")


def _key(path: str) -> str:
    """A path as compared: case folded where the file system folds it (Windows)."""
    return os.path.normcase(path)


def inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive (Windows)
        return False


def _same_file(output: Path, names: set[str], path: str) -> bool:
    """The output is the input file `path`: the same name, resolved or not, or the same file
    under another name (a hard link)."""
    if {_key(os.path.abspath(path)), _key(os.path.realpath(path))} & names:
        return True
    try:
        return os.path.samefile(output, path)
    except OSError:  # either does not exist (yet)
        return False


AUTO_JOBS = 0
"""``ScanConfig.jobs`` value for "one worker per core, when the input is big enough to pay for
starting them" (`scan._run`); any other value is honoured as given."""
ENGINES = ("auto", "hyperscan", "python")
ENGINE_VARIABLE = "BES_LOGDIAG_ENGINE"


def default_engine() -> str:
    """The prefilter engine named by ``BES_LOGDIAG_ENGINE`` (auto, hyperscan, python), else auto.

    An environment variable rather than an option: the choice never changes a result, only the
    speed, and the benchmark and the tests use it to force the pure-Python engine.
    """
    from bes_logdiag.errors import UsageError

    value = os.environ.get(ENGINE_VARIABLE, "").strip().lower() or "auto"
    if value not in ENGINES:
        raise UsageError(f"{ENGINE_VARIABLE}={value}: unknown prefilter engine (use {', '.join(ENGINES)})")
    return value


@dataclass(frozen=True)
class ScanConfig:
    paths: tuple[str, ...]
    users: tuple[tuple[str | None, Path], ...] = ()
    """The ``--users`` CSV files, each with the server it was given for (``SERVER=FILE``), or
    ``None``: its rows name their server in a column, or are for every server."""
    year: int | None = None
    patterns: tuple[Path, ...] = ()
    stall_after: dict[int | None, timedelta] = field(default_factory=dict)
    jobs: int = AUTO_JOBS
    """Files read at once; `AUTO_JOBS` lets `scan._run` size the pool to the cores and the input."""
    join_window: timedelta = timedelta(minutes=2)
    """How far apart MAGT's service-book request and POLC's IT policy line may be for a time join."""
    thread_window: timedelta = timedelta(minutes=5)
    """How far back a user-less line (KEY_ACCEPT) may look for the user last named on its thread."""
    engine: str = field(default_factory=default_engine)
    """Prefilter engine: ``auto`` (hyperscan when it imports), ``hyperscan`` or ``python``."""
    max_expand: float = DEFAULT_MAX_EXPAND
    """``--max-expand``: how many times its compressed size a gzip stream or archive member may
    inflate to past 1 GiB before it is stopped as a decompression bomb (`read.check_expansion`);
    0: no limit."""
