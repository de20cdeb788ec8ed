"""Matching: one source's chunks to Events, parsing only the lines a prefilter literal hits."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import regex

from bes_logdiag.model import Event, FileStats, LogLine, Skipped
from bes_logdiag.parse import BES_LINE_BYTES, YearClock, parse_line, split_records
from bes_logdiag.patterns import MATCH_TIMEOUT, Library, Pattern, in_quotes, runaway_patterns, search
from bes_logdiag.prefilter import (
    BOM,
    Prefilter,
    Probe,
    derive_probes,
    literal_probes,
    make_prefilter,
)
from bes_logdiag.read import (
    LONG_LINE,
    READ_ERRORS,
    Encoding,
    Source,
    decode_line,
    open_source,
    read_chunks,
)

SNIFF_BYTES = 64 * 1024
_LOOKBACK_LINES = 400
"""At most this many earlier lines of a thread are read to find who a user-less line belongs to."""


@dataclass(frozen=True)
class FileResult:
    events: tuple[Event, ...]
    stats: FileStats


class Matcher:
    """The compiled library and its prefilter: built once per process, used for every file.

    The prefilter reports the lines that hold one of a pattern's probes (`prefilter.derive_probes`);
    of those, a line is a candidate for the pattern when it also holds one of the pattern's
    declared literals.  Both are necessary for a match, so the candidates are exactly the lines
    that hold a declared literal, less those where the regex cannot match.
    """

    def __init__(self, library: Library, engine: str = "auto") -> None:
        self.library = library
        patterns_of: dict[Probe, list[int]] = {}
        for pi, p in enumerate(library.patterns):
            probes = derive_probes(p.regex.pattern) or literal_probes(p.prefilter)
            for probe in probes:
                patterns_of.setdefault(probe, []).append(pi)
        patterns_of.setdefault(Probe((BOM,)), [])
        self.probes: tuple[Probe, ...] = tuple(patterns_of)
        self._patterns_of = tuple(tuple(ids) for ids in patterns_of.values())
        self._bom = self.probes.index(Probe((BOM,)))
        self._literals = tuple(p.prefilter for p in library.patterns)
        self.prefilter: Prefilter = make_prefilter(self.probes, engine)

    def candidates(self, buf: bytes) -> list[tuple[int, int, tuple[int, ...]]]:
        """``(line start, line end, pattern indexes)`` for every line that may hold a pattern."""
        hits = self.prefilter.scan(buf)
        if not hits:
            return []
        lines: dict[int, set[int]] = {}
        rfind, patterns_of, bom = buf.rfind, self._patterns_of, self._bom
        for off, probe in hits:
            start = rfind(b"\n", 0, off) + 1
            ids = lines.get(start)
            if ids is None:
                ids = lines[start] = set()
            if probe == bom:  # a BOM can split a probe's run: try every pattern
                ids.update(range(len(self._literals)))
            else:
                ids.update(patterns_of[probe])
        out = []
        find, literals = buf.find, self._literals
        for start in sorted(lines):
            end = find(b"\n", start)
            if end < 0:
                end = len(buf)
            line = buf[start:end]
            keep = tuple(i for i in sorted(lines[start]) if any(lit in line for lit in literals[i]))
            if keep:
                out.append((start, end, keep))
        return out


def check_prefilter(library: Library, engine: str = "auto") -> list[str]:
    """Every example line the scan's prefilter would drop before its pattern sees it.

    The prefilter needs a declared literal and the probes derived from the regex; a regex whose
    probes were derived wrongly would silently never match in a scan, though it matches its examples.
    """
    matcher = Matcher(library, engine)
    problems = []
    for index, p in enumerate(library.patterns):
        for example in p.examples:
            lines = matcher.candidates(example.encode("utf-8") + b"\n")
            if not any(index in ids for _, _, ids in lines):
                problems.append(f"{p.source}: pattern {p.id}: the scan's prefilter drops example {example!r}")
    return problems


def scan_source(
    src: Source,
    matcher: Matcher,
    *,
    year: int | None,
    default_year: int,
    thread_window: timedelta,
    stream_data: bytes | None = None,
) -> FileResult:
    """Read one source and return the events it holds and what reading it cost."""
    stats = FileStats(path=src.name, info=src.info)
    events: list[Event] = []
    dropped_before = runaway_patterns()
    reading = _Reading(src, matcher, stats, events, year, default_year, thread_window)
    try:
        if stream_data is not None:
            import io

            _scan_stream(io.BytesIO(stream_data), reading)
        else:
            with open_source(src) as stream:
                _scan_stream(stream, reading)
    except READ_ERRORS as e:
        reason = _describe(e)
        if stats.lines:
            stats.gaps.append(f"{reason}; lines 1-{stats.lines} were read, the rest is lost")
            stats.cut_short = True
        else:
            stats.skipped = Skipped(src.name, reason)
    if stats.skipped is None:
        stats.gaps.extend(reading.damage.describe(reading.enc))
    for pid, text in runaway_patterns().items():
        if pid not in dropped_before:
            stats.warnings.append(
                f"{src.name}: pattern {pid} ran longer than {MATCH_TIMEOUT}s on {text!r} "
                "and was left out of the rest of the scan (catastrophic backtracking?)"
            )
    return FileResult(tuple(events), stats)


ZIP_MAGIC = b"PK\x03\x04"


def _not_a_log(head: bytes) -> str:
    if head.startswith(ZIP_MAGIC):
        return "a zip archive inside an archive, or without the .zip name: unpack it first"
    return "not a BES log: no line in its first 64 KiB has a BES timestamp"


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower() if e.strerror else str(e)
    text = str(e) or type(e).__name__
    return text[0].lower() + text[1:] if text else text


class _FileState:
    """What matching one file remembers between lines: its year clock and who each thread served."""

    def __init__(self, src: Source, year: int | None, default_year: int) -> None:
        anchor = src.info.day
        if year is not None and anchor is None:
            self.clock = YearClock(None, year)
        else:
            self.clock = YearClock(anchor, default_year if anchor is None else anchor.year)
        self.thread_user: dict[str, tuple[str, datetime]] = {}
        self.recent: deque[bytes] = deque()
        """The chunks read before the current one, newest last, up to `LOOKBACK_BYTES`: where
        `_thread_owner` and `_last_time` look back, so that where a read block ends never matters."""
        self._recent_bytes = 0

    def remember(self, chunk: bytes) -> None:
        self.recent.append(chunk)
        self._recent_bytes += len(chunk)
        while self._recent_bytes > LOOKBACK_BYTES and len(self.recent) > 1:
            self._recent_bytes -= len(self.recent.popleft())

    def back_from(self, newest: bytes) -> list[bytes]:
        """`newest` and then the remembered chunks, newest first (each once)."""
        return [newest, *(c for c in reversed(self.recent) if c is not newest)]


LOOKBACK_BYTES = 1024 * 1024
"""How far back (in the same file) the owner of a user-less line and the end of a log are looked
for: 4 chunks, about 10 minutes of the benchmark's busy Messaging Agent log, twice the 5-minute
owner window.  Keeping 16 chunks instead made reading 8% slower (the chunks no longer stay in the
CPU's cache and malloc's free lists): benchmarks/README.md."""


CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
"""The bytes that mean nothing in cp1252: outside valid UTF-8 they are damage, not text."""


class _Damage:
    """What in a file is not log text: NUL runs, bytes no encoding explains, over-long lines.

    Each check is one C-speed test per chunk (``in``, ``isascii``); only a chunk that fails it is
    looked at line by line.
    """

    def __init__(self) -> None:
        self.nul = self.nul_line = 0
        self.bad = self.bad_line = 0
        self.long_line = 0

    def note(self, buf: bytes, line_base: int, enc: Encoding, long_pieces: int) -> None:
        if b"\0" in buf:
            if not self.nul:
                self.nul_line = line_base + buf.count(b"\n", 0, buf.find(b"\0")) + 1
            self.nul += buf.count(b"\0")
        if not buf.isascii() and not enc.name.startswith("utf-16"):
            self._undecodable(buf, line_base)
        if enc.long_lines > long_pieces and not self.long_line:
            self.long_line = line_base + 1

    def _undecodable(self, buf: bytes, line_base: int) -> None:
        try:
            buf.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
        if not any(b in buf for b in CP1252_UNDEFINED):
            return  # cp1252 text, or UTF-8 and cp1252 lines mixed: all of it decodes
        for i, raw in enumerate(buf.split(b"\n")):
            if any(b in raw for b in CP1252_UNDEFINED):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    self.bad_line = self.bad_line or line_base + i + 1
                    self.bad += sum(raw.count(b) for b in CP1252_UNDEFINED)

    def describe(self, enc: Encoding) -> list[str]:
        out = []
        if self.nul:
            where = f"from line {self.nul_line}"
            out.append(f"{self.nul:,} NUL bytes {where} (a copy taken while the server wrote?)")
        if self.bad:
            where = f"from line {self.bad_line}"
            out.append(f"{self.bad:,} bytes that are neither UTF-8 nor cp1252 {where}, read as U+FFFD")
        if enc.replaced:
            out.append(f"invalid {enc.name.upper()} in {enc.replaced:,} place(s), read as U+FFFD")
        if self.long_line:
            out.append(f"a line over {LONG_LINE // 2**20} MiB long at line {self.long_line} (not log text)")
        return out


@dataclass
class _Reading:
    """One file's reading: where it comes from, what it gathers, how it is decoded."""

    src: Source
    matcher: Matcher
    stats: FileStats
    events: list[Event]
    year: int | None
    default_year: int
    thread_window: timedelta
    enc: Encoding = field(default_factory=Encoding)
    damage: _Damage = field(default_factory=_Damage)


def _scan_stream(stream: object, reading: _Reading) -> None:
    src, matcher, stats, events = reading.src, reading.matcher, reading.stats, reading.events
    year, default_year, thread_window = reading.year, reading.default_year, reading.thread_window
    enc, damage = reading.enc, reading.damage
    state = _FileState(src, year, default_year)
    candidates = matcher.candidates
    line_base = 0
    first = True
    last_buf = b""
    long_pieces = 0
    try:
        for buf in read_chunks(stream, enc):  # type: ignore[arg-type]
            if first:
                first = False
                if buf.startswith(ZIP_MAGIC) or not BES_LINE_BYTES.search(buf, 0, SNIFF_BYTES):
                    stats.skipped = Skipped(src.name, _not_a_log(buf))
                    stats.bytes = len(buf)
                    return
                stats.first_time = _first_time(buf, _FileState(src, year, default_year).clock)
            stats.bytes += len(buf)
            if last_buf:
                state.remember(last_buf)
            # The prefilter and the newline count are the only passes over every byte.
            found = candidates(buf)
            if found:
                count = buf.count
                newlines_before = 0
                prev = 0
                for start, end, pattern_ids in found:
                    newlines_before += count(b"\n", prev, start)
                    prev = start
                    _match_line(buf, start, end, pattern_ids, line_base + newlines_before + 1, src,
                                matcher, state, enc, stats, events, thread_window)  # fmt: skip
            damage.note(buf, line_base, enc, long_pieces)
            long_pieces = enc.long_lines
            line_base += buf.count(b"\n")
            last_buf = buf
    finally:
        # Also when the stream breaks off part way: the report says what was read.
        if last_buf:
            stats.lines = line_base + (0 if last_buf.endswith(b"\n") else 1)
            stats.encoding = enc.label
            # A cut-off last line, or a tail without timestamps (a stack trace), may fill the last
            # chunk: the log ends at the last line with a timestamp, however far back.
            ends = _last_time(state.back_from(last_buf), state.clock, enc)
            if ends is not None:
                stats.last_time = max(ends, stats.last_time) if stats.last_time else ends
    if first:
        stats.skipped = Skipped(src.name, "empty file")


def _match_line(
    buf: bytes,
    start: int,
    end: int,
    pattern_ids: tuple[int, ...],
    line_no: int,
    src: Source,
    matcher: Matcher,
    state: _FileState,
    enc: Encoding,
    stats: FileStats,
    events: list[Event],
    thread_window: timedelta,
) -> None:
    text = decode_line(buf[start:end], enc)
    patterns = [matcher.library.patterns[i] for i in pattern_ids]
    for p in patterns:
        if p.role == "date":
            m = search(p, text)
            if m is not None and not in_quotes(text, m.start()):
                _reanchor(state.clock, m)
                return
    matched = False
    parsed_any = False
    for record in split_records(text):
        line = parse_line(record, state.clock)
        if line is None:
            continue
        parsed_any = True
        _note_time(stats, line.time)
        if line.user and line.thread:
            state.thread_user[line.thread] = (line.user, line.time)
        for p in patterns:
            if p.role is not None:
                continue
            m = search(p, line.body)
            if m is None or in_quotes(line.body, m.start()):
                continue
            events.append(_event(p, m, line, line_no, src, matcher, state, buf, start, thread_window))
            matched = True
            break
    if matched:
        stats.matched += 1
    elif not parsed_any:
        stats.unparsed += 1


def _reanchor(clock: YearClock, m: regex.Match[str]) -> None:
    try:
        clock.reanchor(datetime(int(m["year"]), int(m["month"]), int(m["day"])))
    except (ValueError, IndexError):
        pass


def _note_time(stats: FileStats, when: datetime) -> None:
    if stats.first_time is None or when < stats.first_time:
        stats.first_time = when
    if stats.last_time is None or when > stats.last_time:
        stats.last_time = when


def _event(
    p: Pattern,
    m: regex.Match[str],
    line: LogLine,
    line_no: int,
    src: Source,
    matcher: Matcher,
    state: _FileState,
    buf: bytes,
    start: int,
    thread_window: timedelta,
) -> Event:
    groups = {k: v for k, v in m.groupdict().items() if v}
    email = groups.get("email")
    display = groups.get("display_name")
    if line.user:
        if "@" in line.user:
            email = email or line.user
        else:
            display = display or line.user
    user_id = groups.get("user_id")
    identity_from = None
    if p.inherit_user and not (email or display or user_id) and line.thread:
        owner = _thread_owner(buf, start, line, state, thread_window)
        if owner is not None:
            identity_from = "thread"
            if "@" in owner:
                email = owner
            else:
                display = owner
    milestone = matcher.library.milestones.get(p.milestone) if p.milestone else None
    return Event(
        time=line.time,
        server=src.info.server,
        service=src.info.service or p.service,
        file=src.name,
        line=line_no,
        pattern_id=p.id,
        stage=milestone.stage if milestone else p.stage,
        milestone=p.milestone,
        error=p.error,
        kb=p.kb,
        opens_attempt=p.opens_attempt,
        resumes=p.resumes,
        email=email.strip().lower() if email else None,
        user_id=user_id,
        display_name=" ".join(display.split()) if display else None,
        thread=line.thread,
        text=_clip(f"{line.body}"),
        identity_from=identity_from,
    )


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _thread_owner(buf: bytes, start: int, line: LogLine, state: _FileState, window: timedelta) -> str | None:
    """The user last named on the same thread of the same file, within ``window`` before the line.

    The KEY_ACCEPT line names no user (BES-LOGS.md section 3).  The lines before it on its thread
    are found by searching backwards for the thread id, in any of its spellings (``0x``, ``0×``,
    either case), in this chunk and the ones before it (`LOOKBACK_BYTES`), so the noise lines
    between hits never have to be parsed and where a read block ends does not matter.  A physical
    line may hold several records (pasted from a table): each is looked at, and on the line itself
    only the records before this one.  Older lines are covered by the owners remembered from
    matched lines.
    """
    if not line.thread:
        return None
    token = _thread_token(line.thread)
    clock = YearClock(line.time, line.time.year)
    budget = _LOOKBACK_LINES
    own_end = buf.find(b"\n", start)
    own_end = len(buf) if own_end < 0 else own_end
    for chunk in state.back_from(buf):
        pos = own_end if chunk is buf else len(chunk)
        while budget:
            budget -= 1
            m = token.search(chunk, 0, pos)
            if m is None:
                break
            ls = chunk.rfind(b"\n", 0, m.start()) + 1
            le = chunk.find(b"\n", m.start())
            pos = ls
            records = [parse_line(r, clock) for r in split_records(
                decode_line(chunk[ls : le if le >= 0 else len(chunk)], Encoding()))]  # fmt: skip
            earlier_records = [r for r in records if r is not None]
            if chunk is buf and ls == start:  # the line itself: only the records before this one
                mine = (line.time, line.thread, line.body)
                cut = next((i for i, r in enumerate(earlier_records)
                            if (r.time, r.thread, r.body) == mine), len(earlier_records))  # fmt: skip
                earlier_records = earlier_records[:cut]
            for earlier in reversed(earlier_records):
                if earlier.thread != line.thread:
                    continue
                if line.time - earlier.time > window:
                    return None
                if earlier.user:
                    return earlier.user
        if not budget:  # a long run of its thread's lines that name nobody: what was remembered
            break
    remembered = state.thread_user.get(line.thread)
    if remembered is not None and timedelta(0) <= line.time - remembered[1] <= window:
        return remembered[0]
    return None


@functools.lru_cache(maxsize=256)
def _thread_token(thread: str) -> regex.Pattern[bytes]:
    """A backwards search for ``{0x<thread>}`` as the raw bytes may spell it: ``0×`` in UTF-8 or
    cp1252, spaces inside the braces, leading zeros, either case of the hex digits."""
    digits = regex.escape(thread.lstrip("0") or "0").encode()
    return regex.compile(rb"\{\s*0(?:x|\xc3\x97|\xd7)0*" + digits + rb"\s*\}",
                         regex.IGNORECASE | regex.REVERSE)  # fmt: skip


def _first_time(buf: bytes, clock: YearClock) -> datetime | None:
    """The timestamp of the file's first parseable line: where its log starts.

    Read from the head of the first chunk, so it does not depend on which lines the prefilter
    picks (the lines in between are never parsed).
    """
    start = 0
    for _ in range(200):
        if start >= len(buf):
            break
        end = buf.find(b"\n", start)
        end = len(buf) if end < 0 else end + 1
        raw = buf[start:end]
        start = end
        if not BES_LINE_BYTES.search(raw):
            continue
        line = parse_line(decode_line(raw, Encoding()), clock)
        if line is not None:
            return line.time
    return None


_LAST_STAMP = regex.compile(BES_LINE_BYTES.pattern, regex.REVERSE)


def _last_time(chunks: list[bytes], clock: YearClock, enc: Encoding) -> datetime | None:
    """The timestamp of the last parseable line in `chunks` (newest first): where a log ends.

    Searches backwards for the timestamp itself, so lines without one (a stack trace, a cut-off
    line) cost nothing to pass over; gives up after 200 timestamps that do not parse.
    """
    tries = 200
    for chunk in chunks:
        end = len(chunk)
        while tries:
            m = _LAST_STAMP.search(chunk, 0, end)
            if m is None:
                break
            tries -= 1
            start = chunk.rfind(b"\n", 0, m.start()) + 1
            stop = chunk.find(b"\n", m.end())
            line = parse_line(decode_line(chunk[start : stop if stop >= 0 else len(chunk)], enc), clock)
            if line is not None:
                return line.time
            end = start
    return None


def iter_events(results: list[FileResult]) -> Iterator[Event]:
    for r in results:
        yield from r.events
