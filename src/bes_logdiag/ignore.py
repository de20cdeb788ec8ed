"""Inputs that are not activation logs: other services' BES logs and the everyday files beside them.

A real ``Logs\\<YYYYMMDD>\\`` folder holds a log per service (BES-LOGS.md section 1), and admins' copies
bring ``Thumbs.db``, ``desktop.ini`` and installer logs along.  Such a file is *ignored*: counted
with its reason, never analysed, never a reason for ``--strict`` to fail.  Which services write
activation lines is the pattern library's to say, not this module's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

import regex

from bes_logdiag.decode import SNIFF_SIZE, detect_encoding
from bes_logdiag.filehead import SNIFF_BYTES
from bes_logdiag.inflate import TarReader
from bes_logdiag.library import Library
from bes_logdiag.model import Ignored, LogKey, LogOrder, log_place
from bes_logdiag.parse import BES_LINE_BYTES, YearClock, parse_line
from bes_logdiag.read import READ_ERRORS, Source, open_source

FED_BY = {"SYNC": ("CMNG",)}
"""Services whose lines also appear in another service's log: the Synchronization Service feeds
the Management Connector, whose log names the same users (BES-LOGS.md sections 1 and 2)."""

TAIL_BYTES = 64 * 1024
"""How much of an ignored log's end is read for the time of its last line."""

_NOT_LOGS = regex.compile(
    r"^(?:thumbs\.db|ehthumbs\.db|desktop\.ini|\.ds_store"
    r"|.*\.(?:ini|csv|xml|config|db|lnk|url|exe|dll|msi|cab|pdf|docx?|xlsx?|png|jpe?g|gif|bmp))$",
    regex.IGNORECASE,
)
"""Files that sit beside logs and are never logs themselves (Windows Explorer's metadata, the
user map's CSV, configuration, screenshots).  Mail and web pages are not here: they may hold
pasted log lines."""
_INSTALLER_LOGS = regex.compile(r"^(?:.*(?:setup|install).*|.*\.msi|msi[0-9a-z]*)\.log$", regex.IGNORECASE)
"""``setup.log``, ``install*.log``, ``*.msi.log``, msiexec's ``MSI1a2b3.LOG``: read only when
their first lines are BES lines after all."""


def activation_services(library: Library) -> frozenset[str]:
    """The service codes whose logs can hold activation lines: those of the library's patterns
    (an admin's ``--patterns`` may add one), and the services they feed."""
    own = {p.service for p in library.patterns if p.service is not None}
    return frozenset(own.union(*(FED_BY.get(s, ()) for s in own)))


def split_ignored(sources: Sequence[Source], services: frozenset[str]) -> tuple[list[Source], list[Ignored]]:
    """The sources to analyse, in order, and those ignored, each with its reason.  An ignored
    BES log still tells when its server's logs end: its last 64 KiB are read for it, where it
    can be its server's latest (`_last_times`)."""
    kept: list[Source] = []
    out: list[tuple[Source, str]] = []
    tars = TarReader()  # (a tar's members come in archive order: one pass, `TarReader`)
    try:
        for src in sources:
            reason = ignore_reason(src, services, tars)
            if reason is None:
                kept.append(src)
            else:
                out.append((src, reason))
    finally:
        tars.close()
    last = _last_times([src for src, _ in out])
    return kept, [Ignored(src.name, reason, src.info.server, last.get(id(src))) for src, reason in out]


PASSES = 4
"""Times an ignored log's files are read back from its latest, one day or iteration at a time;
then, in one more pass, all of the rest of a log that has still shown no line."""


def _last_times(logs: list[Source]) -> dict[int, datetime]:
    """The time of the last line (by ``id``) of the ignored BES logs that can end their server's
    logs.  Of the files of one log (one service's on one server, `model.log_place`) those of its
    latest day and iteration are read (copies keep the name: each of them); the ones before only
    where those hold no line (a log that has just started a new, empty file), a day or iteration
    at a time, `PASSES` in all, then the rest at once.  A BES starts a new file at midnight and at
    the size limit, so no earlier file of a log ends later, and a year of other services' logs is
    not read through before the scan starts.  A dated file whose name gives no place in a log is
    read.  Each pass reads in input order (a compressed tar is inflated once per pass, `TarReader`)."""
    unplaced: set[int] = set()
    files_of: dict[LogKey, list[tuple[LogOrder, Source]]] = {}
    for src in logs:
        if src.info.server is None or src.info.day is None:
            continue  # (no time of its own to give: `read_last_time`)
        place = log_place(src.info)
        if place is None:
            unplaced.add(id(src))
        else:
            files_of.setdefault(place[0], []).append((place[1], src))
    # per log not yet ended, its files not yet read, a list per day and iteration, the latest last
    pending: list[list[list[Source]]] = []
    for files in files_of.values():
        by_order: dict[LogOrder, list[Source]] = {}
        for order, src in sorted(files, key=lambda f: f[0]):
            by_order.setdefault(order, []).append(src)
        pending.append(list(by_order.values()))
    times: dict[int, datetime] = {}
    for _ in range(PASSES):
        # each log's latest files not yet read (and, in the first pass, those with no place in a log)
        wanted = {id(s) for log in pending for s in log[-1]} | unplaced
        unplaced = set()
        if not wanted:
            break
        found = _read_last_times([s for s in logs if id(s) in wanted])
        times.update(found)
        # a log whose files held a line has ended; the others go back a day or iteration
        pending = [log[:-1] for log in pending if len(log) > 1 and not any(id(s) in found for s in log[-1])]
    rest = {id(s) for log in pending for files in log for s in files}
    times.update(_read_last_times([s for s in logs if id(s) in rest]))
    return times


def _read_last_times(logs: list[Source]) -> dict[int, datetime]:
    """Read in input order: a tar's members in one pass (`TarReader`)."""
    times = {}
    tars = TarReader()
    try:
        for src in logs:
            t = read_last_time(src, tars)
            if t is not None:
                times[id(src)] = t
    finally:
        tars.close()
    return times


def ignore_reason(src: Source, services: frozenset[str], tars: TarReader | None = None) -> str | None:
    """Why `src` is not an activation log, or None when it may be one (its content decides)."""
    if src.stdin:
        return None
    parts = (src.member or src.path).replace("\\", "/").split("/")
    name = next((p for p in reversed(parts) if p), "")
    if name.startswith("._") or "__MACOSX" in parts:
        return f"macOS metadata, not a log ({name})"
    service = src.info.service
    if service is not None:
        if service in services:
            return None
        return f"{service} log: no activation milestones are written by this service"
    if _NOT_LOGS.match(name):
        return f"not a log file ({name})"
    if _INSTALLER_LOGS.match(name) and not _holds_bes_lines(src, tars):
        return f"installer log, not a BES log ({name})"
    return None


def _holds_bes_lines(src: Source, tars: TarReader | None) -> bool:
    """A BES timestamp within the first 64 KiB, as the scan itself would sniff it."""
    try:
        with open_source(src, tars=tars) as stream:
            head = stream.read(SNIFF_BYTES)
    except READ_ERRORS:
        return False
    return BES_LINE_BYTES.search(_as_utf8(head, detect_encoding(head[:SNIFF_SIZE]))) is not None


def read_last_time(src: Source, tars: TarReader | None = None) -> datetime | None:
    """The time of a BES log's last line, from its last 64 KiB (a compressed log is inflated on
    the way, not kept); None when it has none or cannot be read."""
    day = src.info.day
    if day is None:
        return None
    try:
        with open_source(src, tars=tars) as stream:
            head = stream.read(SNIFF_SIZE)
            tail, whole = _tail(stream, head)
    except READ_ERRORS:
        return None
    lines = _as_utf8(tail, detect_encoding(head)).decode("utf-8", errors="replace").splitlines()
    if not whole:
        lines = lines[1:]  # the first is most likely the end of a line cut in two
    for text in reversed(lines[-200:]):
        line = parse_line(text, YearClock(day, day.year))
        if line is not None:
            return line.time
    return None


def _tail(stream: BinaryIO, head: bytes) -> tuple[bytes, bool]:
    """The last `TAIL_BYTES` of a stream whose `head` has been read, and whether that is all of it.
    A plain file is seeked; an inflated one is read through (seeking would inflate it twice)."""
    if isinstance(stream, io.BufferedReader) and stream.seekable():
        end = stream.seek(0, io.SEEK_END)
        start = max(0, end - TAIL_BYTES)
        stream.seek(start - start % 2)  # whole UTF-16 code units
        return stream.read(), start == 0
    tail, whole = head, True
    for block in iter(lambda: stream.read(1 << 20), b""):
        tail = tail + block
        if len(tail) > TAIL_BYTES:
            tail, whole = tail[-TAIL_BYTES:], False
    return tail, whole


def _as_utf8(data: bytes, encoding: str) -> bytes:
    if encoding.startswith("utf-16"):
        return data.decode(encoding, errors="replace").encode("utf-8")
    return data
