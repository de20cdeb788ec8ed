"""Scanning one file: its bytes in, events out, fed as they come and finished once.

A `FileScanner` holds all that one source's scan remembers: the decoder, its year clock, who
each thread served, the chunks to look back into, the damage seen and the counts.  The batch scan
feeds it a whole file (`scan_source`); a live follower can feed it what a log appends.
"""

from __future__ import annotations

import threading
from codecs import BOM_UTF8
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import BinaryIO, TypeVar

import regex

from bes_logdiag.clock import StepFinder
from bes_logdiag.decode import CHUNK_SIZE, SNIFF_SIZE, Damage, Encoding, LineChunker, decode_line
from bes_logdiag.duplicates import probe
from bes_logdiag.filehead import SNIFF_BYTES, archived, first_time, last_time, not_a_log, starts_fresh
from bes_logdiag.inflate import DEFAULT_MAX_EXPAND, Gunzip, TarReader
from bes_logdiag.library import MATCH_TIMEOUT, Pattern
from bes_logdiag.match import Matcher, date_of, match_line
from bes_logdiag.model import Event, FileStats, LogLine, Skipped
from bes_logdiag.names import clean_address, clean_name
from bes_logdiag.owners import LookBack, Tail, ThreadOwners
from bes_logdiag.parse import BES_LINE_BYTES, LEAP_DAY, PLAIN_HEADER, YearClock, header_time
from bes_logdiag.read import READ_ERRORS, Source, open_source, os_reason
from bes_logdiag.runs import Run, pack, unpack
from bes_logdiag.unwrap import unwrap
from bes_logdiag.words import clip

_TEXT_LIMIT = 400
"""An event keeps at most this many characters of its line."""
_Names = tuple[str | None, str | None, str | None]
"""The address, display name and user id a line names (`_names_of`)."""
_Key = tuple[tuple[int, ...], bytes | None, bytes]
"""A line's candidate patterns, and the user and body of its plain header (`FileScanner._known`)."""
_Fixed = tuple[
    tuple[str | None, str | None, str], tuple[str, int | None, str | None, str | None, str | None, bool]
]
"""What every event of one pattern in one file shares (`FileScanner._fixed_of`)."""
_make_event = Event._make
_UNKNOWN = object()
"""Not in `FileScanner._known`."""
_MEMO_LIMIT = 50_000
"""Entries in each of a file's match memos before it starts over: bounded memory, whatever the
log, while a dense log's repeated lines (a few thousand idle users) all fit."""


@dataclass(frozen=True)
class FileResult:
    events: tuple[Event, ...]
    stats: FileStats
    tail: Tail = field(default_factory=dict)
    """Whose milestone line each thread wrote last: where the owner of a user-less line at the
    start of the next file of the same agent (a size rotation) is found."""
    fresh_start: bool = False
    """The file begins with its service starting up: no thread carries over from an earlier file."""
    runs: tuple[Run, ...] = ()
    """The lines held compactly (``scan_source(compact=True)``, `FileScanner._loose`); no run's
    first line is among ``events``."""
    probe: int | None = None
    """`duplicates.probe` of what was read of a file as stored (not gzip data, not stdin, not one
    that broke off): its first and last blocks, or the last before the scanner refused it."""

    def __getstate__(self) -> dict[str, object]:
        # (most files of a folder of small ones hold no run: nothing to pack)
        return {**self.__dict__, "runs": pack(self.runs) if self.runs else None}

    def __setstate__(self, state: dict[str, object]) -> None:
        packed = state["runs"]
        self.__dict__.update(state, runs=() if packed is None else unpack(packed))  # type: ignore[arg-type]


class FileScanner:
    """One source's scan.  `feed` takes its raw bytes (any amount; ``final=True`` with the last
    of them, so that a last line without a newline counts) and returns the events they complete;
    `finish` closes the account of what was read."""

    def __init__(
        self,
        src: Source,
        matcher: Matcher,
        *,
        year: int | None,
        default_year: int,
        thread_window: timedelta,
        compact: bool = True,
    ) -> None:
        self.src = src
        self._loose = matcher.loose if compact else frozenset()
        """The patterns whose lines are held as runs (`runs.Run`), one per pattern and names: they
        can neither open an attempt, nor steer one, nor take a user from their thread (a mailbox
        error on every poll).  Empty with ``compact=False`` (``events``, which lists every line)."""
        self._runs: dict[tuple[str, _Names], Run] = {}
        self.matcher = matcher
        self.stats = FileStats(path=src.name, info=src.info)
        self.enc = Encoding()
        self.damage = Damage()
        self._chunker = LineChunker(self.enc)
        anchor = src.info.day
        # (no date in the name or folder, no --year: the year is a guess, `YearClock`)
        self._guessed = year is None and anchor is None
        self._new_clock = partial(
            YearClock, anchor, anchor.year if anchor else year or default_year, guessed=year is None
        )
        self.clock = self._new_clock()
        self.owners = ThreadOwners(thread_window, matcher.inherited)
        self.fresh_start = False
        """The file begins with its service starting up (`filehead.starts_fresh`)."""
        self.look_back = LookBack()
        self.steps = StepFinder(self.clock.year, excerpt=src.info.server is None)
        self.dropped: dict[str, str] = {}
        """Patterns that ran out of time on a line of this file."""
        self._strings: dict[str, str] = {}
        self._searched: dict[tuple[str, str], regex.Match[str] | None] = {}
        self._named: dict[tuple[str, str, str | None], _Names] = {}
        self._known: dict[_Key, tuple[Run, str] | None] = {}
        """Per candidate patterns, user and body of a line with a plain header (`PLAIN_HEADER`):
        the run such a line adds to, or None when it matches nothing (`_again`)."""
        self._dates = matcher.date_ids
        self._fixed: dict[str, _Fixed] = {}
        self._threads: dict[bytes, str] = {}
        self._users: dict[bytes, str] = {}
        """Thread ids (upper-cased) and users of plain headers, decoded once."""
        self._line_base = 0
        self._head: list[bytes] | None = []
        """The first chunks, held until they show the file is a BES log (`_sniff`); None after."""
        self._headless = False
        """A BES-named file whose first 64 KiB hold no BES timestamp, read on (`_sniff`)."""
        self._last_buf = b""
        self._unwrapped = False
        """The input's wrapped lines were joined (`unwrapped`): its bytes are not the file's."""
        self._bytes_moved = 0
        self._chunk_at: int | None = None
        """Where the buffer being matched begins in the source's bytes; None for transcoded text."""

    def unwrapped(self, data: bytes) -> bytes:
        """The whole input with the lines a mail client wrapped joined back onto their records
        (`unwrap`), and a note of it."""
        unwrapped, joined = unwrap(data)
        if joined:
            # (the lines' places in the file are no longer those in the bytes matched; its bytes
            # are counted as the file holds them)
            self._unwrapped = True
            self._bytes_moved = len(data) - len(unwrapped)
            data = unwrapped
            self.stats.warnings.append(
                f"{self.src.name}: {joined:,} line{'s' if joined > 1 else ''} without a BES header "
                f"continue{'' if joined > 1 else 's'} the record before, as a mail client wraps long "
                "lines: read joined to it"
            )
        return data

    @property
    def refused(self) -> bool:
        """The source turned out not to be a BES log: feeding it more does nothing."""
        return self.stats.skipped is not None

    def feed(self, data: bytes, *, final: bool = False) -> list[Event]:
        events: list[Event] = []
        if self.refused:
            return events
        chunks = self._chunker.feed(data) if data else []
        if final:
            chunks += self._chunker.finish()
        if self._head is not None:
            chunks = self._sniff(chunks, final)
        for buf in chunks:
            self._chunk(buf, events)
        return events

    def _sniff(self, chunks: list[bytes], final: bool) -> list[bytes]:
        """Hold the first chunks until they show whether this is a BES log: a timestamp within
        `SNIFF_BYTES`, and no zip archive.  What is held is then matched, or the file refused."""
        assert self._head is not None
        self._head += chunks
        held = sum(map(len, self._head))
        if not final and held < SNIFF_BYTES and not any(BES_LINE_BYTES.search(c) for c in chunks):
            return []
        chunks, self._head = self._head, None
        head = b"".join(chunks)
        zipped = archived(head)
        stamped = not zipped and BES_LINE_BYTES.search(head, 0, SNIFF_BYTES) is not None
        text = head.find(b"\n", 0, SNIFF_BYTES) >= 0 and head.find(b"\0", 0, SNIFF_BYTES) < 0
        if not stamped and not zipped and self.src.info.service is not None and text:
            # A BES log by its name that begins with lines of another kind (a dump, a banner):
            # read on, and refused at its end only if no line of it has a BES timestamp.
            self._headless = True
        elif not stamped:
            if head:
                self.stats.skipped = Skipped(self.src.name, not_a_log(head, stdin=self.src.stdin))
                self.stats.bytes = len(head)
            return []
        if self._guessed and LEAP_DAY.search(head) is not None:  # (a dated log's year is known)
            self._new_clock = partial(self._new_clock, leap_day=True)
            self.clock = self._new_clock()
        self.stats.first_time = first_time(head, self._new_clock())
        self.fresh_start = starts_fresh(head, self.matcher)
        return chunks

    def finish(self, error: BaseException | None = None) -> FileStats:
        """The file's stats, once no more bytes will come (``error``: what broke off the reading)."""
        stats = self.stats
        # Read, though passed over unmatched (decode.LineChunker).  Not reset: `snapshot` runs
        # this on a copy of the stats, and the last finish must count them too.
        stats.bytes += self.enc.passed_over + self._bytes_moved
        if self._last_buf:
            stats.lines = self._line_base + (0 if self._last_buf.endswith(b"\n") else 1)
            stats.encoding = self.enc.label
            # A cut-off last line, or a tail without timestamps (a stack trace), may fill the last
            # chunk: the log ends at the last line with a timestamp, however far back.
            ends = last_time(self.look_back.back_from(self._last_buf), self.clock, self.enc)
            if ends is not None and self.steps.found:
                # The clock went back in the file: it ends at its last line, not at the latest
                # local time it holds (a log that ends in the hour a fall-back repeats).
                stats.last_time = ends
            elif ends is not None:
                stats.last_time = max(ends, stats.last_time) if stats.last_time else ends
        stats.clock_steps = self.steps.found
        if self._headless and stats.first_time is None and stats.last_time is None and error is None:
            stats.skipped = Skipped(self.src.name, "not a BES log: no line has a BES timestamp")
        elif error is not None:
            reason = _describe(error)
            if stats.lines:
                stats.gaps.append(f"{reason}; lines 1-{stats.lines} were read, the rest is lost")
                stats.cut_short = True
            else:
                stats.skipped = Skipped(self.src.name, reason)
        elif not self._last_buf and not self.refused:
            stats.skipped = Skipped(self.src.name, "empty file")
        if stats.skipped is None:
            stats.gaps.extend(self.damage.describe(self.enc))
        stats.warnings.extend(
            f"{self.src.name}: pattern {pid} ran longer than {MATCH_TIMEOUT}s on {text!r} "
            "and was left out of the rest of the scan (catastrophic backtracking?)"
            for pid, text in self.dropped.items()
        )
        return stats

    def snapshot(self) -> FileStats:
        """The stats `finish` would give now, leaving the scanner open for more bytes (a live
        follower's view of a file still being written).  `finish` completes the stats in place,
        so it is run on a copy."""
        live = self.stats
        self.stats = replace(
            live, gaps=list(live.gaps), warnings=list(live.warnings), clock_steps=list(live.clock_steps)
        )
        try:
            stats = self.finish()
        finally:
            self.stats = live
        stats.clock_steps = list(stats.clock_steps)  # (finish hands over the step finder's own list)
        return stats

    def _chunk(self, buf: bytes, events: list[Event]) -> None:
        """Match one chunk of whole lines."""
        stats = self.stats
        # Every byte of the stream is in one buffer, but for a BOM and what `LineChunker` passed
        # over (an over-long line's middle): the buffer begins after the buffers before it
        # (``stats.bytes`` so far) and those.
        enc = self.enc
        self._chunk_at = (
            None if self._chunker.transcodes or self._unwrapped
            else stats.bytes + enc.passed_over + (len(BOM_UTF8) if enc.name == "utf-8-sig" else 0)
        )  # fmt: skip
        stats.bytes += len(buf)
        if self._last_buf:
            self.look_back.remember(self._last_buf)
        # The prefilter and the newline count are the only passes over every byte: the lines
        # before the last candidate are counted on the way to it (`_candidates`), the rest here.
        found = self.matcher.candidates(buf)
        counted, upto = self._candidates(buf, found, events) if found else (0, 0)
        newlines = counted + buf.count(b"\n", upto)
        self.damage.note(buf, self._line_base, self.enc)
        self.steps.see(buf, self._line_base, newlines)
        self._line_base += newlines
        self._last_buf = buf

    def _one(self, text: str) -> str:
        """One string object for equal texts: a mailbox the service account cannot open is logged
        with the same words on every poll, and a dense log holds an event per line (the text is
        most of an event's size)."""
        return self._strings.setdefault(text, text)

    def _maybe(self, text: str | None) -> str | None:
        return None if text is None else self._one(text)

    def _search(self, p: Pattern, text: str) -> regex.Match[str] | None:
        # A dense log repeats the same bodies (a mailbox error for each idle user on every
        # poll): a record's body is searched once per pattern.  Dates (role "date") are tried
        # on the whole line, timestamp included, which never repeats.
        if p.role is not None:
            return self.matcher.search(p, text, self.dropped)
        return _memo(self._searched, (p.id, text), lambda: self.matcher.search(p, text, self.dropped))

    def _candidates(
        self, buf: bytes, found: list[tuple[int, int, tuple[int, ...]]], events: list[Event]
    ) -> tuple[int, int]:
        """The lines of a chunk that may hold a pattern.  A line with a plain header whose
        candidate patterns, user and body an earlier line of the file had is read from its
        header alone (`_again`); any other is parsed (`_line`).  One loop with its names bound:
        a dense log runs it for every matched line.  Gives the newlines before the last line's
        start, and that start."""
        count, base, known_of, dates, plain_header = (
            buf.count,
            self._line_base,
            self._known.get,
            self._dates,
            PLAIN_HEADER.match,
        )
        newlines_before = prev = 0
        for start, end, pattern_ids in found:
            newlines_before += count(b"\n", prev, start)
            prev = start
            line_no = base + newlines_before + 1
            raw = buf[start:end]
            key = None
            plain = plain_header(raw) if raw.isascii() else None
            if plain is not None and dates.isdisjoint(pattern_ids):
                fields = plain.groups()
                key = (pattern_ids, fields[7], fields[8])
                known = known_of(key, _UNKNOWN)
                if known is not _UNKNOWN and self._again(fields, known, line_no, start):  # type: ignore[arg-type]
                    continue
            self._line(raw, buf, start, pattern_ids, line_no, events, key)
        return newlines_before, prev

    def _line(
        self,
        raw: bytes,
        buf: bytes,
        start: int,
        pattern_ids: tuple[int, ...],
        line_no: int,
        events: list[Event],
        key: _Key | None,
    ) -> None:
        """Parse and match one line (``raw``, at ``start`` in ``buf``); ``key``: the line's place
        in `_known` when it has a plain header, so that the next line like it need not be parsed."""
        text = decode_line(raw, self.enc)
        patterns = [self.matcher.library.patterns[i] for i in pattern_ids]
        found = match_line(text, patterns, self.clock, self._search)
        if found.date is not None:
            day = date_of(found.date)
            if day is not None:
                self.clock.reanchor(day)
            return
        hits = {i: (p, m) for i, p, m in found.hits}
        for i, line in enumerate(found.records):
            self._note_time(line.time)
            self.owners.saw(line)
            if i in hits:
                p, m = hits[i]
                if p.id in self._loose:
                    held = self._hold(p, m, line, line_no, buf, start)
                    if key is not None and len(found.records) == 1:
                        _remember(self._known, key, held)
                else:
                    events.append(self._event(p, m, line, line_no, buf, start))
            elif key is not None and len(found.records) == 1:
                _remember(self._known, key, None)
        if hits:
            self.stats.matched += 1
        elif not found.records:
            self.stats.unparsed += 1

    def _again(
        self, fields: tuple[bytes, ...], known: tuple[Run, str] | None, line_no: int, start: int
    ) -> bool:
        """A line (at ``start`` in the chunk) whose body (and user, and candidate patterns) an
        earlier line of the file had, read from its header alone (``fields``: `PLAIN_HEADER`'s
        groups): its time and thread, and the run it adds to (``known``), or None when it matches
        nothing.  False when its time is no time (`parse_line` then says so)."""
        mon, day, h, mi, s, ms, tid, user, _ = fields
        when = header_time(self.clock, mon, day, h, mi, s, int(ms) * 1000)
        if when is None:
            return False
        thread = self._threads.get(tid)
        if thread is None:
            thread = tid.decode().upper()
            _remember(self._threads, tid, thread)
        stats = self.stats  # (`_note_time`, inline)
        if stats.first_time is None or when < stats.first_time:
            stats.first_time = when
        if stats.last_time is None or when > stats.last_time:
            stats.last_time = when
        if user is not None:
            name = self._users.get(user)
            if name is None:
                name = user.decode().strip()
                _remember(self._users, user, name)
            self.owners.saw_user(thread, name, when)
        if known is not None:
            run, text = known
            run.add(when, line_no, self._offset(start), thread, text)
            stats.matched += 1
        return True

    def _hold(
        self, p: Pattern, m: regex.Match[str], line: LogLine, line_no: int, buf: bytes, start: int
    ) -> tuple[Run, str]:
        """Add a line of a `loose` pattern to its run (as an event if it is the run's first);
        the run and the text its lines keep."""
        names = self._names(p, m, line)
        run = self._runs.get((p.id, names))
        if run is None:
            run = self._runs[p.id, names] = Run(self._event(p, m, line, line_no, buf, start))
            return run, run.first.text
        text = self._one(clip(line.body, _TEXT_LIMIT))
        run.add(line.time, line_no, self._offset(start), self._maybe(line.thread), text)
        return run, text

    def _offset(self, start: int) -> int | None:
        """Where the line at ``start`` in the chunk being matched begins in the source's bytes."""
        return None if self._chunk_at is None else self._chunk_at + start

    @property
    def runs(self) -> tuple[Run, ...]:
        return tuple(self._runs.values())

    def _note_time(self, when: datetime) -> None:
        stats = self.stats
        if stats.first_time is None or when < stats.first_time:
            stats.first_time = when
        if stats.last_time is None or when > stats.last_time:
            stats.last_time = when

    def _names(self, p: Pattern, m: regex.Match[str], line: LogLine) -> _Names:
        return _memo(self._named, (p.id, line.body, line.user), lambda: _names_of(m, line.user))

    def _event(
        self, p: Pattern, m: regex.Match[str], line: LogLine, line_no: int, buf: bytes, start: int
    ) -> Event:
        email, display, user_id = self._names(p, m, line)
        identity_from = None
        if p.inherit_user and not (email or display or user_id) and (line.thread or p.inherit_from):
            if p.inherit_from is not None:
                owner = self.owners.milestone_owner(line, p.inherit_from)
            else:
                owner = self.owners.owner(line, buf, start, self.look_back)
            if owner is not None:
                identity_from = "thread" if line.thread else "file_order"
                if "@" in owner:
                    email = owner
                else:
                    display = owner
        self.owners.saw_milestone(p.milestone, email or display, line)
        where, what = self._fixed.get(p.id) or self._fixed_of(p)
        # (made from one tuple: the fields in `Event`'s order; keywords cost more than the tuple)
        return _make_event((
            line.time, *where, line_no, *what,
            self._maybe(clean_address(email)), user_id, self._maybe(clean_name(display)),
            self._maybe(line.thread), self._one(clip(line.body, _TEXT_LIMIT)), identity_from, p.resumes, None,
            self._offset(start),
        ))  # fmt: skip

    def _fixed_of(self, p: Pattern) -> _Fixed:
        """The fields of every event of pattern ``p`` in this file that neither its line nor its
        user changes: (server, service, file) and (pattern, stage, milestone, error, kb, opens)."""
        milestone = self.matcher.library.milestones.get(p.milestone) if p.milestone else None
        info = self.src.info
        fixed = self._fixed[p.id] = (
            (info.server, info.service or p.service, self.src.name),
            (p.id, milestone.stage if milestone else p.stage, p.milestone, p.error, p.kb, p.opens_attempt),
        )
        return fixed


def _names_of(m: regex.Match[str], user: str | None) -> _Names:
    """The raw address, display name and user id a matched record names: the pattern's groups,
    else the header's ``{user}``."""
    email = m.group("email") if "email" in m.re.groupindex else None
    display = m.group("display_name") if "display_name" in m.re.groupindex else None
    user_id = m.group("user_id") if "user_id" in m.re.groupindex else None
    if user:
        if "@" in user:
            email = email or user
        else:
            display = display or user
    return email or None, display or None, user_id or None


FIRST_BLOCK = max(CHUNK_SIZE, SNIFF_SIZE)


def read_blocks(stream: BinaryIO) -> Iterator[bytes]:
    """A stream's bytes in blocks of `CHUNK_SIZE` (the first `FIRST_BLOCK`)."""
    block = stream.read(FIRST_BLOCK)
    while block:
        yield block
        block = stream.read(CHUNK_SIZE)


def scan_source(
    src: Source,
    matcher: Matcher,
    *,
    year: int | None,
    default_year: int,
    thread_window: timedelta,
    max_expand: float = DEFAULT_MAX_EXPAND,
    stop: threading.Event | None = None,
    tars: TarReader | None = None,
    compact: bool = True,
) -> FileResult:
    """Read one source whole and return the events it holds and what reading it cost.

    ``stop``: set when the run is interrupted (Ctrl-C) while this scan runs in a worker thread,
    which no signal reaches; the scan raises KeyboardInterrupt before its next block (a block
    takes milliseconds), so that the interpreter, which joins its worker threads at exit, exits
    at once instead of after the files are read (issue 15: 32.7 s).

    A plain file that ends before the size it had when it was found (`Source.size`) shrank while
    it was read (truncated by a rotation, overwritten): it is reported cut short, not whole.
    ``tars`` keeps a tar archive open for its next member (`read.open_source`)."""
    scanner = FileScanner(
        src,
        matcher,
        year=year,
        default_year=default_year,
        thread_window=thread_window,
        compact=compact,
    )
    events: list[Event] = []
    error: BaseException | None = None
    first = last = b""
    inflating = False
    try:
        with open_source(src, max_expand=max_expand, tars=tars) as stream:
            inflating = isinstance(stream, Gunzip)
            read = 0
            for block in read_blocks(stream):
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt
                last = block
                read += len(block)
                if not first:
                    first = block
                    # (the whole input, and no log by a BES's name: an excerpt, maybe wrapped)
                    if len(block) < FIRST_BLOCK and src.info.service is None:
                        block = scanner.unwrapped(block)
                events += scanner.feed(block)
                if scanner.refused:
                    break
            else:
                events += scanner.feed(b"", final=True)
                # (Gzip data cut short is told by its missing end marker, `Gunzip`; its size here
                # is the inflated one.)
                if src.member is None and not src.stdin and not inflating and read < src.size:
                    error = EOFError(
                        f"the file shrank while it was read ({src.size:,} bytes when found, {read:,} read)"
                    )
    except READ_ERRORS as e:
        error = e
    stats = scanner.finish(error)
    # (gzip data is compared as stored: `find_duplicates` hashes it apart, if another has its size)
    probed = first and error is None and not inflating and not src.stdin
    return FileResult(
        tuple(events), stats, scanner.owners.tail, scanner.fresh_start, scanner.runs,
        probe(first, last) if probed else None,
    )  # fmt: skip


def _describe(e: BaseException) -> str:
    """What broke off the reading, for the file's one-line message."""
    if isinstance(e, OSError) and e.strerror:
        return os_reason(e)
    text = str(e) or type(e).__name__
    return text[0].lower() + text[1:]


_K = TypeVar("_K")
_V = TypeVar("_V")


def _memo(table: dict[_K, _V], key: _K, make: Callable[[], _V]) -> _V:
    """``table[key]``, made by ``make`` the first time; the table starts over past `_MEMO_LIMIT`
    entries (bounded memory, whatever the log)."""
    try:
        return table[key]
    except KeyError:
        pass
    if len(table) >= _MEMO_LIMIT:
        table.clear()
    value = table[key] = make()
    return value


def _remember(table: dict[_K, _V], key: _K, value: _V) -> None:
    """``table[key] = value``, starting the table over past `_MEMO_LIMIT` entries."""
    if len(table) >= _MEMO_LIMIT:
        table.clear()
    table[key] = value
