"""What the logs let a verdict check: per server, the time each service's logs cover, and which
service writes each milestone (the pattern library's ``service``), so that a verdict can say
which services' logs it lacked (README, "How it decides": completeness).

A colleague often sends only the Messaging Agent's log: a user who stopped after the service-book
request there may well have gone on in the Policy and Synchronization Services' logs that were
not sent.  A verdict whose next milestone is written by a service with no log for the time after
the last progress is unconfirmed, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bes_logdiag.clock import ServerClocks
from bes_logdiag.library import Library, MilestoneDef
from bes_logdiag.model import Activation, Event, FileStats
from bes_logdiag.words import human_time, plural, some

QUIET = timedelta(hours=1)
"""How long a service may write nothing and still count as logging.  BES services write health,
queue and mail lines all the time (the sample logs' quietest, the Policy Service, goes 40 minutes
between lines), so a log whose last line is this close to its server's log end reaches that end,
and two files of a service this close together leave no gap.  Files of one day, or of two days in
a row, leave no gap however far apart their lines: the service wrote nothing in between."""

SHOWN_GAPS = 3
"""Stretches with no log of a service named one by one in a note; the rest are counted."""


@dataclass(frozen=True)
class Span:
    """A stretch of time a service's logs on one server cover, as moments (`clock.ServerClocks`)."""

    start: datetime
    end: datetime
    day: datetime | None = None
    """The date of the span's last file (its name or day folder), None when unknown."""
    cut_short: bool = False
    """Its last file breaks off: the service may have written on after its last line."""


class Coverage:
    """Per server and service, the stretches of time its logs cover; per milestone, the services
    whose logs hold it.  Built once per scan (`build_coverage`); ``Coverage()`` knows no service
    for any milestone, so nothing is ever missing (the null object for hand-built attempts)."""

    def __init__(
        self,
        spans: Mapping[tuple[str | None, str], Sequence[Span]] | None = None,
        writers: Mapping[str, frozenset[str]] | None = None,
        milestones: Mapping[str, MilestoneDef] | None = None,
        bounds: Mapping[str | None, tuple[datetime, datetime]] | None = None,
    ) -> None:
        self.spans = dict(spans or {})
        self.writers = dict(writers or {})
        """Per milestone, the services whose logs hold it; empty when a pattern finds it in any log."""
        self.milestones = dict(milestones or {})
        self.bounds = dict(bounds or {})
        """Per server, its first line and the end of its logs (what stalls are measured against)."""

    def covers(self, server: str | None, service: str, since: datetime, until: datetime) -> bool:
        """Whether the service's logs on the server cover all of ``since`` to ``until``."""
        return any(s.start <= since and s.end >= until for s in self.spans.get((server, service), ()))

    def missing(
        self, server: str | None, milestone: str | None, since: datetime, until: datetime
    ) -> tuple[str, ...]:
        """The services whose logs the verdict lacked: those that write `milestone` (the one
        expected next), when none of them has a log covering ``since`` to ``until``, and so on down
        the milestones after it, until one is written by a service whose logs cover the time (and
        its absence was seen).  Empty when the evidence is complete."""
        out: list[str] = []
        seen: set[str] = set()
        name = milestone
        while name is not None and name not in seen:
            seen.add(name)
            writers = self.writers.get(name)
            if not writers or any(self.covers(server, s, since, until) for s in writers):
                break
            out += [s for s in sorted(writers) if s not in out]
            defn = self.milestones.get(name)
            name = defn.next if defn else None
        return tuple(out)

    def lacking(self, server: str | None, services: Sequence[str], since: datetime, until: datetime) -> str:
        """What the missing logs are, for a verdict's reason: ``no POLC or SYNC log was read``,
        ``the POLC logs do not cover 2024-01-01 07:11 to 07:41``."""
        none = [s for s in services if not self.spans.get((server, s))]
        parts = [f"no {' or '.join(none)} log was read"] if none else []
        short = [s for s in services if s not in none]
        if short:
            logs = " and ".join(short)
            parts.append(f"the {logs} logs do not cover {_span_text(since, until)}")
        return "; ".join(parts)

    def notes(self, activations: Iterable[Activation]) -> list[str]:
        """One note per server where a verdict lacked logs: which services' logs, for what time,
        and how many verdicts are unconfirmed (``BBPROD01: no POLC or SYNC logs; verdicts from
        stage 3 on unconfirmed for 5 activations``)."""
        by_server: dict[str | None, list[Activation]] = {}
        for a in activations:
            if a.last.missing_logs:
                by_server.setdefault(a.server, []).append(a)
        notes = []
        for server, acts in by_server.items():
            services = sorted({s for a in acts for s in a.last.missing_logs})
            none = [s for s in services if not self.spans.get((server, s))]
            parts = [f"no {' or '.join(none)} logs"] if none else []
            parts += [self._gaps(server, s) for s in services if s not in none]
            stages = [self._stage(a.last.diagnosis.next_expected) or a.last.stage for a in acts]
            notes.append(
                f"{server or 'input with no server name'}: {'; '.join(parts)}; verdicts from stage "
                f"{min(stages)} on unconfirmed for {plural(len(acts), 'activation')}"
            )
        return notes

    def _stage(self, milestone: str | None) -> int | None:
        defn = self.milestones.get(milestone or "")
        return defn.stage if defn else None

    def _gaps(self, server: str | None, service: str) -> str:
        """``no POLC log for 2024-01-01 07:00 to 23:50``: the stretches of the server's logs that
        no log of the service covers."""
        spans = self.spans.get((server, service), ())
        start, end = self.bounds.get(server, (spans[0].start, spans[-1].end))
        holes = []
        at = start
        for s in spans:
            if s.start > at:
                holes.append((at, s.start))
            at = max(at, s.end)
        if at < end:
            holes.append((at, end))
        if not holes:  # not reached: a verdict lacked the service's logs for some time
            return f"{service} logs incomplete"
        return f"no {service} log for {some([_span_text(a, b) for a, b in holes], SHOWN_GAPS)}"


ASSUMED_COMPLETE = Coverage()
"""What a verdict assumes when nobody said which logs were read (hand-built attempts): nothing missing."""


def build_coverage(
    stats: Iterable[FileStats],
    events: Iterable[Event],
    library: Library,
    log_end: Mapping[str | None, datetime],
    clocks: ServerClocks,
) -> Coverage:
    """The coverage of the files read: each file's first to last line, as moments, under its
    service (a file whose name says none: the services of the lines matched in it)."""
    services_of: dict[str, set[str]] = {}
    for e in events:
        if e.service is not None:
            services_of.setdefault(e.file, set()).add(e.service)
    raw: dict[tuple[str | None, str], list[Span]] = {}
    for s in stats:
        if s.skipped is not None or s.first_time is None or s.last_time is None:
            continue
        server = s.info.server
        start = clocks.moment_of(s.first_time, server, s.path, 1)
        end = clocks.moment_of(s.last_time, server, s.path, None)
        if s.info.day is not None and s.info.iteration == 1:
            # The service's first file of the day: whatever it wrote that day before its first
            # line would be in it (a later iteration's earlier sibling may be missing).
            start = min(start, s.info.day.replace(hour=0, minute=0, second=0, microsecond=0))
        services = {s.info.service} if s.info.service else services_of.get(s.path, set())
        for service in services:
            raw.setdefault((server, service), []).append(Span(start, end, s.info.day, s.cut_short))
    first: dict[str | None, datetime] = {}
    for (server, _), found in raw.items():
        first[server] = min([first.get(server, found[0].start), *(s.start for s in found)])
    merged = {key: _merged(found, first[key[0]], log_end.get(key[0])) for key, found in raw.items()}
    bounds = {server: (start, log_end.get(server, start)) for server, start in first.items()}
    return Coverage(merged, milestone_writers(library), library.milestones, bounds)


def milestone_writers(library: Library) -> dict[str, frozenset[str]]:
    """Per milestone, the services whose logs its patterns find it in (patterns/activation.toml's
    ``service``); empty when one of its patterns names no service (it may be in any log)."""
    out: dict[str, set[str]] = {}
    anywhere: set[str] = set()
    for p in library.patterns:
        if p.milestone is None:
            continue
        if p.service is None:
            anywhere.add(p.milestone)
        out.setdefault(p.milestone, set()).add(p.service or "")
    return {m: frozenset() if m in anywhere else frozenset(s) for m, s in out.items()}


def _merged(spans: Sequence[Span], server_start: datetime, server_end: datetime | None) -> list[Span]:
    """One service's spans on one server, joined where the service left no gap (`QUIET`), and
    stretched to the server's first and last line when they come within `QUIET` of them."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, s.end)):
        if out and _joins(out[-1], s):
            last = out[-1]
            out[-1] = Span(last.start, max(last.end, s.end), s.day or last.day, s.cut_short)
        else:
            out.append(s)
    head, tail = out[0], out[-1]
    if head.start - server_start <= QUIET:
        out[0] = head = Span(min(server_start, head.start), head.end, head.day, head.cut_short)
        tail = out[-1]
    if server_end is not None and not tail.cut_short and server_end - tail.end <= QUIET:
        out[-1] = Span(tail.start, max(server_end, tail.end), tail.day, tail.cut_short)
    return out


def _joins(before: Span, after: Span) -> bool:
    """Whether a service's log goes on from one span into the next with no gap: they are close,
    or are files of the same day or of two days in a row (a file that breaks off lost its end)."""
    if after.start - before.end <= QUIET:
        return True
    if before.cut_short or before.day is None or after.day is None:
        return False
    return timedelta(0) <= after.day - before.day <= timedelta(days=1)


def _span_text(start: datetime, end: datetime) -> str:
    """``2024-01-01 07:11:02 to 2024-01-01 07:41:02``: times as every output writes them."""
    return f"{human_time(start)} to {human_time(end)}"
