"""The live scan: what the follower reads is fed to each file's scanner, the report is rebuilt from
the scanners' results as they stand, and stalls are judged by the newest line of each server plus
the wall time since it was read.

Clock (issue 16): a BES writes all the time, so the newest line of a server says what time it is
there; between two of its lines, the wall time that passed since the newest was read is added
(`time.monotonic`: never the time zone or the clock of the machine running the tool).  When a
server's logs stay still for longer than ``silent_after``, that server is *silent*: the time added
stops there, so that a log collection that broke off, or a stopped service, is told as such
rather than as every activation on that server stalling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bes_logdiag.changes import Change, diff_reports
from bes_logdiag.decode import CHUNK_SIZE
from bes_logdiag.errors import InputError, UsageError
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
from bes_logdiag.filescan import FileResult, FileScanner, scan_source
from bes_logdiag.follow import Follower, newest_day
from bes_logdiag.ignore import activation_services, ignore_reason, read_last_time
from bes_logdiag.inflate import GZIP_MAGIC
from bes_logdiag.library import Library
from bes_logdiag.match import Matcher
from bes_logdiag.model import Event, FileStats, Ignored, Report, Skipped, Status
from bes_logdiag.parallel import fallback_year
from bes_logdiag.pattern_check import load_checked_library
from bes_logdiag.read import Source
from bes_logdiag.scan import report_from_results
from bes_logdiag.settings import ScanConfig
from bes_logdiag.usermap import MapEntry, load_user_map
from bes_logdiag.when import Span, When, logs_span, resolve
from bes_logdiag.words import plural

WINDOW = timedelta(hours=24)
"""What is read at the start without ``--since``: the last 24 hours of log time."""
SILENT_AFTER = timedelta(minutes=5)
"""A server whose logs have not grown for this long is silent (see the module's docstring)."""


@dataclass
class _Open:
    """A file being followed: its scanner, the events it gave, and its stats as they stand."""

    scanner: FileScanner
    events: list[Event] = field(default_factory=list)
    stats: FileStats | None = None
    """None when bytes were fed since it was last taken (`FileScanner.snapshot`)."""


class LiveScan:
    """The state of a scan fed as the logs grow: `apply` the follower's changes, ask for the
    `report` as it stands."""

    def __init__(
        self,
        config: ScanConfig,
        library: Library,
        *,
        user_map: Sequence[MapEntry] = (),
        map_notes: Sequence[str] = (),
        cutoff: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
        silent_after: timedelta = SILENT_AFTER,
    ) -> None:
        self.config = config
        self.library = library
        self.matcher = Matcher(library, config.engine)
        self._user_map = list(user_map)
        self._map_notes = list(map_notes)
        self._services = activation_services(library)
        self.cutoff = cutoff
        """Files of a day before this one are not read (``--since``, or the 24 hours)."""
        self._clock = clock
        self._silent = silent_after.total_seconds()
        self._default_year = config.year or fallback_year()
        self._open: dict[str, _Open] = {}
        self._done: list[FileResult] = []
        self._skipped: dict[str, Skipped] = {}
        self._ignored: dict[str, Ignored] = {}
        self._seen: dict[str | None, tuple[datetime, float]] = {}
        self.left_out = 0
        """Files not read because they are older than `cutoff`."""
        self.dirty = True
        """Something changed that the report does not show yet."""

    # -- what the follower reports ---------------------------------------------------------------

    def mode_of(self, src: Source) -> Mode:
        """How a file is followed: an activation log byte by byte, another service's BES log for
        its last line only, gzip data whole once; files of days before `cutoff` not at all."""
        day = src.info.day
        if self.cutoff is not None and day is not None and day < self.cutoff:
            self.left_out += 1
            return Mode.SKIP
        reason = ignore_reason(src, self._services)
        if reason is not None:
            self._ignored[src.name] = Ignored(src.name, reason, src.info.server)
            return Mode.SIZE if src.info.server is not None and day is not None else Mode.SKIP
        return Mode.WHOLE if _is_gzip(src) else Mode.READ

    def apply(self, changes: Iterable[FileChange]) -> list[str]:
        """Feed what the follower found; returns what to tell the user (each once)."""
        notes: list[str] = []
        now = self._clock()
        fed: dict[str, Source] = {}
        for ch in changes:
            if isinstance(ch, Appended):
                op = self._open.get(ch.src.name) or self._start(ch.src)
                # In the batch scan's blocks: a scanner keeps its last block (and a few before
                # it) to look back into, so a 16 MiB read fed at once would be held whole.
                events = [e for at in range(0, len(ch.data), CHUNK_SIZE)
                          for e in op.scanner.feed(ch.data[at : at + CHUNK_SIZE])]  # fmt: skip
                op.events += events
                op.stats = None
                fed[ch.src.name] = ch.src
                cleared = self._skipped.pop(ch.src.name, None) is not None  # (read again: no longer skipped)
                self.dirty = self.dirty or bool(events) or cleared
            elif isinstance(ch, Found):
                if ch.mode is Mode.WHOLE:
                    self._read_whole(ch.src)
                elif ch.mode is Mode.READ:
                    self._start(ch.src)
            elif isinstance(ch, Grew):
                self._grew(ch.src, now)
            elif isinstance(ch, Restarted):
                self._finish(ch.src.name)
                self._start(ch.src)
                notes.append(f"{ch.src.name}: {ch.reason}: read again from its start")
            elif isinstance(ch, Closed):
                self._finish(ch.src.name)
                fed.pop(ch.src.name, None)
            elif isinstance(ch, Gone):
                notes.append(self._gone(ch))
            elif isinstance(ch, Returned):
                self._skipped.pop(ch.path, None)
                notes.append(f"{ch.path}: there again; followed on")
            elif isinstance(ch, Unreadable):
                self._skipped[ch.path] = Skipped(ch.path, ch.reason)
                self.dirty = True
        for name, src in fed.items():
            followed = self._open.get(name)
            if followed is not None:
                self._see(src.info.server, self._stats(followed).last_time, now)
        return notes

    def _start(self, src: Source) -> _Open:
        scanner = FileScanner(
            src,
            self.matcher,
            year=self.config.year,
            default_year=self._default_year,
            thread_window=self.config.thread_window,
        )
        op = self._open[src.name] = _Open(scanner)
        return op

    def _finish(self, name: str) -> None:
        """A file that will not grow again (closed, deleted, or about to be read anew)."""
        op = self._open.pop(name, None)
        if op is None:
            return
        op.events += op.scanner.feed(b"", final=True)
        stats = op.scanner.finish()
        if stats.bytes or stats.skipped is not None and stats.skipped.reason != "empty file":
            self._done.append(_result(op, stats))
        self.dirty = True

    def _read_whole(self, src: Source) -> None:
        c = self.config
        result = scan_source(
            src,
            self.matcher,
            year=c.year,
            default_year=self._default_year,
            thread_window=c.thread_window,
            max_expand=c.max_expand,
        )
        self._done.append(result)
        self._see(src.info.server, result.stats.last_time, self._clock())
        self.dirty = True

    def _grew(self, src: Source, now: float) -> None:
        old = self._ignored.get(src.name)
        last = read_last_time(src)
        self._ignored[src.name] = Ignored(src.name, old.reason if old else "", src.info.server, last)
        self._see(src.info.server, last, now)

    def _gone(self, ch: Gone) -> str:
        self._skipped.pop(ch.path, None)
        if ch.folder:
            held = f"; its {plural(len(ch.files), 'file')} followed on if it returns" if ch.files else ""
            return f"{ch.path}: the folder has disappeared (a network share that dropped?){held}"
        self._finish(ch.path)
        return f"{ch.path}: deleted or moved away while followed; what was read of it is kept"

    def forget_before(self, when: datetime) -> None:
        """Drop the files read whole whose last line is older than `when`: a watch left open for
        days keeps a window of the logs, not all it ever read."""
        kept = [r for r in self._done if r.stats.last_time is None or r.stats.last_time >= when]
        if len(kept) < len(self._done):
            self._done = kept
            self.dirty = True

    # -- the report ------------------------------------------------------------------------------

    def _stats(self, op: _Open) -> FileStats:
        if op.stats is None:
            op.stats = op.scanner.snapshot()
        return op.stats

    def results(self) -> list[FileResult]:
        """Every file's result as it stands: the finished ones, and the followed ones as far as
        they have been read (a file not yet known to be a log, or still empty, is left out)."""
        out = list(self._done)
        for op in self._open.values():
            stats = self._stats(op)
            if stats.bytes == 0:  # (`finish` calls a file nothing was fed yet "empty")
                continue
            out.append(_result(op, stats))
        return out

    def report(self) -> Report:
        """The report of everything read so far, its stalls judged by `ends`.  Raises
        `InputError` when nothing could be read."""
        results = self.results()
        ignored = list(self._ignored.values())
        report = report_from_results(
            results, list(self._skipped.values()), ignored, (), self.library, self.config,
            self._user_map, self._map_notes, log_end=self.ends(),
        )  # fmt: skip
        self.dirty = False
        return report

    def _see(self, server: str | None, last: datetime | None, now: float) -> None:
        if last is None:
            return
        seen = self._seen.get(server)
        if seen is None or last > seen[0]:
            wall = now
            if seen is not None:
                # The server's time never goes back (`ends`): lines that arrive late, older than
                # the time it had reached, leave it there; a stall is not undone by them.
                reached = self._reached(*seen, now)
                if reached > last:
                    wall = now - (reached - last).total_seconds()
            self._seen[server] = (last, wall)

    def _reached(self, last: datetime, wall: float, now: float) -> datetime:
        """A server's time: its newest line plus the wall time since it was read (at most
        ``silent_after``)."""
        return last + timedelta(seconds=min(max(now - wall, 0.0), self._silent))

    def ends(self, now: float | None = None) -> dict[str | None, datetime]:
        """Per server, the time it is there (`_reached`)."""
        now = self._clock() if now is None else now
        return {server: self._reached(last, wall, now) for server, (last, wall) in self._seen.items()}

    def silent(self, now: float | None = None) -> dict[str | None, tuple[datetime, timedelta]]:
        """The servers whose logs have not grown for longer than ``silent_after``: the time of
        their newest line, and for how long (wall time) nothing came."""
        now = self._clock() if now is None else now
        return {
            server: (last, timedelta(seconds=now - wall))
            for server, (last, wall) in self._seen.items()
            if now - wall > self._silent
        }


def _is_gzip(src: Source) -> bool:
    if src.name.lower().endswith(".gz"):
        return True
    try:
        with open(src.path, "rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError:
        return False  # reading it will say what is wrong


@dataclass(frozen=True)
class Tick:
    """What one look at the logs gave."""

    report: Report
    """Everything read so far (every activation: select for display)."""
    changes: tuple[Change, ...]
    """The activations' changes since the last tick, in log time order."""
    notes: tuple[str, ...]
    """What to tell the user: files unreadable, deleted, truncated; folders gone or back."""
    ends: dict[str | None, datetime]
    """Per server, the time it is there (`LiveScan.ends`)."""
    silent: dict[str | None, tuple[datetime, timedelta]]
    """The servers whose logs have stopped growing (`LiveScan.silent`)."""
    now: float
    """The wall clock of the tick (seconds, the watch's clock)."""


class Watch:
    """A live scan of ``config.paths``: `start` reads the logs of the window, then each `next`
    waits ``interval`` seconds, reads what was added and says what changed."""

    def __init__(
        self,
        config: ScanConfig,
        *,
        since: datetime | When | None = None,
        interval: float = 1.0,
        silent_after: timedelta = SILENT_AFTER,
        window: timedelta = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        library = load_checked_library(config.patterns)
        user_map, map_notes = load_user_map(config.users) if config.users else ([], [])
        newest = newest_day(config.paths)
        self._when = since if isinstance(since, When) else None
        """``--since`` as given: placed in the logs' time once they are read (`start`)."""
        if isinstance(since, When):
            # Before any line is read, the logs' newest day (by their names) stands for their
            # end: never later than the moment placed once they are read, less a day.
            ends = Span(newest, newest + timedelta(days=1)) if newest is not None else None
            try:
                since = resolve(since, ends)[0]
            except ValueError:  # (no year of the names has that day: said once the logs are read)
                since = None
        start = since if since is not None else (newest - window if newest is not None else None)
        # A day's file holds that day's lines (and, past midnight, a few of the next): files of
        # days before the one the window starts in cannot hold a line inside it.
        cutoff = datetime(start.year, start.month, start.day) - timedelta(days=1) if start else None
        self.state = LiveScan(
            config, library, user_map=user_map, map_notes=map_notes, cutoff=cutoff, clock=clock,
            silent_after=silent_after,
        )  # fmt: skip
        # How long a file must stay still before it counts as closed or truncated: a few polls.
        self.follower = Follower(config.paths, self.state.mode_of, clock=clock, settle=max(5 * interval, 0.2))
        self.since = since
        """Activations whose last progress is older are not shown (``--since``; when it was not
        given, 24 hours before the newest line, moving on as the logs grow)."""
        self._sliding = since is None
        self.interval = interval
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._report: Report | None = None
        self._built_at = 0.0
        self._cost = 0.0
        self._ends: dict[str | None, datetime] = {}

    def start(self) -> Tick:
        """Read what the logs hold (from the window's start); raises `InputError` when nothing
        could be read."""
        notes = self.state.apply(self.follower.poll())
        while self.follower.behind:
            notes += self.state.apply(self.follower.poll())
        report = self._rebuild()
        if self._when is not None:
            # ``09:00``, ``2h``, ``05/14 09:00``: on the logs' clock and calendar, as scan places
            # them, not the machine's (a host in another time zone saw nothing).
            span = logs_span(report)
            if span is not None:
                try:
                    self.since, placed = resolve(self._when, span)
                except ValueError as e:
                    raise UsageError(str(e)) from e
                notes += [placed] if placed else []
        if self.state.left_out:
            notes.append(
                f"{plural(self.state.left_out, 'file')} of days before {self.state.cutoff:%Y-%m-%d} "
                "not read (give --since to read further back)"
            )
        return self._tick((), notes)

    def next(self) -> Tick:
        """Wait for the next poll (not when the last one left bytes unread), read, and tell."""
        if not self.follower.behind:
            self._sleep(self.interval)
        notes = self.state.apply(self.follower.poll())
        changes: list[Change] = []
        if self._due():
            before = self._report
            try:
                changes = diff_reports(before, self._rebuild())
            except InputError:  # every file unreadable now: keep what was known
                pass
        return self._tick(tuple(changes), notes)

    def _rebuild(self) -> Report:
        started = self._clock()
        self._ends = self.state.ends(started)
        report = self.state.report()
        self._report = report
        self._built_at = self._clock()
        self._cost = self._built_at - started
        if self._sliding and report.log_end:
            self.since = max(report.log_end.values()) - self._window
            # (a day's margin: a file that ended before the window may hold the start of an
            # activation still in it)
            self.state.forget_before(self.since - timedelta(days=1))
        return report

    def _due(self) -> bool:
        """Whether the report must be rebuilt: something was read, or an activation under way
        passed its stage's threshold since the last one.  A rebuild costs time in proportion to
        the lines matched in the window: at most a fifth of the time goes to rebuilding."""
        now = self._clock()
        if self._report is None:
            return True
        if now - self._built_at < 4 * self._cost:
            return False
        if self.state.dirty:
            return True
        ends = self.state.ends(now)
        for a in self._report.activations:
            last = a.last
            if last.status is not Status.IN_PROGRESS or a.server not in ends:
                continue
            due = last.last_progress + last.stall_after
            if self._ends.get(a.server, due) <= due < ends[a.server]:
                return True
        return False

    def _tick(self, changes: tuple[Change, ...], notes: list[str]) -> Tick:
        assert self._report is not None
        now = self._clock()
        return Tick(self._report, changes, tuple(notes), self.state.ends(now), self.state.silent(now), now)


def _result(op: _Open, stats: FileStats) -> FileResult:
    """A followed file's result as it stands (or as it ended: `stats`)."""
    scanner = op.scanner
    return FileResult(tuple(op.events), stats, scanner.owners.tail, scanner.fresh_start, scanner.runs)
