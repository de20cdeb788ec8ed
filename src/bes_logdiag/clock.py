"""Server clocks that step: the local time of a BES log goes back an hour on the night daylight
saving ends (or when an admin corrects the clock) and skips an hour when it begins.

Within one file, file order is the true order.  `StepFinder` finds where a file's time steps,
from the timestamps at the start of its lines (sampled per chunk, read line by line only where a
chunk shows a step); `ServerClocks` merges the steps of a server's files, and gives every event
its ``moment``: the local time shifted so that the server's time runs forward only.  The latest
part of the logs keeps its local time, so the end of the logs and stalls measured against it
read as the admin's clock does; only lines before a step are shifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import regex

from bes_logdiag.model import ClockStep, Event, FileInfo, FileStats
from bes_logdiag.words import duration

STEP_BACK = timedelta(minutes=2)
"""A line this much earlier than the latest one before it means the clock stepped back.  Threads
write a little out of order (milliseconds, a few seconds under load), never minutes."""
SPRING_GAP = (timedelta(minutes=59), timedelta(minutes=70))
"""A gap of about an hour over a whole hour (`SKIPPED_HOURS`), on a Sunday, with no line in
between, is the hour that daylight saving time skips; a busy BES writes every few seconds."""
SAMPLE_BYTES = 64 * 1024
"""A chunk is sampled: the first line of every this many bytes, and its last line.  Only a
stretch between two samples that shows a step, or that lies where daylight saving changes (see
`_dst_hours`), is read line by line, so a busy log costs a few timestamps per chunk.  A clock set
back on an ordinary day hides from the samples only where this many bytes span more than the
jump; a chunk up to `FULL_SCAN_BYTES` is read line by line anyway."""
FULL_SCAN_BYTES = 64 * 1024

MAX_STEPS = 3
"""More steps than this in one file is no clock that stepped but lines out of order (pasted,
merged, sorted by something else): such a file's lines are ordered by their times instead."""

_HEADER_STAMP = regex.compile(
    rb"(?m)^[^\n(]{0,24}\(\s*(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?\s*\)"
)
"""The timestamp of a line's header (within its first characters), not one quoted in a message."""
_LAST_HEADER_STAMP = regex.compile(_HEADER_STAMP.pattern, regex.REVERSE)
_STAMP_BODY = rb"[^\n(]{0,24}\(\s*(\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2})"
_FIRST_STAMP_TEXT = re.compile(_STAMP_BODY)
_NEXT_STAMP_TEXT = re.compile(rb"\n" + _STAMP_BODY)
"""The text of a line's header stamp, to the second: of the line at a position (``match``), of
the lines after a line end (``findall``).  Three times faster than ``(?m)^`` (which is tried at
every byte) over a folder of 20,000 small files, which are read line by line (`FULL_SCAN_BYTES`)."""


_SERVERS_STAMP_TEXT = re.compile(rb"\n\[\d{5}\] \((\d\d/\d\d \d\d:\d\d:\d\d)\.")
"""The same, in the one layout a server writes (``[40000] (12/30 00:00:10.133)``): found a third
faster, and the same stamps whenever every line after a line end has it."""


def _stamp_texts(buf: bytes, start: int, end: int, newlines: int | None = None) -> list[bytes]:
    """The header stamps of the lines that begin in ``buf[start:end]`` (``newlines``: its line
    ends, when the caller counted them)."""
    stamps = _SERVERS_STAMP_TEXT.findall(buf, start, end)
    if newlines is None:
        newlines = buf.count(b"\n", start, end)
    # (a line end at ``end`` begins no line in the stretch)
    if len(stamps) != newlines - (buf[end - 1 : end] == b"\n"):
        stamps = _NEXT_STAMP_TEXT.findall(buf, start, end)
    if start == 0 or buf[start - 1 : start] == b"\n":
        first = _FIRST_STAMP_TEXT.match(buf, start, end)
        if first is not None:
            stamps.insert(0, first.group(1))
    return stamps


_PADDED = len(b"01/02 03:04:05")


class StepFinder:
    """Where one file's local time steps back, or skips the daylight-saving hour, in file order."""

    @property
    def found(self) -> list[ClockStep]:
        """The steps, or none when there are too many to be a clock's (`MAX_STEPS`)."""
        return self.steps if len(self.steps) <= MAX_STEPS else []

    def __init__(self, year: int, *, excerpt: bool = False) -> None:
        self.steps: list[ClockStep] = []
        self._year = year
        self._excerpt = excerpt
        """The file is an excerpt (no BES name): pasted from a ticket, often in sections, one
        service's lines after another's, so its time going back is a new section, not a clock,
        unless it is the autumn night's hour (`_line`)."""
        self._latest: datetime | None = None
        """The latest time seen so far (a step back is measured from it)."""
        self._last: datetime | None = None
        """The time of the last line seen (a skipped hour is measured from it)."""

    def see(self, buf: bytes, line_base: int, newlines: int | None = None) -> None:
        """Look at one chunk of whole lines whose first line is line ``line_base + 1`` (and which
        holds ``newlines`` line ends, when the caller counted them)."""
        if len(buf) <= FULL_SCAN_BYTES:
            self._read(buf, 0, len(buf), line_base, newlines=newlines)
            return
        start = 0  # where the stretch after the last sample begins
        pos = 0
        while pos < len(buf):
            m = _HEADER_STAMP.search(buf, pos)
            if m is None:
                break
            t = self._time(m)
            if t is not None:
                if self._steps_at(t) or _dst_hours(t) or (self._last is not None and _dst_hours(self._last)):
                    self._read(buf, start, m.end(), line_base)
                else:
                    self._latest = t if self._latest is None else max(self._latest, t)
                    self._last = t
            start = m.end()
            pos = max(m.end(), pos + SAMPLE_BYTES)
        self._read(buf, start, len(buf), line_base, sample_last=True)

    def _read(
        self,
        buf: bytes,
        start: int,
        end: int,
        line_base: int,
        *,
        sample_last: bool = False,
        newlines: int | None = None,
    ) -> None:
        """Every line of ``buf[start:end]`` (``sample_last``: its last line, and the others only when
        that shows a step; ``newlines``: its line ends, when known)."""
        if sample_last:
            m = _LAST_HEADER_STAMP.search(buf, start, end)
            t = self._time(m) if m is not None else None
            risky = t is not None and (_dst_hours(t) or (self._last is not None and _dst_hours(self._last)))
            if t is None or not (self._steps_at(t) or risky):
                if t is not None:
                    self._latest = t if self._latest is None else max(self._latest, t)
                    self._last = t
                return
        if self._in_order(buf, start, end, newlines):
            return
        # Line by line, but in whole seconds as integers: a datetime only for a line that may be
        # a step.
        latest_k = _key(self._latest) if self._latest is not None else None
        last = self._last
        last_k = _key(last) if last is not None else None
        year = last.year if last is not None else self._year
        last_month = last.month if last is not None else 0
        latest_m = last_m = None
        for m in _HEADER_STAMP.finditer(buf, start, end):
            mo, d, h, mi, s, _ = m.groups()
            month = int(mo)
            if last_month == 12 and month == 1:
                year += 1
            elif last_month == 1 and month == 12:
                year -= 1
            k = (((year * 13 + month) * 32 + int(d)) * 24 + int(h)) * 3600 + int(mi) * 60 + int(s)
            if (latest_k is not None and k < latest_k - _STEP_BACK_S) or (
                last_k is not None and k - last_k >= _SPRING_MIN_S
            ):
                # maybe a step: the exact check on datetimes, with the state as of this line
                if latest_m is not None:
                    self._latest = self._time(latest_m)
                if last_m is not None:
                    self._last = self._time(last_m)
                t = self._time(m)
                if t is not None:
                    self._line(t, line_base + buf.count(b"\n", 0, m.start()) + 1)
                latest_m = last_m = None
                latest_k = _key(self._latest) if self._latest is not None else None
                last_k = _key(self._last) if self._last is not None else None
            else:
                if latest_k is None or k >= latest_k:
                    latest_k, latest_m = k, m
                last_k, last_m = k, m
            last_month = month
        if latest_m is not None:
            self._latest = self._time(latest_m) or self._latest
        if last_m is not None:
            self._last = self._time(last_m) or self._last

    def _in_order(self, buf: bytes, start: int, end: int, newlines: int | None = None) -> bool:
        """Whether the stretch's stamps simply run on (the usual case, decided at C speed): as
        text, zero-padded ``MM/DD HH:MM:SS`` stamps sort as their times do, so a stretch whose
        stamps are already sorted, after the latest time seen, and nowhere near a daylight-saving
        change holds no step.  Anything else (a stamp without zero padding, New Year, lines a few
        milliseconds out of order) is read line by line."""
        stamps = _stamp_texts(buf, start, end, newlines)
        if not stamps:
            return True
        latest = self._latest
        if latest is not None:
            if latest.year != self._year_of(stamps[-1]):
                return False
            stamps.insert(
                0,
                b"%02d/%02d %02d:%02d:%02d"
                % (latest.month, latest.day, latest.hour, latest.minute, latest.second),
            )
        if stamps != sorted(stamps) or any(len(s) != _PADDED for s in (stamps[0], stamps[-1])):
            return False
        t0, t1 = self._time_of(stamps[0]), self._time_of(stamps[-1])
        if t0 is None or t1 is None or _dst_hours(t0) or _dst_hours(t1) or t1 - t0 >= SPRING_GAP[0]:
            return False
        self._latest = t1 if latest is None else max(latest, t1)
        self._last = t1
        return True

    def _year_of(self, stamp: bytes) -> int:
        last = self._last
        if last is None:
            return self._year
        month = int(stamp[:2])
        return last.year + (last.month == 12 and month == 1) - (last.month == 1 and month == 12)

    def _time_of(self, stamp: bytes) -> datetime | None:
        """A zero-padded ``MM/DD HH:MM:SS`` stamp's time."""
        try:
            return datetime(self._year_of(stamp), int(stamp[:2]), int(stamp[3:5]), int(stamp[6:8]),
                            int(stamp[9:11]), int(stamp[12:14]))  # fmt: skip
        except ValueError:
            return None

    def _steps_at(self, t: datetime) -> bool:
        return (self._latest is not None and t < self._latest - STEP_BACK) or _skips_hour(self._last, t)

    def _line(self, t: datetime, line: int) -> None:
        latest, last = self._latest, self._last
        if latest is not None and t < latest - STEP_BACK:
            jump = _rounded(t - latest)
            if self._excerpt and not (jump == -timedelta(hours=1) and _dst_hours(t)):
                self._last = t  # (a section of another service's lines: their times order them)
                return
            self.steps.append(ClockStep(line, latest, t, jump))
            self._latest = t
        elif _skips_hour(last, t):
            assert last is not None
            self.steps.append(ClockStep(line, last, t, timedelta(hours=1)))
            self._latest = t
        else:
            self._latest = t if latest is None else max(latest, t)
        self._last = t

    def _time(self, m: regex.Match[bytes]) -> datetime | None:
        """The stamp's time, to the second (a step is minutes long)."""
        mo, d, h, mi, s, _ = m.groups()
        month = int(mo)
        ref = self._last
        year = self._year
        if ref is not None:  # over New Year, either way
            year = ref.year + (ref.month == 12 and month == 1) - (ref.month == 1 and month == 12)
        try:
            return datetime(year, month, int(d), int(h), int(mi), int(s))
        except ValueError:
            return None


_STEP_BACK_S = int(STEP_BACK.total_seconds())
_SPRING_MIN_S = int(SPRING_GAP[0].total_seconds())


def _key(t: datetime) -> int:
    """Whole seconds that order as the times do (months 32 days long: differences across a
    month's end are too large, which only makes a forward gap look longer)."""
    return (((t.year * 13 + t.month) * 32 + t.day) * 24 + t.hour) * 3600 + t.minute * 60 + t.second


def _dst_hours(t: datetime) -> bool:
    """Whether ``t`` is when daylight saving may change: early on a Sunday morning in March,
    April, September, October or November (Europe, North America, Australia and New Zealand).
    The samples of a quiet log could pass over a step there: it is read line by line."""
    return t.hour < 5 and t.weekday() == 6 and t.month in DST_MONTHS


DST_MONTHS = (3, 4, 9, 10, 11)
"""The months daylight saving time begins or ends in: Europe, North America, Australia, New
Zealand, Chile."""
SKIPPED_HOURS = (0, 1, 2, 3)
"""The hours daylight saving skips, on a Sunday: 00:00 (Chile, from Saturday 23:59), 01:00 (the UK,
Ireland, Portugal), 02:00 (central Europe, North America, Australia), 03:00 (eastern Europe)."""


def _skips_hour(before: datetime | None, after: datetime) -> bool:
    """Whether the clock jumped over a whole hour between two lines: about an hour apart, the hour
    after ``before``'s left out, on a Sunday of a month daylight saving begins in (`_dst_hours`)."""
    if before is None:
        return False
    gap = after - before
    skipped = (before + timedelta(hours=1)).hour
    return (
        SPRING_GAP[0] <= gap <= SPRING_GAP[1]
        and skipped in SKIPPED_HOURS
        and after.hour == (skipped + 1) % 24
        and after.weekday() == 6
        and after.month in DST_MONTHS
    )


def _rounded(jump: timedelta) -> timedelta:
    """The jump a step back made.  The lines on either side were written a little apart, so the
    gap between them is a little less than the jump: one within 5 minutes of a whole half hour is
    a daylight-saving change (an hour; half an hour on Lord Howe Island) and taken as exactly
    that; any other is a clock set back, taken to the second."""
    half_hours = round(jump / timedelta(minutes=30))
    if half_hours and abs(jump - half_hours * timedelta(minutes=30)) <= timedelta(minutes=5):
        return half_hours * timedelta(minutes=30)
    return timedelta(seconds=round(jump.total_seconds()))


@dataclass
class _ServerStep:
    """One step of a server's clock, as its files saw it."""

    before: datetime
    after: datetime
    jump: timedelta


class ServerClocks:
    """The steps of every server's clock, merged from its files, and each event's moment."""

    def __init__(self, files: Iterable[FileStats]) -> None:
        self._files: dict[str, FileStats] = {}
        self.steps: dict[str | None, list[_ServerStep]] = {}
        for f in files:
            self._files[f.path] = f
            for s in f.clock_steps:
                known = self.steps.setdefault(f.info.server, [])
                same = next((k for k in known if _same_step(k, s)), None)
                if same is None:
                    known.append(_ServerStep(s.before, s.after, s.jump))
                elif s.jump < timedelta(0):
                    # Between the lines on either side of a step back some time passed, so each
                    # file sees a little less than the jump (a quiet file much less): the largest
                    # jump seen is the closest to the true one.
                    same.jump = min(same.jump, s.jump)
                    same.before, same.after = max(same.before, s.before), min(same.after, s.after)
        for known in self.steps.values():
            known.sort(key=lambda s: s.after)
        self._stats = list(self._files.values())

    def __bool__(self) -> bool:
        return bool(self.steps)

    def notes(self) -> list[str]:
        out = []
        for server, steps in sorted(self.steps.items(), key=lambda kv: kv[0] or ""):
            where = f"server {server}" if server else "input without a server name"
            for s in steps:
                kind = "goes back" if s.jump < timedelta(0) else "jumps forward"
                out.append(
                    f"{where}: local time {kind} {duration(abs(s.jump))} at {s.before:%Y-%m-%d %H:%M:%S} "
                    f"(next line {s.after:%H:%M:%S}; daylight saving time or a corrected clock): lines "
                    "are ordered as the files wrote them, and durations count the time that passed"
                )
        return out

    def moments(self, events: Sequence[Event]) -> list[Event]:
        """The events with ``moment`` set on servers whose clock stepped."""
        if not self.steps:
            return list(events)
        return [self._with_moment(e) for e in events]

    def moment_of(self, when: datetime, server: str | None, path: str, line: int | None) -> datetime:
        """The moment of local time ``when`` at ``line`` of file ``path`` (None: its last line)."""
        steps = self.steps.get(server)
        if not steps:
            return when
        stats = self._files.get(path)
        shift = timedelta(0)
        for s in steps:
            if self._before(s, when, stats, line, server):
                shift += s.jump
        return when + shift

    def _with_moment(self, e: Event) -> Event:
        moment = self.moment_of(e.time, e.server, e.file, e.line)
        return e if moment == e.time else e._replace(moment_at=moment)

    def _before(
        self, s: _ServerStep, when: datetime, stats: FileStats | None, line: int | None, server: str | None
    ) -> bool:
        """Whether a line of a file (at local time ``when``) was written before step ``s``."""
        if stats is not None:
            own = [x for x in stats.clock_steps if _same_step(s, x)]
            if own:
                return line is not None and line < own[0].line
        earliest, latest = sorted((s.before, s.after))
        if when < earliest:
            return True
        if when > latest:
            return False
        # In the hour a fall-back repeats, a file that did not see the step itself: after it if an
        # earlier file of the same agent that day saw it (the agent went on into a new file).
        if stats is None:
            return False
        return not any(
            _sibling_before(stats.info, f.info) and any(_same_step(s, x) for x in f.clock_steps)
            for f in self._stats
            if f.info.server == server
        )


def _sibling_before(info: FileInfo, other: FileInfo) -> bool:
    return (
        other.service == info.service
        and other.instance == info.instance
        and other.day == info.day
        and other.iteration is not None
        and info.iteration is not None
        and other.iteration < info.iteration
    )


def _same_step(a: _ServerStep | ClockStep, b: ClockStep) -> bool:
    """One server step seen in two files: a jump the same way, where the other saw it.  A quiet
    file sees a step back from its last line before it to its first line after, which may be far
    from the busy file's moment: the two spans overlap."""
    if (a.jump < timedelta(0)) != (b.jump < timedelta(0)):
        return False
    lo_a, hi_a = sorted((a.before, a.after))
    lo_b, hi_b = sorted((b.before, b.after))
    slack = timedelta(minutes=10)
    return lo_a <= hi_b + slack and lo_b <= hi_a + slack
