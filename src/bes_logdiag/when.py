"""Times given on the command line (``--since``, ``--until``): what is left out is taken from the logs.

BES lines carry no year (``(01/01 09:00:00.000)``) and neither does what an admin copies from them,
so ``--since "01/01 09:00"`` takes its year from the logs, not from the clock of the machine
running the tool (a scan of last winter's logs would otherwise select nothing, silently).  A time
with no date at all (``09:00``) is on the last day of the logs, and a relative time (``7d``,
``2h``, ``1h30m``) is measured back from the end of the logs.  Each assumption is said in a note.

A value is parsed before any log is read (`parse_when`: a typo is a usage error at once) and
resolved once the logs' span is known (`Span`, `resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import regex

from bes_logdiag.settings import parse_duration
from bes_logdiag.words import duration

if TYPE_CHECKING:
    from bes_logdiag.model import Report

# ``7d``, ``2h``, ``1h30m``, ``90s``; a leading ``-`` or a trailing ``ago`` says the same.  A unit
# is required: a bare number is a day of the month to dateutil (``--since 7`` is the 7th).
_RELATIVE = regex.compile(r"(?i)^\s*-?\s*((?:\d+(?:\.\d+)?\s*[dhms]\s*)+)(?:ago)?\s*$")

# Two defaults that differ in year, month and day (both leap years, both months of 31 days): a
# field that comes out the same under both was in the text.
_PROBE_A = datetime(2000, 1, 1)
_PROBE_B = datetime(2004, 3, 2)


@dataclass(frozen=True)
class When:
    """A ``--since`` or ``--until`` value as given, checked but not yet placed in time."""

    option: str
    text: str
    end: bool
    """``--until``: what an absolute time leaves out is the end of its day (or year)."""
    back: timedelta | None = None
    """A relative time: this long before the end of the logs."""
    year: bool = True
    """Whether the text names the year."""
    date: bool = True
    """Whether the text names a year, a month or a day (``09:00`` names none of them)."""


@dataclass(frozen=True)
class Span:
    """The time the logs cover: their first line and the end of the latest server's logs."""

    first: datetime
    last: datetime


def parse_when(text: str, option: str, *, end: bool = False) -> When:
    """``text`` checked: a relative time, or a date and time dateutil reads (a zone is dropped:
    BES logs carry the server's local time with none).  Raises ValueError with a message for
    the user."""
    m = _RELATIVE.match(text)
    if m:
        try:  # (a unit is required here, so parse_duration's bare minutes never apply)
            return When(option, text, end, back=parse_duration("".join(m.group(1).split())))
        except ValueError:
            raise ValueError(f"{text!r} is longer than any log can span") from None
    a, b = _parse(text, _PROBE_A), _parse(text, _PROBE_B)
    year = a.year == b.year
    # A year alone ("2024") is a date: the whole year, not a day of the logs.
    return When(option, text, end, year=year, date=year or a.month == b.month or a.day == b.day)


def _parse(text: str, default: datetime) -> datetime:
    from dateutil import parser

    try:
        when: datetime = parser.parse(text, default=default)
    except (ValueError, OverflowError) as e:
        raise ValueError(
            f"{text!r} is not a date or time (examples: 2024-01-01 09:00, 01/01 09:00, 7d, 2h)"
        ) from e
    return when.replace(tzinfo=None)


def logs_span(report: Report) -> Span | None:
    """From the first line read to the end of the latest server's logs (None: nothing was read)."""
    firsts = [f.first_time for f in report.inputs.files if f.first_time is not None]
    lasts = list(report.log_end.values())
    if not lasts:
        return None
    last = max(lasts)
    return Span(min([*firsts, last]), last)


def resolve(when: When, span: Span | None, today: datetime | None = None) -> tuple[datetime, str | None]:
    """The moment `when` names, and a note saying what was taken from the logs (None when the
    text said it all).  Without logs (``span`` None) what is missing comes from ``today``."""
    if when.back is not None:
        if span is None:
            return (today or datetime.now()) - when.back, None
        try:
            moment = span.last - when.back
        except OverflowError:
            moment = datetime.min
        return moment, (
            f"{when.option} {when.text}: {'up to' if when.end else 'from'} {moment:%Y-%m-%d %H:%M:%S}, "
            f"{duration(when.back)} before the logs end ({span.last:%Y-%m-%d %H:%M:%S})"
        )
    if span is None or (when.year and when.date):
        return _absolute(when, today or datetime.now()), None
    if not when.date:
        moment = _absolute(when, span.last)
        return moment, (
            f"{when.option} {when.text!r} names no day: {moment:%Y-%m-%d %H:%M:%S}, on the last day "
            "of the logs"
        )
    moment = _in_span(when, span)
    return moment, (
        f"{when.option} {when.text!r} names no year: {moment:%Y-%m-%d %H:%M:%S}, the year taken from the "
        f"logs, which run from {span.first:%Y-%m-%d} to {span.last:%Y-%m-%d}"
    )


def _absolute(when: When, day: datetime) -> datetime:
    """The text read with what it leaves out from ``day``: its date, and the start or the end of
    that day (``--until 2023-12-31`` keeps that whole day).  A year alone runs from 1 January to
    31 December (dateutil keeps the day within the month)."""
    if when.date:
        day = day.replace(month=12, day=31) if when.end else day.replace(month=1, day=1)
    return _parse(when.text, _day_edge(day, when.end))


def _day_edge(day: datetime, end: bool) -> datetime:
    if end:
        return day.replace(hour=23, minute=59, second=59, microsecond=999999)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _in_span(when: When, span: Span) -> datetime:
    """A date without a year placed in the logs: the latest year in which it falls within their
    days, else the year that brings it nearest to them.  Raises ValueError when no year of the
    logs has that date (29 February)."""
    candidates: list[datetime] = []
    for year in range(span.last.year, span.first.year - 2, -1):
        try:
            candidates.append(_parse(when.text, _day_edge(datetime(year, 1, 1), when.end)))
        except ValueError:
            continue  # 29 February in a year that has none
    if not candidates:
        raise ValueError(f"{when.option} {when.text!r}: no year of the logs has that date")
    first, last = _day_edge(span.first, end=False), _day_edge(span.last, end=True)
    inside = [c for c in candidates if first <= c <= last]
    if inside:
        return inside[0]

    def distance(c: datetime) -> timedelta:
        return first - c if c < first else c - last

    return min(candidates, key=distance)
