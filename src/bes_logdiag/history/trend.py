"""The history read back as a trend: per day or week, the attempts that started and how they
stand now, the time each stage took (median and 90th percentile) and the commonest KB articles."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import regex

from bes_logdiag.history.choices import Period
from bes_logdiag.history.store import open_history
from bes_logdiag.model import Status
from bes_logdiag.render.cards import library_text
from bes_logdiag.stats import STAGES, percentile

DOING = "cannot read the history"
TOP_KB = 3
"""KB articles named per period."""

_RELATIVE = regex.compile(r"(?i)^\s*(\d+)\s*([hdw])\s*$")


@dataclass(frozen=True)
class StageTime:
    """The time attempts spent in one stage, over those that left it."""

    stage: int
    name: str
    count: int
    median: float | None
    """Seconds; None when no attempt left the stage."""
    p90: float | None


@dataclass(frozen=True)
class KbCount:
    kb: str
    title: str | None
    count: int
    """Attempts whose verdict names the article (stalled and failed ones)."""


@dataclass(frozen=True)
class PeriodRow:
    """The attempts that started in one day or week (or in the whole selection: ``all``)."""

    period: str
    """``2024-01-01``, ``2023-W52`` (ISO week), or ``all``."""
    first_day: date | None
    started: int
    complete: int
    in_progress: int
    stalled: int
    failed: int
    """How the attempts stand now, as the last scan that saw each found it."""
    stages: tuple[StageTime, ...]
    kbs: tuple[KbCount, ...]
    """The commonest articles, most named first (`TOP_KB` at most)."""


@dataclass(frozen=True)
class Trend:
    path: str
    per: Period
    since: datetime | None
    """The earliest start counted (from ``--since``), or None for all."""
    servers: tuple[str, ...]
    unknown_servers: tuple[str, ...]
    """The ``servers`` asked for that have no attempt in the file (a typo, or another file)."""
    known_servers: tuple[str, ...]
    """The servers with attempts in the file: named when one asked for is not there."""
    runs: int
    """Scans recorded in the file."""
    last_recorded: str | None
    periods: tuple[PeriodRow, ...]
    total: PeriodRow


@dataclass(frozen=True)
class _Attempt:
    started: datetime
    status: str
    kb: str | None
    kb_title: str | None
    durations: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Back:
    """``--since 30d``, ``12w`` (whole days, from midnight) or ``6h`` (hours): back from the newest
    attempt in the file."""

    span: timedelta
    whole_days: bool


LONGEST_BACK = timedelta(days=36500)
"""A hundred years back: any history."""


def parse_since(text: str) -> Back | datetime:
    """``--since``: ``30d``, ``12w``, ``6h`` (counted back from the newest attempt in the file,
    whole days for ``d`` and ``w``), or a date with its year (python-dateutil).  ValueError
    otherwise: a date without its year (it was read as in the year 2000)."""
    m = _RELATIVE.match(text)
    if m:
        n, unit = int(m[1]), m[2].lower()
        if n <= 0:
            raise ValueError(f"{text!r}: give a span longer than zero (30d, 12w, 6h)")
        one = timedelta(hours=1) if unit == "h" else timedelta(days=7 if unit == "w" else 1)
        if n > LONGEST_BACK / one:
            raise ValueError(f"{text!r}: longer than any history (give at most {LONGEST_BACK.days}d)")
        return Back(n * one, whole_days=unit != "h")
    from dateutil import parser

    try:
        when: datetime = parser.parse(text, default=datetime(2000, 1, 1))
        unsaid = parser.parse(text, default=datetime(1000, 1, 1))
    except (ValueError, OverflowError) as e:
        raise ValueError(f"{text!r} is neither a span (30d, 12w, 6h) nor a date") from e
    if unsaid.year != when.year:
        raise ValueError(f"{text!r} names no year: give it (2024-01-01), or a span (30d, 12w, 6h)")
    return when.replace(tzinfo=None)


def read_trend(
    path: Path,
    *,
    per: Period = Period.day,
    since: Back | datetime | None = None,
    servers: Sequence[str] = (),
) -> Trend:
    """The trend of the history file at ``path`` (which must exist; an older file is upgraded):
    attempts by the day (or ISO week) they started, on ``servers`` (any case; all when empty),
    from ``since`` (a time, or a span back from the newest start)."""
    with open_history(path, DOING, create=False) as conn:
        wanted = {s.lower() for s in servers}
        durations: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for row in conn.execute("SELECT activation_id, stage, seconds FROM stage_durations ORDER BY stage"):
            durations[row[0]].append((row[1], row[2]))
        attempts = [
            _Attempt(
                datetime.fromisoformat(r["started"]),
                r["status"],
                r["kb"],
                r["kb_title"],
                tuple(durations[r["id"]]),
            )
            for r in conn.execute("SELECT id, server, started, status, kb, kb_title FROM activations")
            if not wanted or r["server"].lower() in wanted
        ]
        # (a stage no recorded attempt ended at is named as the built-in library names it)
        names = {**library_text().stages}
        names.update({r[0]: r[1] for r in conn.execute("SELECT DISTINCT stage, stage_name FROM activations")})
        runs, last = conn.execute("SELECT count(*), max(recorded) FROM runs").fetchone()
        known = sorted({r[0] for r in conn.execute("SELECT DISTINCT server FROM activations")})
    cutoff = _cutoff(since, attempts)
    if cutoff is not None:
        attempts = [a for a in attempts if a.started >= cutoff]
    groups: dict[tuple[str, date], list[_Attempt]] = defaultdict(list)
    for a in attempts:
        groups[_period_of(a.started.date(), per)].append(a)
    rows = tuple(
        _row(label, first, groups[label, first], names) for label, first in sorted(groups, key=lambda k: k[1])
    )
    return Trend(
        path=str(path),
        per=per,
        since=cutoff,
        servers=tuple(servers),
        unknown_servers=tuple(s for s in servers if s.lower() not in {k.lower() for k in known}),
        known_servers=tuple(known),
        runs=runs,
        last_recorded=last,
        periods=rows,
        total=_row("all", None, attempts, names),
    )


def _cutoff(since: Back | datetime | None, attempts: Sequence[_Attempt]) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    if not attempts:
        return None
    newest = max(a.started for a in attempts)
    try:
        if not since.whole_days:  # (24h is 24 hours back, not yesterday from midnight)
            return newest - since.span
        # Whole days: the day of the newest attempt and the days before it, from midnight.
        return datetime.combine(newest.date(), datetime.min.time()) - (since.span - timedelta(days=1))
    except OverflowError:  # (back past the year 1: everything)
        return None


def _period_of(day: date, per: Period) -> tuple[str, date]:
    if per is Period.day:
        return day.isoformat(), day
    year, week, weekday = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)


def _row(label: str, first: date | None, attempts: Sequence[_Attempt], names: dict[int, str]) -> PeriodRow:
    statuses = Counter(a.status for a in attempts)
    seconds: dict[int, list[float]] = {s: [] for s in STAGES}
    for a in attempts:
        for stage, s in a.durations:
            seconds.setdefault(stage, []).append(s)
    kbs = Counter((a.kb, a.kb_title) for a in attempts if a.kb)
    ranked = sorted(kbs.items(), key=lambda item: (-item[1], item[0][0]))[:TOP_KB]
    return PeriodRow(
        period=label,
        first_day=first,
        started=len(attempts),
        complete=statuses[Status.COMPLETE.value],
        in_progress=statuses[Status.IN_PROGRESS.value],
        stalled=statuses[Status.STALLED.value],
        failed=statuses[Status.FAILED.value],
        stages=tuple(
            StageTime(s, names.get(s, f"stage {s}"), len(v), percentile(v, 0.5), percentile(v, 0.9))
            for s, v in sorted(seconds.items())
        ),
        kbs=tuple(KbCount(kb, title, n) for (kb, title), n in ranked),
    )
