"""Checking the pattern library against its own examples, line by line as a scan reads them.

`patterns check`, ``scan --patterns`` (for the admin's own files) and the tests all call these;
each example goes through the scan's prefilter and `match.match_line`, so an example that passes
here is a line the scan finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import regex

from bes_logdiag.library import Library, Pattern, load_library, read_library
from bes_logdiag.library.defs import USER_GROUPS
from bes_logdiag.library.load import raise_problems
from bes_logdiag.match import Matcher, match_line, search_once
from bes_logdiag.model import LogLine
from bes_logdiag.parse import YearClock, parse_line, split_records

_EXAMPLE_YEAR = 2000
"""Examples carry no year: any will do."""


def load_checked_library(extra_dirs: Sequence[Path] = ()) -> Library:
    """The library a scan uses: `library.load_library`, plus every check of ``patterns check``
    on the admin's own files (examples, counter-examples, users, the scan's prefilter); the
    built-in files' examples are tested instead.  The first problem is raised as one line."""
    if not extra_dirs:
        return load_library()
    lib, problems = check_files(extra_dirs, check_builtin=False)
    if lib is None:
        raise_problems(problems, extra_dirs)
    assert lib is not None
    return lib


def check_files(
    extra_dirs: Sequence[Path] = (), *, check_builtin: bool = True
) -> tuple[Library | None, list[str]]:
    """Check every pattern of every file, reporting all problems rather than stopping at the first.

    What loading checks (TOML, tables, keys, regex, duplicate ids, references), then every
    example and counter-example of the checked files, then the scan's prefilter.
    """
    loaded = read_library(extra_dirs, check_builtin=check_builtin)
    problems = list(loaded.problems)
    problems += [msg for p in loaded.checked for msg in check_pattern(p)]
    if problems or loaded.library is None:
        return None, problems
    lib = loaded.library
    if loaded.checked:
        everything = len(loaded.checked) == len(lib.patterns)
        problems = check_prefilter(lib if everything else replace(lib, patterns=loaded.checked))
    return (None, problems) if problems else (lib, [])


def check_library(lib: Library) -> list[str]:
    """Every problem with the examples of a loaded library's patterns."""
    return [msg for p in lib.patterns for msg in check_pattern(p)]


def check_pattern(p: Pattern, where: str | None = None) -> list[str]:
    """Every problem with one pattern's examples, as messages naming the file and the id.

    Each example is read the way the scan reads a line (records, header, body, quotes), and the
    event it would give must say who it is about.
    """
    where = where or f"{p.source}: pattern {p.id}"
    problems = []
    if not p.examples:
        problems.append(f"{where}: has no examples: add examples = ['''...'''], real log lines it matches")
    for i, ex in enumerate(p.examples, 1):
        if not any(lit in ex.encode("utf-8") for lit in p.prefilter):
            problems.append(f"{where}: example does not contain its prefilter: {ex!r}")
        found = _first_hit(p, ex)
        if found is None:
            clock = YearClock(None, _EXAMPLE_YEAR)
            if p.role is None and not any(parse_line(r, clock) for r in split_records(ex)):
                problems.append(
                    f"{where}: example is not a BES log line (it needs the header, e.g. "
                    f"[40000] (05/21 06:51:39):{{0x1AEC}} {{user}} ...): {ex!r}"
                )
            else:
                problems.append(f"{where}: example does not match: {ex!r}")
            continue
        line, m = found
        if line is not None and not _names_user(p, line, m):
            problems.append(
                f"{where}: example {i} names no user: add a named group email, user_id or "
                "display_name, or inherit_user = true"
            )
    problems += [
        f"{where}: counter-example matches: {ex!r}" for ex in p.counter_examples if matches_line(p, ex)
    ]
    return problems


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


def matches_line(p: Pattern, line: str) -> bool:
    """Whether a whole log line (header and all) is matched by the pattern, as a scan would."""
    return _first_hit(p, line) is not None


def _first_hit(p: Pattern, text: str) -> tuple[LogLine | None, regex.Match[str]] | None:
    """The record (None for a date line) and the match a scan would make of one line, or None."""
    found = match_line(text, [p], YearClock(None, _EXAMPLE_YEAR), search_once)
    if found.date is not None:
        return None, found.date
    if not found.hits:
        return None
    index, _, m = found.hits[0]
    return found.records[index], m


def _names_user(p: Pattern, line: LogLine, m: regex.Match[str]) -> bool:
    """Whether the event a scan makes of this match has an identity (as `filescan` builds it)."""
    if p.inherit_user or line.user:
        return True
    return any(m.groupdict().get(g) for g in USER_GROUPS)
