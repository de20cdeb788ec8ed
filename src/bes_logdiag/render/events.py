"""Output of ``bes-logdiag events``: every matched line as one flat record, for jq and spreadsheets.

The records stream: each is built as it is written (in batches, `render.batch`), from the lines
of the activations and the report's ``unattached_lines`` merged in time order, so no list of
records is ever held.  The report must be scanned with ``unattached_lines=True``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from bes_logdiag.model import Activation, Event, Report
from bes_logdiag.render.batch import batched
from bes_logdiag.render.csv import Rows
from bes_logdiag.render.json import dumps, iso_time, user_id_value
from bes_logdiag.render.safe import is_terminal

COLUMNS = (
    "time", "server", "service", "file", "line", "pattern", "milestone", "error", "kb", "stage",
    "email", "user_id", "display_name", "activation", "attempt", "text",
)  # fmt: skip

_Line = tuple[Event, Activation | None, int | None]
"""A line, the activation it joined (None: unattached) and its attempt there (1 = first)."""


def _when(line: _Line) -> tuple[datetime, str, int]:
    e = line[0]
    return (e.time, e.file, e.line)


def _lines(report: Report) -> Iterator[_Line]:
    """Every matched line in time order (as the logs wrote it), those of activations first on a tie."""
    attached: list[_Line] = [
        (e, act, n)
        for act in report.activations
        for n, attempt in enumerate(act.attempts, 1)
        for e in attempt.events
    ]
    attached.sort(key=_when)
    loose = ((e, None, None) for e in report.unattached_lines)  # already in time order
    return heapq.merge(attached, loose, key=_when)


def event_records(report: Report) -> Iterator[dict[str, Any]]:
    """Every matched line in time order; identities are the joined ones where the line joined an
    activation (``activation`` names it, ``attempt`` counts from 1), else the line's own."""
    for e, act, n in _lines(report):
        who = (
            {"email": act.email, "user_id": user_id_value(act.user_id), "display_name": act.display_name,
             "activation": act.email or act.display_name or act.user_id, "attempt": n}
            if act is not None
            else {"email": e.email, "user_id": user_id_value(e.user_id), "display_name": e.display_name,
                  "activation": None, "attempt": None}
        )  # fmt: skip
        yield {
            "time": iso_time(e.time), "server": e.server, "service": e.service, "file": e.file,
            "line": e.line, "pattern": e.pattern_id, "milestone": e.milestone, "error": e.error,
            "kb": e.kb, "stage": e.stage, **who, "text": e.text,
        }  # fmt: skip


def write_ndjson(report: Report, out: TextIO) -> None:
    with batched(out) as b:
        for rec in event_records(report):
            b.write(dumps(rec) + "\n")


def write_json(report: Report, out: TextIO) -> None:
    """``{"events": [...]}`` with one record a line, written as it goes."""
    with batched(out) as b:
        b.write('{"events": [')
        sep = "\n"
        for rec in event_records(report):
            b.write(sep + dumps(rec))
            sep = ",\n"
        b.write("\n]}\n")


def write_csv(report: Report, out: TextIO, *, raw: bool = False) -> None:
    """A header and a row per line, cells guarded as `render.csv` guards them unless `raw`."""
    with batched(out) as b:
        rows = Rows(b, raw=raw, screen=is_terminal(out))
        rows.write(COLUMNS)
        for rec in event_records(report):
            rows.write(rec[c] for c in COLUMNS)
