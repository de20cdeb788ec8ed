"""Matching: which lines of a buffer may hold a pattern, and what one line matches.

`Matcher` holds the compiled library and its prefilter, built once per process and shared by
every file; `match_line` is the one place that decides what a line matches, for a scan and for
the checks of a pattern's examples alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

import regex

from bes_logdiag.library import MATCH_TIMEOUT, Library, Pattern
from bes_logdiag.model import LogLine
from bes_logdiag.parse import YearClock, parse_line, split_records
from bes_logdiag.prefilter import BOM, Prefilter, Probe, derive_probes, literal_probes, make_prefilter

Search = Callable[[Pattern, str], "regex.Match[str] | None"]
"""How `match_line` runs one pattern on one text: with a time limit, and possibly remembering
the patterns that ran away (`Matcher.search`)."""


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
        self._patterns_of = tuple(frozenset(ids) for ids in patterns_of.values())
        self._bom = self.probes.index(Probe((BOM,)))
        self._literals = tuple(p.prefilter for p in library.patterns)
        self._every = frozenset(range(len(self._literals)))
        """What a BOM's hit may be (it can split a probe's run): every pattern."""
        self.prefilter: Prefilter = make_prefilter(self.probes, engine)
        self.dates = tuple(p for p in library.patterns if p.role == "date")
        """The ``role = "date"`` patterns (a ``Current Date:`` line)."""
        self.date_ids = frozenset(i for i, p in enumerate(library.patterns) if p.role == "date")
        self.inherited = frozenset(p.inherit_from for p in library.patterns if p.inherit_from)
        """The milestones some pattern takes its user from (`Pattern.inherit_from`)."""
        self.loose = frozenset(
            p.id for p in library.patterns
            if p.role is None and not (p.inherit_user or p.opens_attempt or p.milestone or p.resumes)
        )  # fmt: skip
        """The patterns whose lines can neither open an attempt, nor steer one, nor take their
        user from their thread: a file's scan holds them compactly (`runs.Run`)."""
        self.runaway: dict[str, str] = {}
        """Patterns that ran out of time: id -> the start of the text they choked on.  Each is
        left out for the rest of this matcher's life (a catastrophic pattern would otherwise
        cost its time limit on every line)."""

    def candidates(self, buf: bytes) -> list[tuple[int, int, tuple[int, ...]]]:
        """``(line start, line end, pattern indexes)`` for every line that may hold a pattern."""
        hits = self.prefilter.scan(buf)
        if not hits:
            return []
        lines: dict[int, frozenset[int]] = {}
        rfind, patterns_of, bom = buf.rfind, self._patterns_of, self._bom
        for off, probe in hits:
            start = rfind(b"\n", 0, off) + 1
            # a BOM can split a probe's run: try every pattern
            found = self._every if probe == bom else patterns_of[probe]
            ids = lines.get(start)
            lines[start] = found if ids is None else ids | found
        out = []
        find, literals = buf.find, self._literals
        for start in sorted(lines):
            end = find(b"\n", start)
            if end < 0:
                end = len(buf)
            line = buf[start:end]
            ids = lines[start]
            if len(ids) == 1:  # (the usual case, without the generators)
                (i,) = ids
                keep: tuple[int, ...] = (i,) if any(lit in line for lit in literals[i]) else ()
            else:
                keep = tuple(i for i in sorted(ids) if any(lit in line for lit in literals[i]))
            if keep:
                out.append((start, end, keep))
        return out

    def search(self, p: Pattern, text: str, dropped: dict[str, str] | None = None) -> regex.Match[str] | None:
        """Run a pattern with the time limit; one that runs out of time is dropped from then on,
        and also noted in ``dropped`` (the file it happened in)."""
        if p.builtin:
            return p.regex.search(text)
        if p.id in self.runaway:
            return None
        try:
            return p.regex.search(text, timeout=MATCH_TIMEOUT)
        except TimeoutError:
            self.runaway[p.id] = text[:80]
            if dropped is not None:
                dropped[p.id] = text[:80]
            return None


def search_once(p: Pattern, text: str) -> regex.Match[str] | None:
    """Run a pattern with the time limit, dropping nothing: running out of time is no match."""
    try:
        return p.regex.search(text, timeout=MATCH_TIMEOUT)
    except TimeoutError:
        return None


class LineMatch(NamedTuple):
    """What one physical line matched."""

    date: regex.Match[str] | None = None
    """The match of a ``role = "date"`` pattern (a ``Current Date:`` line): the line is that."""
    records: tuple[LogLine, ...] = ()
    """The BES records the line holds (usually one; a line pasted from a table may hold several)."""
    hits: tuple[tuple[int, Pattern, regex.Match[str]], ...] = ()
    """``(record index, pattern, match)``: the first pattern that matched each record."""


def match_line(text: str, patterns: Sequence[Pattern], clock: YearClock, search: Search) -> LineMatch:
    """What ``patterns`` match in one physical line.

    A ``role = "date"`` pattern is tried on the whole line; any other on the body of each record
    the line holds.  A match inside a quoted string does not count (`in_quotes`).
    """
    for p in patterns:
        if p.role == "date":
            m = search(p, text)
            if m is not None and not in_quotes(text, m.start()):
                return LineMatch(date=m)
    records: list[LogLine] = []
    hits: list[tuple[int, Pattern, regex.Match[str]]] = []
    for record in split_records(text):
        line = parse_line(record, clock)
        if line is None:
            continue
        for p in patterns:
            if p.role is not None:
                continue
            m = search(p, line.body)
            if m is not None and not in_quotes(line.body, m.start()):
                hits.append((len(records), p, m))
                break
        records.append(line)
    return LineMatch(None, tuple(records), tuple(hits))


def date_of(m: regex.Match[str]) -> datetime | None:
    """The date a ``role = "date"`` match names, or None when it is no date."""
    try:
        return datetime(int(m["year"]), int(m["month"]), int(m["day"]))
    except (ValueError, IndexError):
        return None


def in_quotes(text: str, at: int) -> bool:
    """Whether `at` falls inside a quoted string of the message (``Subject="FW: ... SLOWSYNC
    COMPLETE ..."``): a mail subject or body that quotes a log line is not that line."""
    return text.count('"', 0, at) % 2 == 1
