"""The BES line grammar (BES-LOGS.md section 2): one text line to a LogLine, and the year to put on it."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

import regex

from bes_logdiag.model import LogLine
from bes_logdiag.names import PASTING

_HEADER = r"""
    (?:\[(?P<event>\d{1,5})\]\s*)?                                  # [40000], [3], or none
    \(\s*(?P<mon>\d{1,2})/(?P<day>\d{1,2})\s+
        (?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,6}))?\s*\)
    \s*:?\s*
    (?:\{\s*0[xX](?P<tid>[0-9A-Fa-f]+)\s*\}\s*)?                    # {0x1AEC}, or none
    (?:\{(?P<user>[^{}]*)\}\s*)?                                    # {user}, or none
"""
# The standard library's engine: the grammar needs nothing more, and it parses a line in two
# thirds of the `regex` module's time (the matched lines of a dense log are the scan's hot path).
_LINE = re.compile(_HEADER + r"(?P<body>.*)", re.VERBOSE | re.DOTALL)
_TAG = re.compile(r"\[(?P<tag>[A-Za-z][\w.\-]*)\]")
# A second record glued onto the same physical line, as in text copied out of a table.
_NEXT_RECORD = regex.compile(
    r"\s\[\d{1,5}\]\s*\(\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}"
    # a record whose event id was lost (the seed's own stage-1 line): its header ends in "):"
    r"|(?<!\[\d{1,5}\]\s*)\s\(\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\)\s*:"
    # two threads' writes run together with nothing between them: only a whole header, its
    # event id, its time to the millisecond and its thread, starts a record there
    r"|(?<=\S)\[\d{5}\] \(\d\d/\d\d \d\d:\d\d:\d\d[.,]\d{3}\):\s*\{\s*0[xX]"
)

_STAMP_START = re.compile(r"\(\s*\d{1,2}/\d{1,2}\s")
"""Where a timestamp may begin, as `_HEADER` and `_NEXT_RECORD` read one."""

PLAIN_HEADER = re.compile(
    rb"\[\d{1,5}\] \((\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\):"
    rb"\{0x([0-9A-Fa-f]{1,8})\} (?:\{([^{}]*)\} )?(.*)",
    re.DOTALL,
)
"""The header exactly as a server writes it (BES-LOGS.md section 2), in bytes:
``[40000] (12/30 00:00:10.133):{0x1AEC} {user} body``.  Groups: month, day, hour, minute,
second, milliseconds, thread, user, body.  `parse_line` reads such a line as it reads any
other; `filescan.FileScanner` uses it to know a line's body without parsing it."""

# Byte-level test for "this looks like a BES line": used to sniff files whose names say nothing.
BES_LINE_BYTES = regex.compile(rb"\(\s*\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\s*\)")
LEAP_DAY = regex.compile(rb"\(\s*0?2/29\s+\d{1,2}:\d{2}:\d{2}")
"""A line of 29 February (`YearClock`'s ``leap_day``)."""


def normalise(text: str) -> str:
    """Undo the damage pasting does (0×, dashes, curly quotes) and drop the line end."""
    if text.isascii():  # nearly every line of a real log: nothing to undo
        return text.rstrip("\r\n")
    return text.translate(PASTING).rstrip("\r\n")


def split_records(text: str) -> list[str]:
    """Split a physical line holding several BES records (text copied from a table) into records."""
    # A line with one timestamp holds one record (split or not, it parses to the same one): the
    # usual case, told by the standard library's engine in a tenth of `_NEXT_RECORD`'s time.
    stamp = _STAMP_START.search(text)
    if stamp is None or _STAMP_START.search(text, stamp.end()) is None:
        return [text]
    return split_at_records(text)


def split_at_records(text: str) -> list[str]:
    """`split_records` by the search for the start of a record alone."""
    first = _NEXT_RECORD.search(text)
    if first is None:  # one record
        return [text]
    parts: list[str] = []
    start = 0
    for m in _NEXT_RECORD.finditer(text, first.start()):
        if m.start() > start:
            parts.append(text[start : m.start()])
            start = m.start() + text[m.start()].isspace()  # (glued: the header is the cut)
    parts.append(text[start:])
    return parts


class YearClock:
    """Puts a year on month/day timestamps, rolling over at New Year.

    A file's lines carry no year (BES-LOGS.md section 2).  It comes from the file's date (name or
    day folder), a ``Current Date:`` line, or ``--year``.  A timestamp more than half a year before
    the previous one is taken to be in the next year (12/31 -> 01/01), and more than half a year
    after it in the previous one.
    """

    _HALF_YEAR = timedelta(days=183)

    def __init__(
        self, anchor: datetime | None, year: int, *, guessed: bool = False, leap_day: bool = False
    ) -> None:
        """``guessed``: ``year`` is this year for want of any other (no date in the name or folder,
        no ``--year``): the first timestamp then goes back to the last year it can be in without
        lying in the future (``12/15`` pasted on 30 November is last December), or in which it is a
        day at all (``02/29``, the last leap year).  ``leap_day``: a later line is a ``02/29``, so
        the guess is a year that has one then (an excerpt from 02/28 into 02/29: its 02/29 lines
        were dropped as no day of the year guessed from the first)."""
        self._ref = anchor
        self._year = anchor.year if anchor is not None else year
        self._guessed = guessed and anchor is None
        self._leap_day = leap_day

    @property
    def year(self) -> int:
        """The year the next timestamp is first tried in."""
        return self._year

    def reanchor(self, anchor: datetime) -> None:
        """A ``Current Date:`` line says exactly which day it is."""
        self._ref = anchor
        self._year = anchor.year

    def resolve(
        self, month: int, day: int, hour: int, minute: int, second: int, micro: int
    ) -> datetime | None:
        """The full datetime for a timestamp, or None when no year makes it a real date."""
        ref = self._ref
        if ref is not None and ref.day == day and ref.month == month:  # the usual case: the same day
            try:  # (not replace(): its keywords cost three times as much, on every matched line)
                self._ref = when = datetime(ref.year, month, day, hour, minute, second, micro)
            except ValueError:  # 24:00 ...
                return None
            return when
        if self._guessed and ref is None:
            return self._first_guessed(month, day, hour, minute, second, micro)
        for year in (self._year, self._year + 1, self._year - 1):
            try:
                when = datetime(year, month, day, hour, minute, second, micro)
            except ValueError:
                continue  # 02/29 outside a leap year, 13/01, 24:00 ...
            break
        else:
            return None
        if ref is not None:
            if when < ref - self._HALF_YEAR:
                when = _with_year(when, when.year + 1) or when
            elif when > ref + self._HALF_YEAR:
                when = _with_year(when, when.year - 1) or when
        self._year = when.year
        self._ref = when
        return when

    def _first_guessed(
        self, month: int, day: int, hour: int, minute: int, second: int, micro: int
    ) -> datetime | None:
        """The first timestamp of undated input: in the latest year up to the guessed one that
        makes it a real day not after now."""
        now = datetime.now()
        for year in range(self._year, self._year - 8, -1):  # (a leap year is among any eight)
            try:
                when = datetime(year, month, day, hour, minute, second, micro)
            except ValueError:
                continue  # 02/29 outside a leap year, 13/01, 24:00 ...
            if self._leap_day and not calendar.isleap(year if (month, day) <= (2, 29) else year + 1):
                continue  # (the 02/29 to come: in this year, or after New Year in the next)
            if when <= now:
                self._year, self._ref = year, when
                return when
        return None


def _with_year(when: datetime, year: int) -> datetime | None:
    try:
        return when.replace(year=year)
    except ValueError:
        return None


_Digits = bytes | str
"""A timestamp's digits, as the bytes of a plain header or the text of a parsed line."""


def header_time(
    clock: YearClock, month: _Digits, day: _Digits, h: _Digits, mi: _Digits, s: _Digits, micro: int
) -> datetime | None:
    """A header's time from its digits, or None when it is no time (25:00, 02/30): the one
    reading of a timestamp, whether the line was parsed or its plain header taken as it is."""
    hour, minute, second = int(h), int(mi), int(s)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return clock.resolve(int(month), int(day), hour, minute, second, micro)


def plain_header_time(raw: bytes, clock: YearClock) -> datetime | None:
    """The time of a line that begins with a plain header (`PLAIN_HEADER`), read from its bytes
    as `parse_line` reads it (and moving ``clock`` on as that does); None otherwise, or when its
    time is no time.  Where a file's log starts and ends is asked of every file, and a folder
    may hold 20,000 small ones."""
    m = PLAIN_HEADER.match(raw)
    if m is None:
        return None
    mon, day, h, mi, s, ms = m.groups()[:6]
    return header_time(clock, mon, day, h, mi, s, int(ms) * 1000)


def parse_line(text: str, clock: YearClock) -> LogLine | None:
    """Parse one record; None when it does not follow the BES grammar.

    Tolerates text before the header (a pasted excerpt), no event id, one-digit event ids, no
    milliseconds, no thread id, no space between ``}`` and ``{``, and the damage `normalise` undoes.
    """
    text = normalise(text)
    # A header at the start is the usual case, and matching there takes two thirds of the time
    # of a search (which must be ready for text before the header).
    m = _LINE.match(text) or _LINE.search(text)
    if m is None:
        return None
    event, mon, day, h, mi, s, frac, tid, user, body = m.groups()
    micro = int(frac.ljust(6, "0")[:6]) if frac else 0
    when = header_time(clock, mon, day, h, mi, s, micro)
    if when is None:
        return None
    body = body.strip()
    tag_m = _TAG.match(body)
    user = user.strip() if user else None
    return LogLine(
        time=when,
        event_id=int(event) if event else None,
        thread=tid.upper() if tid else None,
        user=user or None,
        tag=tag_m[1] if tag_m else None,
        body=body,
    )
