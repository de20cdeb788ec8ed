"""Lines a mail client wrapped: an excerpt pasted into a mail or a ticket may come back with its
long lines broken at a space near 72-80 characters (BES-LOGS.md section 2: admins paste through
mail).  The part after a break has no BES header of its own, so it matched nothing, and the
record it was cut from lost its end: ``*** SLOWSYNC COMPLETE *** [Dundas,`` named no user, and a
complete activation read as stalled.

`unwrap` joins each such part back onto its record, and leaves an empty line where it stood, so
that every record keeps its line number and the file its line count.  Only an input read whole in
one block and not named as a BES names its logs is unwrapped (an excerpt, not a day's log), only
one whose lines are all as short as a wrap makes them and whose longest lines fill a width, and
only where the next word would not have fitted on the line.
"""

from __future__ import annotations

import re

_HEADER = re.compile(rb"[^\n(]{0,24}\(\s*\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2}")
"""A BES header's timestamp near the start of a line (after an event id or a ``> `` of quoting)."""
_QUOTED = re.compile(rb"(?:>[ \t]?)+")
WIDEST_WRAP = 100
"""Wrapped text has no line longer than this (mail wraps at 72-80 characters); a BES log's own
lines run longer (an ETP.DAT line is some 140 characters)."""
NEAR_WIDTH = 20
"""A wrap fills its lines to within this many characters of its width, and more than one of them:
an excerpt whose longest line alone is that long was not wrapped (a stack trace under it, or the
mail's own text, is no continuation)."""


def unwrap(data: bytes) -> tuple[bytes, int]:
    """``data`` with every wrapped line joined back onto the record it continues, and how many
    lines were joined (0: ``data`` itself).  A continuation is a line with no BES header right
    after a record's line, or after another continuation, that reached the wrap's width."""
    if b"\0" in data or b"\n" not in data:  # (UTF-16, or a single line: nothing to join)
        return data, 0
    raws = data.split(b"\n")
    lines = [raw[:-1] if raw.endswith(b"\r") else raw for raw in raws]
    width = max(map(len, lines))
    if width > WIDEST_WRAP or sum(len(line) >= width - NEAR_WIDTH for line in lines) < 2:
        return data, 0
    parts: list[tuple[int, int, bytes]] = []  # (record, continuation, its text)
    record = -1  # the record being continued, or -1
    for i, line in enumerate(lines):
        text = line.strip()
        quote = _QUOTED.match(text)  # (a quoted excerpt quotes its continuations too)
        if quote is not None and record >= 0 and _QUOTED.match(lines[record].lstrip()):
            text = text[quote.end() :].lstrip()
        if _HEADER.match(line):
            record = i
        elif not text:
            record = -1
        elif record >= 0 and _broken(lines[i - 1], text, width):
            parts.append((record, i, text))
    if not parts:
        return data, 0
    out = list(lines)
    for record, i, text in parts:
        out[record] += _joint(lines[i - 1]) + text
        out[i] = b""
    ends = [raw[len(line) :] for raw, line in zip(raws, lines)]
    return b"\n".join(line + end for line, end in zip(out, ends)), len(parts)


def _broken(before: bytes, text: bytes, width: int) -> bool:
    """Whether ``text`` goes on from line ``before`` where a wrap at ``width`` broke it: its first
    word would not have fitted after it."""
    return len(before.rstrip()) + 1 + len(text.split(None, 1)[0]) > width


def _joint(before: bytes) -> bytes:
    """What stood where a mail client broke the line after ``before``: nothing after a hyphenated
    word's hyphen (``o'neill-`` then ``macdonald@``) or a space it kept, else the space it broke
    the line at."""
    if before.endswith((b" ", b"\t")) or (before.endswith(b"-") and before[-2:-1].isalnum()):
        return b""
    return b" "
