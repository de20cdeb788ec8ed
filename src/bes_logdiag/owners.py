"""Thread ownership: who a line that names no user (the KEY_ACCEPT) belongs to, found on its thread."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

import regex

from bes_logdiag.decode import Encoding, decode_line
from bes_logdiag.model import LogLine
from bes_logdiag.parse import YearClock, parse_line, split_records

LOOKBACK_BYTES = 1024 * 1024
"""How far back (in the same file) the owner of a user-less line and the end of a log are looked
for: 4 chunks, about 10 minutes of the benchmark's busy Messaging Agent log, twice the 5-minute
owner window.  Keeping 16 chunks instead made reading 8% slower (the chunks no longer stay in the
CPU's cache and malloc's free lists): benchmarks/README.md."""
_LOOKBACK_LINES = 400
"""At most this many earlier lines of a thread are read to find who a user-less line belongs to."""


class LookBack:
    """The chunks of a file read before the current one, newest last, up to `LOOKBACK_BYTES`:
    where owners and the end of a log are looked for, so that where a read block ends never
    matters."""

    def __init__(self) -> None:
        self.recent: deque[bytes] = deque()
        self._bytes = 0

    def remember(self, chunk: bytes) -> None:
        self.recent.append(chunk)
        self._bytes += len(chunk)
        while self._bytes > LOOKBACK_BYTES and len(self.recent) > 1:
            self._bytes -= len(self.recent.popleft())

    def back_from(self, newest: bytes) -> list[bytes]:
        """`newest` and then the remembered chunks, newest first (each once)."""
        return [newest, *(c for c in reversed(self.recent) if c is not newest)]


Tail = dict[tuple[str, str], tuple[str, datetime]]
"""``(thread, milestone) -> (user, time)``: the last line of each milestone on each thread."""


def owner_in(tail: Tail, thread: str | None, milestone: str, when: datetime, window: timedelta) -> str | None:
    """The user of the last ``milestone`` line on ``thread`` in ``tail`` (a file's, or what the
    file before it ended with), within ``window`` before ``when``.  Lines are remembered in file
    order, so one remembered is always earlier, whatever the clock says: a clock that stepped back
    gives a negative gap, which is no reason to refuse."""
    found = tail.get((thread, milestone)) if thread else None
    if found is None or when - found[1] > window:
        return None
    return found[0]


class ThreadOwners:
    """Who each thread of one file served last, as its lines name them, and whose milestone
    line each thread wrote last (for `Pattern.inherit_from`)."""

    def __init__(self, window: timedelta, milestones: Iterable[str] = ()) -> None:
        self.window = window
        self.last_user: dict[str, tuple[str, datetime]] = {}
        self.milestones = frozenset(milestones)
        """The milestones some pattern inherits its user from: only these are remembered."""
        self.tail: Tail = {}
        self.unthreaded: dict[str, list[tuple[str, datetime]]] = {}
        """Per milestone, the users of its lines that have no thread id (older builds write none,
        BES-LOGS.md section 2) and that no line has taken its user from yet (`milestone_owner`)."""

    def saw(self, line: LogLine) -> None:
        """Remember the user a parsed line names on its thread."""
        self.saw_user(line.thread, line.user, line.time)

    def saw_user(self, thread: str | None, user: str | None, time: datetime) -> None:
        if user and thread:
            self.last_user[thread] = (user, time)

    def saw_milestone(self, milestone: str | None, user: str | None, line: LogLine) -> None:
        """Remember whose milestone line a thread wrote (in file order)."""
        if milestone not in self.milestones or not user:
            return
        if line.thread:
            self.tail[(line.thread, milestone)] = (user, line.time)
        else:
            self.unthreaded.setdefault(milestone, []).append((user, line.time))

    def milestone_owner(self, line: LogLine, milestone: str) -> str | None:
        """The user of the last ``milestone`` line on the line's thread in this file, within the
        window before it (`owner_in`).

        A line with no thread id takes the user of the ``milestone`` lines with none before it in
        the window that no line has taken yet, when they are one user's: the key line just before
        a KEY_ACCEPT, ``A key, A accept, B key, B accept``.  With two users' waiting (``A key,
        B key, accept``) whose it is cannot be told, and it stays without."""
        if line.thread:
            return owner_in(self.tail, line.thread, milestone, line.time, self.window)
        waiting = [w for w in self.unthreaded.get(milestone, ()) if line.time - w[1] <= self.window]
        self.unthreaded[milestone] = waiting
        if not waiting or any(user != waiting[-1][0] for user, _ in waiting):
            return None
        return waiting.pop()[0]

    def owner(self, line: LogLine, buf: bytes, start: int, look_back: LookBack) -> str | None:
        """The user last named on the same thread of the same file, within the window before the line.

        The KEY_ACCEPT line names no user (BES-LOGS.md section 3).  The lines before it on its thread
        are found by searching backwards for the thread id, in any of its spellings (``0x``, ``0×``,
        either case), in this chunk (``buf``, where the line starts at ``start``) and the ones before
        it, so the noise lines between hits never have to be parsed and where a read block ends does
        not matter.  A physical line may hold several records (pasted from a table): each is looked
        at, and on the line itself only the records before this one.  Older lines are covered by
        the owners remembered from matched lines.
        """
        if not line.thread:
            return None
        token = _thread_token(line.thread)
        clock = YearClock(line.time, line.time.year)
        budget = _LOOKBACK_LINES
        own_end = buf.find(b"\n", start)
        own_end = len(buf) if own_end < 0 else own_end
        for chunk in look_back.back_from(buf):
            pos = own_end if chunk is buf else len(chunk)
            while budget:
                budget -= 1
                m = token.search(chunk, 0, pos)
                if m is None:
                    break
                ls = chunk.rfind(b"\n", 0, m.start()) + 1
                le = chunk.find(b"\n", m.start())
                pos = ls
                text = decode_line(chunk[ls : le if le >= 0 else len(chunk)], Encoding())
                earlier_records = [
                    r for r in (parse_line(x, clock) for x in split_records(text)) if r is not None
                ]
                if chunk is buf and ls == start:  # the line itself: only the records before this one
                    mine = (line.time, line.thread, line.body)
                    cut = next(
                        (i for i, r in enumerate(earlier_records) if (r.time, r.thread, r.body) == mine),
                        len(earlier_records),
                    )
                    earlier_records = earlier_records[:cut]
                for earlier in reversed(earlier_records):
                    if earlier.thread != line.thread:
                        continue
                    if line.time - earlier.time > self.window:
                        return None
                    if earlier.user:
                        return earlier.user
            if not budget:  # a long run of its thread's lines that name nobody: what was remembered
                break
        remembered = self.last_user.get(line.thread)
        if remembered is not None and timedelta(0) <= line.time - remembered[1] <= self.window:
            return remembered[0]
        return None


@functools.lru_cache(maxsize=256)
def _thread_token(thread: str) -> regex.Pattern[bytes]:
    """A backwards search for ``{0x<thread>}`` as the raw bytes may spell it: ``0×`` in UTF-8 or
    cp1252, spaces inside the braces, leading zeros, either case of the hex digits."""
    digits = regex.escape(thread.lstrip("0") or "0").encode()
    return regex.compile(
        rb"\{\s*0(?:x|\xc3\x97|\xd7)0*" + digits + rb"\s*\}", regex.IGNORECASE | regex.REVERSE
    )
