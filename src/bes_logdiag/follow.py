"""Following log paths by polling: files and folders that appear, bytes appended, files superseded
by a newer iteration or day, truncated, replaced or deleted, folders that vanish; each byte read once.

Polling, not file events: Windows shares and other network file systems deliver change
notifications late, coalesced or not at all, and a BES writes often enough that a look every
second costs little (a listing of the folders that can still change and a ``stat`` of each file
that can still grow; folders of days long past and files a newer iteration superseded are not
looked at again).  No file is kept open between polls, so the BES can always delete or rotate
its logs.  What a poll finds is told as `file_changes.FileChange` values.
"""

from __future__ import annotations

import glob
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bes_logdiag.file_changes import (
    Appended,
    Closed,
    FileChange,
    Found,
    Gone,
    Grew,
    Mode,
    Restarted,
    Returned,
    Unreadable,
)
from bes_logdiag.model import LogKey, LogOrder, log_place
from bes_logdiag.read import GLOB_CHARS, Source, day_folder_date, discover, file_info, not_a_file, os_reason

MAX_READ = 16 * 1024 * 1024
"""Bytes read from one file in one poll: the first poll of a big log, or a burst, is read over
several polls (`Follower.behind`), so memory stays bounded."""
FINGERPRINT = 256
"""The last bytes read of a file are read again before the new ones: when they differ, the file
was rewritten (replaced by other content), not appended to."""
_SETTLED = timedelta(days=2)
"""A day folder this much older than the newest beside it: a BES writes there no more."""


@dataclass
class _Tail:
    """What the follower remembers of one file."""

    src: Source
    mode: Mode
    offset: int = 0
    """Bytes read (and handed on) so far."""
    size: int = -1
    mtime: int = -1
    ident: tuple[int, int] = (0, 0)
    last: bytes = b""
    """The last bytes read (`FINGERPRINT`)."""
    first: bytes = b""
    """The first bytes read (`FINGERPRINT`): a file shorter than what was read that begins
    otherwise is another file, not the same one being rewritten."""
    waiting: float | None = None
    """Since when the file is shorter than what was read (truncated, or a copy being rewritten
    that has not caught up yet)."""
    nul_since: float | None = None
    """Since when the file ends in NUL bytes, more than one: a network share may show a file's new
    size before its data; they are read once they are replaced, or have stayed for the settle
    time.  A single NUL at the end is UTF-16 text's (``\n\0``), read at once."""
    quiet_since: float | None = None
    """Since when a superseded file has not grown."""
    closed: bool = False
    told: bool = False
    """Its being unreadable has been told."""


@dataclass
class _Dir:
    files: list[str]
    subdirs: list[str]
    settled: bool = False
    """A day folder `_SETTLED` older than its newest sibling: not listed again."""


@dataclass
class _Root:
    path: str
    there: bool = True
    """It existed at the last poll."""
    was_dir: bool = False


@dataclass
class Follower:
    """The paths of the command line, followed: `poll` tells what changed since the last poll
    (everything, on the first).

    ``mode_of`` decides once per file how it is followed; ``clock`` gives seconds (injectable for
    tests); ``settle`` is how long a superseded file must stay still before it is closed, a file
    shorter than what was read may stay so before it counts as truncated, and NUL bytes at a
    file's end are waited for.
    """

    paths: Sequence[str]
    mode_of: Callable[[Source], Mode]
    clock: Callable[[], float] = time.monotonic
    settle: float = 5.0
    max_read: int = MAX_READ
    behind: bool = False
    """The last poll left bytes unread (`MAX_READ`): poll again without waiting."""
    _roots: list[_Root] = field(default_factory=list)
    _tails: dict[str, _Tail] = field(default_factory=dict)
    _limbo: dict[str, _Tail] = field(default_factory=dict)
    """The files of folders that disappeared, by path: followed on if they come back."""
    _dirs: dict[str, _Dir] = field(default_factory=dict)
    _newest: dict[LogKey, LogOrder] = field(default_factory=dict)
    """Per server, service and instance, the newest day and iteration seen."""
    _told: set[str] = field(default_factory=set)
    """Paths whose problem (not listable, not a file) has been told."""
    _polled: bool = False

    def __post_init__(self) -> None:
        self._roots = [_Root(p, there=True) for p in self.paths]

    @property
    def following(self) -> int:
        """Files still looked at every poll."""
        return sum(1 for t in self._tails.values() if not t.closed and t.mode in (Mode.READ, Mode.SIZE))

    def poll(self) -> Iterator[FileChange]:
        """What changed since the last poll: first what the listings show (files gone, folders
        gone or back, files that are no files), then file by file what was found or appended.
        A file's bytes are handed on before the next file is read: one poll holds at most
        `max_read` bytes, however many files grew (the first poll reads them all)."""
        now = self.clock()
        listed: list[FileChange] = []
        present: dict[str, None] = {}  # (an ordered set)
        for root in self._roots:
            self._root(root, present, listed)
        for path in [p for p in self._tails if p not in present]:
            gone = self._tails.pop(path)
            if not gone.closed and gone.mode is Mode.READ:
                listed.append(Gone(path, folder=False))
        self.behind = False
        yield from listed
        for path in present:
            out: list[FileChange] = []
            tail = self._tails.get(path) or self._limbo.pop(path, None)
            if tail is None:
                self._add(path, out)
            else:
                self._tails[path] = tail
                self._follow(tail, now, out)
            yield from out
        self._polled = True

    # -- finding files ---------------------------------------------------------------------------

    def _root(self, root: _Root, present: dict[str, None], out: list[FileChange]) -> None:
        path = root.path
        if os.path.isdir(path):
            if not root.there:
                out.append(Returned(path))
            root.there, root.was_dir = True, True
            before = len(present)
            self._walk(path, present, out)
            if not self._polled and len(present) == before:
                self._tell(path, "folder holds no files", out)
        elif os.path.isfile(path):
            if not root.there:
                out.append(Returned(path))
            root.there, root.was_dir = True, False
            present[path] = None
        elif GLOB_CHARS & set(path) and not os.path.lexists(path):
            for m in sorted(glob.glob(path, recursive=True)):
                if os.path.isfile(m):
                    present[m] = None
        elif os.path.exists(path):  # a pipe or a device: never opened (it would wait, or never end)
            self._tell(path, not_a_file(os.stat(path).st_mode) or "not a file", out)
        elif root.there:
            root.there = False
            if root.was_dir:
                out.append(self._vanished(path))
            elif path not in self._tails:  # (a file followed is told Gone by `poll`)
                out.append(Unreadable(path, "no such file or folder"))

    def _walk(self, folder: str, present: dict[str, None], out: list[FileChange]) -> None:
        known = self._dirs.get(folder)
        if known is not None and known.settled:
            present.update(dict.fromkeys(known.files))
            for sub in known.subdirs:
                self._walk(sub, present, out)
            return
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            return  # gone between the parent's listing and now: the next poll tells it
        except OSError as e:
            self._tell(folder, f"cannot list this folder: {os_reason(e)}", out)
            if known is not None:  # follow what it held
                present.update(dict.fromkeys(known.files))
            return
        self._told.discard(folder)
        files, subdirs = [], []
        for entry in entries:
            # (DirEntry answers from the listing itself: no system call per file on Windows, nor
            # on Linux but for links.)
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
                elif entry.is_file():
                    files.append(entry.path)
                else:
                    mode = os.stat(entry.path).st_mode
                    if not stat.S_ISDIR(mode):  # (a link to a folder is not followed, as in scan)
                        self._tell(entry.path, not_a_file(mode) or "not a file", out)
            except OSError:
                continue  # a broken link, or deleted meanwhile
        if known is not None:
            for old in known.subdirs:
                if old not in subdirs:
                    out.append(self._vanished(old))
        present.update(dict.fromkeys(files))
        days = {sub: day_folder_date(sub) for sub in subdirs}
        newest = max((d for d in days.values() if d is not None), default=None)
        for sub in subdirs:
            self._walk(sub, present, out)
            day = days[sub]
            if sub in self._dirs and day is not None and newest is not None and newest - day >= _SETTLED:
                self._dirs[sub].settled = True
        self._dirs[folder] = _Dir(files, subdirs)

    def _vanished(self, folder: str) -> Gone:
        """A folder that disappeared: its files go to limbo, its sub-folders are forgotten."""
        inside = (folder.rstrip("/\\") + os.sep, folder + "/")
        held = []
        for path in [p for p in self._tails if p.startswith(inside)]:
            tail = self._tails.pop(path)
            if not tail.closed and tail.mode is Mode.READ:
                held.append(path)
            self._limbo[path] = tail
        for d in [d for d in self._dirs if d == folder or d.startswith(inside)]:
            del self._dirs[d]
        return Gone(folder, folder=True, files=tuple(held))

    def _add(self, path: str, out: list[FileChange]) -> None:
        sources, skipped = discover([path])
        for s in skipped:
            self._tell(s.path, s.reason, out)
        member = next((s for s in sources if s.member is not None), None)
        if member is not None:  # an archive: its members are read whole, once
            for src in sources:
                out.append(Found(src, Mode.WHOLE))
            self._tails[path] = _Tail(member, Mode.WHOLE, closed=True)
            return
        if not sources:
            return
        src = sources[0]
        mode = self.mode_of(src)
        tail = _Tail(src, mode, closed=mode in (Mode.SKIP, Mode.WHOLE))
        self._tails[path] = tail
        if mode is not Mode.SKIP:
            out.append(Found(src, mode))
        place = log_place(src.info)
        if place is not None:
            key, order = place
            if key not in self._newest or order > self._newest[key]:
                self._newest[key] = order
        if mode in (Mode.READ, Mode.SIZE):
            self._follow(tail, self.clock(), out)

    def _tell(self, path: str, reason: str, out: list[FileChange]) -> None:
        if path not in self._told:
            self._told.add(path)
            out.append(Unreadable(path, reason))

    # -- reading ---------------------------------------------------------------------------------

    def _follow(self, tail: _Tail, now: float, out: list[FileChange]) -> None:
        if tail.closed:
            return
        path = tail.src.path
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return  # the next listing tells it gone
        except OSError as e:
            self._unreadable(tail, e, out)
            return
        ident = (st.st_dev, st.st_ino)
        changed = st.st_size != tail.size or st.st_mtime_ns != tail.mtime or ident != tail.ident
        if tail.mode is Mode.SIZE:
            if changed:
                out.append(Grew(tail.src))
        elif changed or tail.offset < st.st_size or tail.waiting is not None:
            # (bytes left unread: a read stops at `max_read`, and NULs at the end wait)
            if not self._read(tail, st.st_size, now, out):
                return
        tail.size, tail.mtime, tail.ident = st.st_size, st.st_mtime_ns, ident
        self._close_if_superseded(tail, changed, now, out)

    def _read(self, tail: _Tail, size: int, now: float, out: list[FileChange]) -> bool:
        """Hand on what was appended; False when the file could not be read."""
        if size < tail.offset and self._begins_otherwise(tail):
            # Another file, shorter than what was read of the old one (deleted and written anew):
            # read it from its start at once.  Waiting for it to grow back, as for a copy being
            # rewritten, told its lines seconds late, after later ones of other logs.
            self._restart(tail, f"was written anew ({size:,} bytes)", out)
        elif size < tail.offset:
            # Truncated, or replaced by a copy that is still being written (a mirror of the
            # logs on a share): wait for it to grow back over what was read before deciding.
            if tail.waiting is None:
                tail.waiting = now
            if now - tail.waiting < self.settle:
                return True
            self._restart(tail, f"shrank from {tail.offset:,} to {size:,} bytes", out)
        try:
            data = self._bytes_from(tail, tail.offset - len(tail.last))
            if data[: len(tail.last)] != tail.last:
                self._restart(tail, "was replaced by other content", out)
                data = self._bytes_from(tail, 0)
        except OSError as e:
            self._unreadable(tail, e, out)
            return False
        tail.told = False
        tail.waiting = None
        new = data[len(tail.last) :]
        kept = len(new.rstrip(b"\0"))
        if kept < len(new) - 1:  # (one NUL is UTF-16 text's last high byte, `\n\0`; padding comes in runs)
            if tail.nul_since is None:
                tail.nul_since = now
            if now - tail.nul_since < self.settle:
                new = new[:kept]
        else:
            tail.nul_since = None
        if new:
            if len(tail.first) < FINGERPRINT and tail.offset < FINGERPRINT:
                tail.first = (tail.first + new)[:FINGERPRINT]
            tail.offset += len(new)
            tail.last = (tail.last + new)[-FINGERPRINT:]
            out.append(Appended(tail.src, new))
        if tail.offset < size and len(new) >= self.max_read:
            self.behind = True
        return True

    def _begins_otherwise(self, tail: _Tail) -> bool:
        try:
            head = read_at(tail.src.path, 0, len(tail.first))
        except OSError:
            return False
        return not tail.first.startswith(head) if len(head) < len(tail.first) else head != tail.first

    def _bytes_from(self, tail: _Tail, start: int) -> bytes:
        return read_at(tail.src.path, start, tail.offset - start + self.max_read)

    def _restart(self, tail: _Tail, reason: str, out: list[FileChange]) -> None:
        out.append(Restarted(tail.src, reason))
        tail.offset, tail.last, tail.first, tail.waiting, tail.nul_since = 0, b"", b"", None, None

    def _unreadable(self, tail: _Tail, e: OSError, out: list[FileChange]) -> None:
        if not tail.told:
            tail.told = True
            out.append(Unreadable(tail.src.name, os_reason(e)))

    def _close_if_superseded(self, tail: _Tail, changed: bool, now: float, out: list[FileChange]) -> None:
        place = log_place(tail.src.info)
        if place is None:
            return
        key, order = place
        newest = self._newest.get(key)
        if newest is None or newest <= order:
            return
        if changed or tail.quiet_since is None:
            tail.quiet_since = now
        elif now - tail.quiet_since >= self.settle and tail.waiting is None and tail.nul_since is None:
            tail.closed = True
            out.append(Closed(tail.src))


def read_at(path: str, start: int, size: int) -> bytes:
    """Up to `size` bytes of a file from `start`; the file is closed again at once (a BES on
    Windows cannot delete or rotate a log that another process holds open)."""
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(size)


def newest_day(paths: Sequence[str]) -> datetime | None:
    """The newest date that a BES file name (or a day folder) under `paths` carries, by name only:
    where the last day of the logs is, before any of them is read."""
    newest: datetime | None = None

    def see(name: str) -> None:
        nonlocal newest
        day = file_info(name).day
        if day is not None and (newest is None or day > newest):
            newest = day

    for raw in paths:
        if os.path.isdir(raw):
            for top, _dirs, names in os.walk(raw):
                for n in names:
                    see(os.path.join(top, n))
        elif os.path.isfile(raw):
            see(raw)
        elif GLOB_CHARS & set(raw):
            for m in glob.glob(raw, recursive=True):
                see(m)
    return newest
