"""The log lines around each evidence line: what an admin reads next to the line a verdict rests on.

The scan keeps only the lines a pattern matched; the lines before and after them (other threads,
the mailbox's answer, the service restarting) are read again from the inputs once the verdicts are
known, for the activations that did not complete.  Only the files holding such evidence are
opened, each once.  A line whose place in the file the scan noted (`Event.offset`) is read
from there; the others (gzip data, archive members, UTF-16 text) are found by reading the file
from the start, no further than the last line wanted.  What cannot be read again is
left out, not an error: standard input and pipes (read once), a file gone or changed since (its
line no longer carries the evidence's time).
"""

from __future__ import annotations

import os
import stat
from codecs import BOM_UTF8
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, NamedTuple

from bes_logdiag.decode import Encoding, decode_line, read_chunks
from bes_logdiag.inflate import GZIP_MAGIC, TarReader
from bes_logdiag.model import Report, Status
from bes_logdiag.read import READ_ERRORS, Source, discover, open_source
from bes_logdiag.words import clip

AROUND = 2
"""Lines shown before and after each evidence line."""
LINE_LIMIT = 1000
"""Characters kept of a context line: BES lines are far shorter; a runaway one is cut."""


@dataclass(frozen=True)
class EvidenceContext:
    """The lines around one evidence line (``where``, ``file:line``)."""

    where: str
    first: int
    """The number of the first line in ``lines``."""
    lines: tuple[str, ...]


def split_where(where: str) -> tuple[str, int] | None:
    """``file:line`` as (file, line); None when it ends in no line number."""
    path, sep, line = where.rpartition(":")
    return (path, int(line)) if sep and line.isdigit() else None


class _Wanted(NamedTuple):
    time: datetime
    offset: int | None
    """Where the line begins in the file (`Event.offset`), when the scan noted it."""


def _wanted(report: Report) -> dict[str, dict[int, _Wanted]]:
    """Per file, the evidence lines of the activations that did not complete, with their times
    and places."""
    wanted: dict[str, dict[int, _Wanted]] = {}
    for act in report.activations:
        last = act.last
        if last.status is Status.COMPLETE:
            continue
        events = {e.where: e for e in last.events}
        for where in last.diagnosis.evidence:
            parts = split_where(where)
            e = events.get(where)
            if parts is not None and e is not None:
                wanted.setdefault(parts[0], {})[parts[1]] = _Wanted(e.time, e.offset)
    return wanted


def _sources(names: Sequence[str]) -> dict[str, Source]:
    """The readable sources behind the report's file names: plain files and archive members.  A
    pipe or standard input cannot be read a second time."""
    found: dict[str, Source] = {}
    archives: set[str] = set()
    wanted = set(names)  # (an archive may hold thousands of members: each looked up once)
    for name in names:
        if _regular(name):
            found[name] = Source(name=name, path=name)
            continue
        # ``archive.zip!member``: the archive is the longest prefix before a "!" that is a file
        cut = name.find("!")
        while cut > 0:
            archive = name[:cut]
            if archive not in archives and _regular(archive):
                archives.add(archive)
                sources, _ = discover([archive])
                found.update((s.name, s) for s in sources if s.name in wanted and not s.stdin)
                break
            cut = name.find("!", cut + 1)
    return found


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def lines_around(
    src: Source, evidence: Mapping[int, int | None], around: int, tars: TarReader | None = None
) -> dict[int, str]:
    """The lines of ``src`` from ``around`` before to ``around`` after each evidence line (its
    number, with where it begins in the file when the scan noted that, `Event.offset`), as far as
    the file has them, by number (1 = first)."""
    lines: dict[int, str] = {}
    placed = _placed_lines(src, evidence, around, lines)
    numbers = {
        n for line in evidence if line not in placed
        for n in range(max(1, line - around), line + around + 1)
    }  # fmt: skip
    if numbers:
        lines.update(_lines_of(src, numbers, tars))
    return lines


def _placed_lines(
    src: Source, evidence: Mapping[int, int | None], around: int, out: dict[int, str]
) -> set[int]:
    """Into ``out``, the lines around each evidence line whose place is known, read from there;
    gives the evidence lines so placed.  A plain file is read where its evidence is, not from its
    start (10,000 activations want lines in nearly every 256 KiB of their logs).  An evidence
    line whose lines do not all fall within `_WINDOWS` bytes each side of it (a stack trace, an
    over-long line) is left to `_lines_of`; so is all of a file that holds gzip data (its places
    are in the inflated text)."""
    done: set[int] = set()
    placed = sorted((offset, line) for line, offset in evidence.items() if offset is not None)
    if not placed or src.member is not None or src.stdin:
        return done
    enc = Encoding()
    with open(src.path, "rb") as f:
        if f.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
            return done
        for offset, line in placed:
            for size in _WINDOWS:
                found = _around(f, offset, size, around)
                if found is not None:
                    ahead, lines = found
                    for n, raw in enumerate(lines, line - ahead):
                        out[n] = _shown(decode_line(raw, enc))
                    done.add(line)
                    break
    return done


_WINDOWS = (2 * 1024, 64 * 1024)
"""Bytes read each side of a placed evidence line for the lines around it, the second when the
first holds too few whole lines (BES lines are far shorter)."""


def _around(f: BinaryIO, offset: int, size: int, around: int) -> tuple[int, list[bytes]] | None:
    """Up to ``around`` whole lines before the line at ``offset``, that line and up to ``around``
    whole lines after it, with the number of lines before it; None when ``size`` bytes each side
    hold fewer whole lines than the file has there, or ``offset`` is not where a line begins (the
    file changed)."""
    start = max(0, offset - size)
    f.seek(start)
    window = f.read(offset - start + size)
    cut = offset - start
    before = window[:cut].split(b"\n")
    after = window[cut:].split(b"\n")
    # A line before is whole if a line end (or the file's start) precedes it; a line after, if a
    # line end follows it (or the file ends there).
    if before[-1] or (start > 0 and len(before) < around + 2):
        return None
    if len(window) == cut + size:  # (not known to be the file's end)
        if len(after) < around + 2:
            return None
    elif after[-1] == b"":
        after.pop()  # (the file ends with a line end: no line after it)
    if not after:
        return None
    if start == 0 and before[0].startswith(BOM_UTF8):
        before[0] = before[0][len(BOM_UTF8) :]
    lines_before = before[-around - 1 : -1]
    return len(lines_before), lines_before + after[: around + 1]


def _shown(text: str) -> str:
    return clip(text.rstrip("\r\n"), LINE_LIMIT)


def _lines_of(src: Source, numbers: set[int], tars: TarReader | None) -> dict[int, str]:
    """The lines of ``src`` with these numbers (1 = first), reading no further than the last.
    Each chunk holding one is split into its lines once, and only the lines wanted are decoded
    (10,000 activations want tens of thousands of lines, spread over every chunk of a log)."""
    wanted = sorted(numbers)
    out: dict[int, str] = {}
    enc = Encoding()
    base = 0
    at = 0
    with open_source(src, tars=tars) as stream:
        for chunk in read_chunks(stream, enc):
            newlines = chunk.count(b"\n")
            end = base + newlines + (0 if chunk.endswith(b"\n") else 1)
            if at < len(wanted) and wanted[at] <= end:
                lines = chunk.split(b"\n")
                while at < len(wanted) and wanted[at] <= end:
                    n = wanted[at]
                    at += 1
                    out[n] = _shown(decode_line(lines[n - base - 1], enc))
            base += newlines
            if at == len(wanted):
                break
    return out


def read_context(report: Report, around: int = AROUND) -> Iterator[EvidenceContext]:
    """The lines around each evidence line of the activations that did not complete, file by
    file in the order the report lists its inputs.  An evidence line whose time is no longer on
    its line (the file was rotated or replaced since the scan) gets none."""
    wanted = _wanted(report)
    if not wanted:
        return
    sources = _sources([f.path for f in report.inputs.read if f.path in wanted])
    tars = TarReader()  # (a tar's members in archive order, as the report lists them: one pass)
    try:
        for name, src in sources.items():
            evidence = wanted[name]
            try:
                lines = lines_around(src, {n: w.offset for n, w in evidence.items()}, around, tars)
            except READ_ERRORS:
                continue
            for line in sorted(evidence):
                when = evidence[line].time
                stamp = f"{when.month:02d}/{when.day:02d} {when.hour:02d}:{when.minute:02d}:{when.second:02d}"
                if stamp not in lines.get(line, ""):  # (as strftime writes it, in a fifth of the time)
                    continue
                span = [n for n in range(max(1, line - around), line + around + 1) if n in lines]
                yield EvidenceContext(f"{name}:{line}", span[0], tuple(lines[n] for n in span))
    finally:
        tars.close()
