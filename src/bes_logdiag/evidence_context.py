"""The log lines around each evidence line: what an admin reads next to the line a verdict rests on.

The scan keeps only the lines a pattern matched; the lines before and after them (other threads,
the mailbox's answer, the service restarting) are read again from the inputs once the verdicts are
known, for the activations that did not complete.  Only the files holding such evidence are
opened, each once, and read no further than the last line wanted.  What cannot be read again is
left out, not an error: standard input and pipes (read once), a file gone or changed since (its
line no longer carries the evidence's time).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from bes_logdiag.decode import Encoding, decode_line, read_chunks
from bes_logdiag.inflate import TarReader
from bes_logdiag.model import Report, Status
from bes_logdiag.read import READ_ERRORS, Source, discover, open_source

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


def _wanted(report: Report) -> dict[str, dict[int, datetime]]:
    """Per file, the evidence lines of the activations that did not complete, with their times."""
    wanted: dict[str, dict[int, datetime]] = {}
    for act in report.activations:
        last = act.last
        if last.status is Status.COMPLETE:
            continue
        times = {e.where: e.time for e in last.events}
        for where in last.diagnosis.evidence:
            parts = split_where(where)
            if parts is not None and where in times:
                wanted.setdefault(parts[0], {})[parts[1]] = times[where]
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


def _lines_of(src: Source, numbers: set[int], tars: TarReader) -> dict[int, str]:
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
                    text = decode_line(lines[n - base - 1], enc).rstrip("\r\n")
                    out[n] = text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"
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
            numbers = {n for line in evidence for n in range(max(1, line - around), line + around + 1)}
            try:
                lines = _lines_of(src, numbers, tars)
            except READ_ERRORS:
                continue
            for line in sorted(evidence):
                when = evidence[line]
                if f"{when:%m/%d %H:%M:%S}" not in lines.get(line, ""):
                    continue
                span = [n for n in range(max(1, line - around), line + around + 1) if n in lines]
                yield EvidenceContext(f"{name}:{line}", span[0], tuple(lines[n] for n in span))
    finally:
        tars.close()
