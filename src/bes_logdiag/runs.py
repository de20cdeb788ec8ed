"""Lines held compactly until they are known to matter: a pattern's lines for one user in one file
that can neither open an attempt nor steer one (a mailbox error logged on every poll, a policy
pushed to a bystander).

A file's scan keeps each such line as a few numbers in a `Run` (its first line as an event); the
report (`merge_runs`) joins a user's runs across files and builds events of the lines only when
the user turns out to have an attempt they may fall into.  Every other user's lines are counted
into the report's ``unattached`` groups as they are, never one event per line (issue 14: 110,000
bystander lines cost 65 MB of JSON and most of the time; issue 15: memory grows with activations,
not with matched lines).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice
from operator import attrgetter

from bes_logdiag.clock import ServerClocks
from bes_logdiag.model import Event

_EPOCH = datetime(1, 1, 1)
_US = timedelta(microseconds=1)

RunKey = tuple[str | None, str, str | None, str | None, str | None]
"""A run's server, pattern id, address, user id and display name."""


def _micros(t: datetime) -> int:
    return (t.toordinal() * 86_400 + t.hour * 3_600 + t.minute * 60 + t.second) * 1_000_000 + t.microsecond


def _time(micros: int) -> datetime:
    return _EPOCH + (micros - 86_400_000_000) * _US


_NO_NUMBERS = array("q")
_NO_INDEXES = array("i")
_NO_STRINGS: list[str | None] = []
_NO_INDEX: dict[str | None, int] = {}
"""Shared by every run of one line: never added to (`Run.add` makes a run its own first)."""


class Run:
    """One pattern's lines for one set of names (or none) in one file: the first as an event like
    any other (``first``), each further line as its time, line number, place in the file
    (`Event.offset`, -1 for none), thread and text, in arrays (about 32 bytes a line, where an
    event takes some 300).  A run of one line (a flood of lines that each name another user)
    shares empty arrays, made its own at its second line."""

    __slots__ = ("first", "times", "lines", "offsets", "threads", "texts", "strings", "_index", "_shape")

    def __init__(self, first: Event) -> None:
        self.first = first
        self.times = self.lines = self.offsets = _NO_NUMBERS
        self.threads = self.texts = _NO_INDEXES
        self.strings: list[str | None] = _NO_STRINGS
        """The threads and texts the lines hold, each once (the arrays index it)."""
        self._index: dict[str | None, int] = _NO_INDEX
        self._shape: Shape | None = None

    @property
    def count(self) -> int:
        return 1 + len(self.times)

    def add(self, time: datetime, line: int, offset: int | None, thread: str | None, text: str) -> None:
        self._shape = None
        if self.times is _NO_NUMBERS:
            self.times, self.lines, self.offsets = array("q"), array("q"), array("q")
            self.threads, self.texts = array("i"), array("i")
            self.strings, self._index = [], {}
        self.times.append(_micros(time))
        self.lines.append(line)
        self.offsets.append(-1 if offset is None else offset)
        self.threads.append(self._string(thread))
        self.texts.append(self._string(text))

    def _string(self, s: str | None) -> int:
        i = self._index.get(s)
        if i is None:
            i = self._index[s] = len(self.strings)
            self.strings.append(s)
        return i

    @property
    def key(self) -> RunKey:
        e = self.first
        return (e.server, e.pattern_id, e.email, e.user_id, e.display_name)

    def raw(self) -> Iterator[_Raw]:
        """The further lines as (time, line, place, thread, text)."""
        for i in range(len(self.times)):
            yield self.at(i)

    def at(self, i: int) -> _Raw:
        """The ``i``th further line as (time, line, place, thread, text)."""
        s = self.strings
        offset = self.offsets[i]
        return (self.times[i], self.lines[i], None if offset < 0 else offset,
                s[self.threads[i]], s[self.texts[i]])  # type: ignore[return-value]  # fmt: skip

    @property
    def shape(self) -> Shape:
        """Where the run's lines begin and end in time, which are the earliest and the latest,
        and whether their times only go up (worked out once; a worker does it before the run
        crosses to the main process)."""
        if self._shape is None:
            self._shape = _shape_of(self)
        return self._shape


def pack(runs: tuple[Run, ...]) -> tuple[object, ...]:
    """A file's runs as a few lists and arrays, to cross to the main process: pickling a dense
    file's thousands of runs one object and four arrays each cost more than reading them."""
    sizes = array("q", [len(r.times) for r in runs])
    times, lines, offsets, threads, texts = array("q"), array("q"), array("q"), array("i"), array("i")
    for r in runs:
        times += r.times
        lines += r.lines
        offsets += r.offsets
        threads += r.threads
        texts += r.texts
    firsts = [r.first for r in runs]
    # (a run of one line is its first: no strings, and a shape worked out in no time)
    strings = [r.strings if r.times else None for r in runs]
    shapes = [r.shape if r.times else None for r in runs]
    return firsts, sizes, times, lines, offsets, threads, texts, strings, shapes


def unpack(packed: tuple[object, ...]) -> tuple[Run, ...]:
    """The runs `pack` packed (without the index that only serves `Run.add`)."""
    firsts, sizes, times, lines, offsets, threads, texts, strings, shapes = packed
    out = []
    at = 0
    for first, n, kept, shape in zip(firsts, sizes, strings, shapes):  # type: ignore[call-overload]
        run = Run(first)
        if n:
            end = at + n
            run.times, run.lines, run.offsets = times[at:end], lines[at:end], offsets[at:end]  # type: ignore[index]
            run.threads, run.texts = threads[at:end], texts[at:end]  # type: ignore[index]
            run.strings, run._shape, run._index = kept, shape, {}
            at = end
        out.append(run)
    return tuple(out)


Shape = tuple[int, int, int, int, bool]
"""A run's first and last time (microseconds), the index of its earliest and of its latest line by
time and line number (-1: the first line), and whether its times only go up (`Run.shape`)."""


def _shape_of(run: Run) -> Shape:
    times, first = run.times, _micros(run.first.time)
    if not times:
        return first, first, -1, -1, True
    head = (first, run.first.line, -1)
    least = min(head, min(_numbered(run)))
    greatest = max(head, max(_numbered(run)))
    rising = first < times[0] and all(map(int.__lt__, times, islice(times, 1, None)))
    return first, times[-1], least[2], greatest[2], rising


@dataclass(slots=True)
class LineGroup:
    """A user's runs of one pattern on one server, across files: how many lines they hold (a
    line read twice, from a copy of its file, counts once), the earliest and the latest."""

    first: Event
    """The earliest line (by moment, then file and line): the group's place in the identity join."""
    last: Event
    count: int
    parts: list[Run]
    clocks: ServerClocks
    may_repeat: bool
    """A line may have been read twice (`_may_repeat`): `merge_runs` counts it once."""

    def events(self) -> list[Event]:
        """Every line as an event, each once: for a user with an attempt the lines may fall into."""
        seen: set[tuple[int, str]] | None = set() if self.may_repeat else None
        return [_event(part.first, raw, self.clocks) for part in self.parts for raw in _lines(part, seen)]


def merge_runs(runs: Iterable[Run], clocks: ServerClocks) -> tuple[list[LineGroup], Counter[str]]:
    """The runs of every file (in the order the files were read) joined per server, pattern and
    names; with how many lines each file repeats of lines already read (a copy of a file)."""
    by_key: dict[RunKey, list[Run]] = {}
    for run in runs:
        by_key.setdefault(run.key, []).append(run)
    repeats: Counter[str] = Counter()
    return [_group(parts, clocks, repeats) for parts in by_key.values()], repeats


def _group(parts: list[Run], clocks: ServerClocks, repeats: Counter[str]) -> LineGroup:
    one = parts[0]
    stepped = clocks.steps.get(one.first.server)
    if len(parts) == 1 and not one.times and not stepped:
        return LineGroup(one.first, one.first, 1, parts, clocks, False)  # (one line: a flood of users)
    may_repeat = _may_repeat(parts)
    count = 0
    seen: set[tuple[int, str]] | None = set() if may_repeat else None
    for part in parts:
        kept = sum(1 for _ in _lines(part, seen)) if may_repeat else part.count
        repeats[part.first.file] += part.count - kept
        count += kept
    if stepped:
        ends = [e for part in parts for e in _ends_by_moment(part, clocks)]
        first, last = min(ends, key=_ORDER), max(ends, key=_ORDER)
    else:
        first, last = _ends(parts, clocks)
    return LineGroup(first, last, count, parts, clocks, may_repeat)


def _may_repeat(parts: list[Run]) -> bool:
    """Whether a line may have been read twice (`scan._dedupe`: a copy of its file, or a mail that
    quotes the excerpt it answers): two parts (files) overlap in time, or the time of a part's
    lines does not only go up.  Else every line is another, and none need be remembered."""
    spans = []
    for p in parts:
        start, end, _, _, rising = p.shape
        if not rising:
            return True
        spans.append((start, end))
    spans.sort()
    return any(later[0] <= earlier[1] for earlier, later in zip(spans, spans[1:]))


_ORDER = attrgetter("order")

_Raw = tuple[int, int, int | None, str | None, str]
"""A line of a run: its time (microseconds), line number, place in the file, thread and text."""


def _lines(part: Run, seen: set[tuple[int, str]] | None) -> Iterator[_Raw]:
    """The part's lines, its first too; with ``seen`` (the time and text of the lines read), those
    not read before (and they are added to it)."""
    e = part.first
    for raw in chain([(_micros(e.time), e.line, e.offset, e.thread, e.text)], part.raw()):
        if seen is not None:
            key = (raw[0], raw[4])
            if key in seen:
                continue
            seen.add(key)
        yield raw


def _ends(parts: list[Run], clocks: ServerClocks) -> tuple[Event, Event]:
    """The earliest and the latest line of the parts, on a server whose clock did not step: by
    time, file and line, compared as numbers; only those two become events."""
    ends = []
    for n, part in enumerate(parts):
        _, _, least, greatest, _ = part.shape
        ends += [(*_place(part, least), n, least), (*_place(part, greatest), n, greatest)]
    made = []
    for _, _, _, n, i in (min(ends), max(ends)):
        part = parts[n]
        made.append(part.first if i < 0 else _event(part.first, part.at(i), clocks))
    return made[0], made[1]


def _place(part: Run, i: int) -> tuple[int, str, int]:
    """The time, file and line number of a part's ``i``th further line (-1: its first)."""
    f = part.first
    return (_micros(f.time), f.file, f.line) if i < 0 else (part.times[i], f.file, part.lines[i])


def _numbered(part: Run) -> Iterator[tuple[int, int, int]]:
    """The part's further lines as (time, line number, index)."""
    return zip(part.times, part.lines, range(len(part.times)))


def _ends_by_moment(part: Run, clocks: ServerClocks) -> list[Event]:
    """The earliest and the latest line of a part by moment, on a server whose clock stepped."""
    made = [_event(part.first, raw, clocks) for raw in _lines(part, None)]
    return [min(made, key=_ORDER), max(made, key=_ORDER)]


def _event(template: Event, raw: _Raw, clocks: ServerClocks) -> Event:
    micros, line, offset, thread, text = raw
    time = _time(micros)
    moment = clocks.moment_of(time, template.server, template.file, line)
    return template._replace(time=time, line=line, thread=thread, text=text,
                             moment_at=None if moment == time else moment, offset=offset)  # fmt: skip
