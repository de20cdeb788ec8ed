"""What the follower (`follow.Follower`) tells: how each file is followed (`Mode`), and the changes
one poll finds (`FileChange`: a file found, bytes appended, a file restarted, closed or gone, a
folder back, a path unreadable)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bes_logdiag.read import Source


class Mode(str, enum.Enum):
    """How a file is followed (`follow.Follower`'s ``mode_of`` decides it once per file)."""

    READ = "read"
    """Its bytes, as they are appended."""
    SIZE = "size"
    """Only that it grew: another service's log, whose last line still says how far its server's
    logs reach."""
    WHOLE = "whole"
    """Read whole once when found (an archive member, gzip data): it cannot be followed."""
    SKIP = "skip"


@dataclass(frozen=True)
class Found:
    """A file (or archive member) seen for the first time."""

    src: Source
    mode: Mode


@dataclass(frozen=True)
class Appended:
    """Bytes appended to a followed file since the last poll (or its content, on the first)."""

    src: Source
    data: bytes


@dataclass(frozen=True)
class Grew:
    """A file followed for its size only (`Mode.SIZE`) grew, or was seen for the first time."""

    src: Source


@dataclass(frozen=True)
class Restarted:
    """The file was truncated or replaced by other content: it is read again from its start."""

    src: Source
    reason: str


@dataclass(frozen=True)
class Closed:
    """A newer iteration (``_0002``) or a newer day of the same log exists and this one has not
    grown since: it will not grow again, and is no longer looked at."""

    src: Source


@dataclass(frozen=True)
class Gone:
    """A file, or a folder, that disappeared.  A folder's files are held (``files``): if it comes
    back (a network share that dropped), they are followed on from where they were."""

    path: str
    folder: bool
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Returned:
    """A folder (or a path given) that had disappeared, or did not exist yet, is there again."""

    path: str


@dataclass(frozen=True)
class Unreadable:
    """A file or folder that cannot be read or listed: told once, tried again at every poll."""

    path: str
    reason: str


FileChange = Found | Appended | Grew | Restarted | Closed | Gone | Returned | Unreadable
