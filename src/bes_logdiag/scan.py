"""The core entry point: ``run_scan(config) -> Report``; reads (`parallel`), joins, diagnoses, reports."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import chain
from operator import attrgetter
from pathlib import PurePath

from bes_logdiag.attempts import can_open, split_attempts
from bes_logdiag.clock import ServerClocks
from bes_logdiag.coverage import build_coverage
from bes_logdiag.diagnose import diagnose_attempt, with_untied_policies
from bes_logdiag.errors import InputError
from bes_logdiag.filescan import FileResult
from bes_logdiag.identities import join_identities
from bes_logdiag.library import Library
from bes_logdiag.model import (
    Activation,
    Duplicate,
    Event,
    FileStats,
    Ignored,
    Inputs,
    Note,
    Report,
    Skipped,
    Status,
    Unattached,
)
from bes_logdiag.parallel import Progress, read_sources
from bes_logdiag.pattern_check import load_checked_library
from bes_logdiag.rotation import owners_across_rotation
from bes_logdiag.runs import LineGroup, merge_runs
from bes_logdiag.settings import ScanConfig
from bes_logdiag.usermap import MapEntry, load_user_map
from bes_logdiag.words import plural, some


def run_scan(
    config: ScanConfig, progress: Progress | None = None, *, unattached_lines: bool = False
) -> Report:
    """Read, match, join and diagnose: the whole scan as one value.  ``unattached_lines`` keeps
    every line of the unattached groups too (``Report.unattached_lines``, for ``events``)."""
    library = load_checked_library(config.patterns)
    user_map, map_notes = load_user_map(config.users) if config.users else ([], [])
    # ``events`` wants every line: then none is held in a run (`FileScanner`).
    with collector_paused():
        results, skipped, ignored, duplicates = read_sources(
            config, library, progress, compact=not unattached_lines
        )
        return report_from_results(
            results, skipped, ignored, duplicates, library, config, user_map, map_notes,
            unattached_lines=unattached_lines,
        )  # fmt: skip


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while, back on after.  A scan keeps what it
    makes to the end (every file's result, 20,000 of them in a folder of small files; then the
    activations, attempts and verdicts, by the hundred thousand), and none of it refers to
    itself in a cycle: each collection would only walk it all again (at 10,000 activations a
    quarter of the report's time, 0.25 s of 1.0 s; 0.3 s of reading 20,000 files).  Objects
    are still freed at once, by their reference counts."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def report_from_results(
    results: list[FileResult],
    skipped: list[Skipped],
    ignored: Sequence[Ignored],
    duplicates: Sequence[Duplicate],
    library: Library,
    config: ScanConfig,
    user_map: list[MapEntry],
    map_notes: list[str],
    *,
    unattached_lines: bool = False,
    log_end: Mapping[str | None, datetime] | None = None,
) -> Report:
    """The report of files already read (whole, or as far as a live follower has read them):
    owners across rotation, clocks, duplicates, joins and verdicts.  Raises `InputError` when
    no file could be read.  ``log_end``: a later end of a server's logs than its lines show (a
    live follower's clock: the newest line plus the wall time since it was read)."""
    results, ignored, server_notes = settle_servers(results, ignored)
    results = owners_across_rotation(results, library, config.thread_window)
    stats = [r.stats for r in results]
    skipped = skipped + [s.skipped for s in stats if s.skipped is not None]
    skipped += [Skipped(s.path, "; ".join(s.gaps), partial=True) for s in stats if s.gaps]
    if not any(s.skipped is None for s in stats):
        what = "; ".join(f"{s.path}: {s.reason}" for s in skipped) or _all_ignored(ignored) or "no input"
        empty = Report(
            activations=(), inputs=Inputs(tuple(stats), tuple(skipped), tuple(ignored), tuple(duplicates))
        )
        raise NothingRead(f"nothing could be read ({what})", empty)
    clocks = ServerClocks(stats)
    runs, run_repeats = merge_runs((run for r in results for run in r.runs), clocks)
    events, repeat_notes = _dedupe(clocks.moments([e for r in results for e in r.events]), run_repeats)
    notes = [w for s in stats for w in s.warnings] + server_notes + map_notes + _duplicate_notes(duplicates)
    notes += repeat_notes
    notes += _year_notes(results, config) + _cut_short_notes(stats) + clocks.notes()
    return build_report(
        events, stats, skipped, library, config, user_map, notes, ignored=list(ignored),
        duplicates=list(duplicates), clocks=clocks, unattached_lines=unattached_lines, log_end=log_end,
        runs=runs,
    )  # fmt: skip


def settle_servers(
    results: list[FileResult], ignored: Sequence[Ignored] = ()
) -> tuple[list[FileResult], list[Ignored], list[str]]:
    """Each file's server as one name (an ignored log's too: it tells how far its server's logs
    reach), with a note for each change:

    - names that differ only in case (``bes5_MAGT_...`` beside ``BES5_MAGT_...``; Windows
      machine names know no case) are one server, spelt as most of its files spell it;
    - a file whose name gives no server, in a day folder whose own folder is named as a server of
      the other files (``SRVB/20240116/sync_excerpt.txt`` beside ``SRVB_SYNC_01_...``), is an
      excerpt an admin saved with that server's logs: read as that server's (its lines join its
      users there).  A folder named as no server of these logs gives nothing."""
    spellings: dict[str, Counter[str]] = {}
    for r in results:
        if r.stats.info.server:
            spellings.setdefault(r.stats.info.server.lower(), Counter())[r.stats.info.server] += 1
    known = {k: max(sorted(c), key=c.__getitem__) for k, c in spellings.items()}
    notes = [
        f"servers {some(sorted(c, key=str.lower))} differ only in case: read as one, {known[k]}"
        for k, c in spellings.items()
        if len(c) > 1
    ]
    out = []
    for r in results:
        info = r.stats.info
        server: str | None = None
        if info.server:
            server = known[info.server.lower()]
        else:
            folders = PurePath(r.stats.path.replace("\\", "/")).parts[-3:-1]
            server = known.get(folders[0].lower()) if info.day and len(folders) == 2 else None
            if server is not None:
                above = "the folder above its day folder"
                notes.append(f"{r.stats.path}: no server in its name; read as {server}'s, {above}")
        if server is None or server == info.server:
            out.append(r)
            continue
        for run in r.runs:
            run.first = run.first._replace(server=server)
        stats = replace(r.stats, info=replace(info, server=server))
        out.append(replace(r, stats=stats, events=tuple(e._replace(server=server) for e in r.events)))
    settled = [replace(i, server=known.get(i.server.lower(), i.server)) if i.server else i for i in ignored]
    return out, settled, notes


class NothingRead(InputError):
    """No input could be read: exit code 2, and ``report``, with no activation, accounts for every
    input (a CI job keeps its artifact: README "Exit codes")."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def build_report(
    events: list[Event],
    stats: list[FileStats],
    skipped: list[Skipped],
    library: Library,
    config: ScanConfig,
    user_map: list[MapEntry],
    notes: list[str],
    *,
    ignored: Sequence[Ignored] = (),
    duplicates: Sequence[Duplicate] = (),
    clocks: ServerClocks | None = None,
    unattached_lines: bool = False,
    log_end: Mapping[str | None, datetime] | None = None,
    runs: Sequence[LineGroup] = (),
) -> Report:
    """The report of matched events, and of the lines held in runs (`runs.merge_runs`), which
    are not among ``events``."""
    # The end of a server's logs, as the moment of its last line (`clock.ServerClocks`: the local
    # time, unless the clock stepped back after that line was written).
    clocks = ServerClocks(stats) if clocks is None else clocks
    ends_at: dict[str | None, datetime] = dict(log_end or {})
    ends = [(s.info.server, s.path, s.last_time) for s in stats]
    ends += [(i.server, i.path, i.last_time) for i in ignored]
    # An ignored log of another service still shows how far its server's logs reach.
    for key, path, last in ends:
        if last is not None:
            moment = clocks.moment_of(last, key, path, None)
            ends_at[key] = max(ends_at.get(key, moment), moment)
    for e in chain(events, (g.last for g in runs)):
        moment = e.moment
        end = ends_at.get(e.server)
        if end is None or moment > end:
            ends_at[e.server] = moment
    # A run stands in the identity join by its first line: its other lines name the same user.
    group_of = {id(g.first): g for g in runs}
    persons, orphans, join_notes = join_identities(
        sorted(chain(events, (g.first for g in runs)), key=_order),
        user_map,
        request=library.milestone_with("request"),
        answer=library.milestone_with("answer"),
        window=config.join_window,
    )
    attach = max((s.stall_after for s in library.stages.values()), default=timedelta(hours=1))
    # Which services' logs cover which time: a verdict lacking the logs it rests on says so.
    # (each file's runs' first lines say which services' logs it holds)
    run_files = (part.first for g in runs for part in g.parts)
    coverage = build_coverage(stats, chain(events, run_files), library, ends_at, clocks)
    activations = []
    # Lines that fit no attempt: one group per server, user and pattern (an idle user's mailbox
    # error logged on every poll is one group, not 100,000 records).
    loose = _UnattachedGroups(keep_lines=unattached_lines)
    for e in orphans:
        group = group_of.get(id(e))
        if group is None:
            loose.add(e, (e.email, e.user_id, e.display_name))
        else:
            loose.add_group(group, (e.email, e.user_id, e.display_name))
    for p in persons:
        own: list[Event] = []
        groups: list[LineGroup] = []
        for e in p.events:
            g = group_of.get(id(e))
            if g is None:
                own.append(e)
            else:
                groups.append(g)
        if groups:
            if any(map(can_open, own)):  # (without a line that opens an attempt, none can join one)
                own += [x for g in groups for x in g.events()]
            else:
                for g in groups:
                    loose.add_group(g, (p.email, p.user_id, p.display_name))
        cuts, extra = split_attempts(sorted(own, key=_order), library, attach)
        for e in extra:
            loose.add(e, (p.email, p.user_id, p.display_name))
        if not cuts:
            continue
        end = ends_at[p.server]
        attempts = tuple(
            diagnose_attempt(
                c, library, end, config.stall_after, coverage, retried=after[0] if after else None
            )
            for c, after in zip(cuts, [*cuts[1:], None])
        )
        if p.untied:
            attempts = (*attempts[:-1], with_untied_policies(attempts[-1], p.untied, library))
        activations.append(Activation(p.server, p.email, p.user_id, p.display_name, attempts, p.joins))
    activations.sort(key=lambda a: (a.server or "", a.attempts[0].started, a.email or ""))
    return Report(
        activations=tuple(activations),
        inputs=Inputs(tuple(stats), tuple(skipped), tuple(ignored), tuple(duplicates)),
        unattached=loose.groups(),
        notes=tuple(notes + join_notes + coverage.notes(activations) + _on_several_servers(activations)),
        log_end=ends_at,
        unattached_lines=loose.lines(),
    )


def _on_several_servers(activations: Sequence[Activation]) -> list[str]:
    """A note for each address stalled or failed on one server that later began an activation
    on another (a user moved to another BES): each server's verdict is its own, and the first
    may be a problem the user has left behind."""
    by_email: dict[str, list[Activation]] = {}
    for a in activations:
        if a.email and a.server:
            by_email.setdefault(a.email.lower(), []).append(a)
    notes: list[str] = []
    for acts in by_email.values():
        for old in acts:
            if old.last.status not in (Status.STALLED, Status.FAILED):
                continue
            later = [a for a in acts if a.server != old.server and a.last.started > old.last.started]
            if later:
                new = min(later, key=lambda a: a.last.started)
                notes.append(
                    Note(
                        f"{old.email}: {old.last.status.value} on {old.server} (from "
                        f"{old.last.started:%Y-%m-%d %H:%M}), then an activation on {new.server} from "
                        f"{new.last.started:%Y-%m-%d %H:%M} ({new.last.status.value}): a user who moved "
                        f"servers may have left {old.server}'s problem behind",
                        "users who went on on another server",
                    )
                )
    return notes


_order = attrgetter("order")
"""An event's sort key (`Event.order`)."""


_Names = tuple[str | None, str | None, str | None]
"""A user's email, user id and display name."""


@dataclass(slots=True)
class _Group:
    first: Event
    last: Event
    first_key: tuple[datetime, str, int]
    last_key: tuple[datetime, str, int]
    count: int


class _UnattachedGroups:
    """Fed the lines that belong to no activation, a line or a user's run of lines at a time;
    keeps per group (server, user, pattern) only its count and its first and last line, and every
    line only with ``keep_lines`` (for ``events``)."""

    def __init__(self, *, keep_lines: bool = False) -> None:
        self._groups: dict[tuple[str | None, _Names, str], _Group] = {}
        self._lines: list[Event] | None = [] if keep_lines else None

    def add(self, e: Event, names: _Names) -> None:
        if self._lines is not None:
            self._lines.append(e)
        self._count((e.server, names, e.pattern_id), e, e, 1)

    def add_group(self, lines: LineGroup, names: _Names) -> None:
        """A user's lines of one pattern held in runs (`runs.LineGroup`, every file's), counted
        into their group."""
        if self._lines is not None:
            self._lines += lines.events()
        first = lines.first
        self._count((first.server, names, first.pattern_id), first, lines.last, lines.count)

    def _count(self, key: tuple[str | None, _Names, str], first: Event, last: Event, count: int) -> None:
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = _Group(first, last, first.order, last.order, count)
            return
        group.count += count
        first_key, last_key = first.order, last.order
        if first_key < group.first_key:
            group.first, group.first_key = first, first_key
        if last_key > group.last_key:
            group.last, group.last_key = last, last_key

    def groups(self) -> tuple[Unattached, ...]:
        """The groups in the order of their first lines."""
        out = [
            Unattached(server, *names, pattern, g.count, g.first, g.last)
            for (server, names, pattern), g in self._groups.items()
        ]
        return tuple(sorted(out, key=lambda u: _order(u.first)))

    def lines(self) -> tuple[Event, ...]:
        """Every line fed (none without ``keep_lines``), in the order of the times the logs wrote."""
        return tuple(sorted(self._lines or (), key=lambda e: (e.time, e.file, e.line)))


def _dedupe(events: Iterable[Event], repeats: Counter[str]) -> tuple[list[Event], list[str]]:
    """The same line read twice (a file given twice, zipped and plain) counts once; the note
    says how many repeated and where (``repeats``: those of the runs, counted already), so that
    the summary's file and line counts add up.  Within one file too: a mail that quotes the
    excerpt it answers holds its lines twice."""
    seen: set[tuple[object, ...]] = set()
    out = []
    repeats = +repeats  # (a copy, without the files `runs.merge_runs` counted no repeat in)
    for e in events:
        key = (e.server, e.time, e.pattern_id, e.text, e.email, e.user_id)
        if key in seen:
            repeats[e.file] += 1
        else:
            seen.add(key)
            out.append(e)
    notes = []
    if repeats:
        notes.append(
            f"{plural(sum(repeats.values()), 'matched line')} in {some(sorted(repeats))} repeat "
            "lines already read (the same logs given twice, or zipped and plain) and count once"
        )
    return out, notes


DUPLICATE_NOTES = 10
"""Duplicates named one by one in the notes; beyond these (a day folder given twice), one note
counts the rest, and ``inputs.duplicates`` lists them all."""


def _duplicate_notes(duplicates: Sequence[Duplicate]) -> list[str]:
    shown = duplicates[:DUPLICATE_NOTES]
    notes = [f"{d.path} holds the same bytes as {d.same_as}: counted once" for d in shown]
    rest = len(duplicates) - DUPLICATE_NOTES
    if rest > 0:
        hold = "holds" if rest == 1 else "hold"
        more = plural(rest, "more input")
        notes.append(f"{more} {hold} the same bytes as inputs already read: counted once")
    return notes


def _all_ignored(ignored: Sequence[Ignored]) -> str:
    """What to say when every input was ignored: there was nothing to diagnose."""
    if not ignored:
        return ""
    first = ignored[0]
    return f"{plural(len(ignored), 'input')} ignored as not activation logs; {first.path}: {first.reason}"


def _cut_short_notes(stats: list[FileStats]) -> list[str]:
    """A file that breaks off can make a running activation look stalled: say so beside the verdicts."""
    return [
        f"{s.path} breaks off at {s.last_time:%Y-%m-%d %H:%M:%S}: an activation on "
        f"{s.info.server or 'its server'} still open then is judged on incomplete logs"
        for s in stats
        if s.cut_short and s.last_time is not None
    ]


def _year_notes(results: list[FileResult], config: ScanConfig) -> list[str]:
    if config.year is not None:
        return []
    undated = [r.stats for r in results if r.stats.info.day is None and r.stats.skipped is None]
    if not undated:
        return []
    shown = some([s.path for s in undated])
    years = sorted({t.year for s in undated for t in (s.first_time, s.last_time) if t is not None})
    if not years:
        read_as = "years assumed"
    elif len(years) == 1:
        read_as = f"read as {years[0]}"
    else:
        read_as = f"read as {years[0]} to {years[-1]}"
    return [f"{shown}: no date in the name or folder; {read_as} (give --year to set it)"]
