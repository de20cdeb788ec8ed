"""What a file's first and last bytes say: whether it is a BES log at all, where its log starts
and ends, and whether its service started with it (`filescan.FileScanner` asks once per file)."""

from __future__ import annotations

from datetime import datetime

import regex

from bes_logdiag.decode import Encoding, decode_line
from bes_logdiag.match import Matcher, search_once
from bes_logdiag.parse import BES_LINE_BYTES, YearClock, parse_line, plain_header_time
from bes_logdiag.read import TAR_MAGIC_AT

SNIFF_BYTES = 64 * 1024
"""A file with no BES timestamp in this many first bytes is not a BES log."""
ZIP_MAGIC = b"PK\x03\x04"


def archived(head: bytes) -> bool:
    """Whether ``head`` begins a zip or tar archive (one in an archive, or on standard input, is
    not read as a log: its members' lines would run together as one)."""
    return head.startswith(ZIP_MAGIC) or head[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == b"ustar"


def not_a_log(head: bytes, *, stdin: bool = False) -> str:
    """Why a file (``stdin``: standard input) whose first bytes are ``head`` is skipped."""
    if archived(head):
        kind = "zip" if head.startswith(ZIP_MAGIC) else "tar"
        if stdin:
            return f"a {kind} archive on standard input: give its file name instead"
        return f"a {kind} archive inside an archive, or without the .{kind} name: unpack it first"
    if b"\n" not in head[:SNIFF_BYTES]:
        return "not a BES log: no line end in its first 64 KiB (binary data, or a decompression bomb?)"
    return "not a BES log: no line in its first 64 KiB has a BES timestamp"


def first_time(buf: bytes, clock: YearClock) -> datetime | None:
    """The timestamp of the file's first parseable line: where its log starts.

    Read from the head of the first chunk, so it does not depend on which lines the prefilter
    picks (the lines in between are never parsed).
    """
    start = 0
    for _ in range(200):
        if start >= len(buf):
            break
        end = buf.find(b"\n", start)
        end = len(buf) if end < 0 else end + 1
        raw = buf[start:end]
        start = end
        if not BES_LINE_BYTES.search(raw):
            continue
        when = _line_time(raw, clock, Encoding())
        if when is not None:
            return when
    return None


def _line_time(raw: bytes, clock: YearClock, enc: Encoding) -> datetime | None:
    """The time of one line: from its plain header's bytes when it has one, else parsed."""
    when = plain_header_time(raw, clock)
    if when is None:
        line = parse_line(decode_line(raw, enc), clock)
        when = line.time if line is not None else None
    return when


_HEAD_LINES = 20
"""How many first lines of a file tell whether it begins with its service starting up."""


def starts_fresh(head: bytes, matcher: Matcher) -> bool:
    """Whether the file begins with its service starting up: a service start/stop line (event
    id 5xxxx, BES-LOGS.md section 2) or a ``role = "date"`` line (the ``Current Date:`` an agent
    prints when it starts) among its first lines.  A file cut by size goes on mid-stream instead.
    Byte tests first: this runs for every file, and a folder may hold 20,000 small ones."""
    lines = head.split(b"\n", _HEAD_LINES)[:_HEAD_LINES]
    first = b"\n".join(lines)
    if _SERVICE_LINE.search(first):
        return True
    for p in matcher.dates:
        if any(lit in first for lit in p.prefilter):
            for raw in lines:
                if search_once(p, decode_line(raw, Encoding())):
                    return True
    return False


_SERVICE_LINE = regex.compile(rb"(?m)^[^\n\[(]{0,8}\[5\d{0,4}\]\s*\(\s*\d{1,2}/\d{1,2}\s")
"""A line whose event id begins with 5: the service starting or stopping (BES-LOGS.md section 2)."""


_LAST_STAMP = regex.compile(BES_LINE_BYTES.pattern, regex.REVERSE)


def last_time(chunks: list[bytes], clock: YearClock, enc: Encoding) -> datetime | None:
    """The timestamp of the last parseable line in `chunks` (newest first): where a log ends.

    Searches backwards for the timestamp itself, so lines without one (a stack trace, a cut-off
    line) cost nothing to pass over; gives up after 200 timestamps that do not parse.
    """
    tries = 200
    for chunk in chunks:
        end = len(chunk)
        while tries:
            m = _LAST_STAMP.search(chunk, 0, end)
            if m is None:
                break
            tries -= 1
            start = chunk.rfind(b"\n", 0, m.start()) + 1
            stop = chunk.find(b"\n", m.end())
            when = _line_time(chunk[start : stop if stop >= 0 else len(chunk)], clock, enc)
            if when is not None:
                return when
            end = start
    return None
