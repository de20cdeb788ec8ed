"""Output of ``bes-logdiag events``: every matched line as one flat record, for jq and spreadsheets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from bes_logdiag.model import Event, Report
from bes_logdiag.render.json import user_id_value

COLUMNS = (
    "time", "server", "service", "file", "line", "pattern", "milestone", "error", "kb", "stage",
    "email", "user_id", "display_name", "activation", "attempt", "text",
)  # fmt: skip


def event_records(report: Report) -> Iterator[dict[str, Any]]:
    """Every matched line in time order; identities are the joined ones where the line joined an
    activation (``activation`` names it, ``attempt`` counts from 1), else the line's own."""
    rows: list[tuple[Event, dict[str, Any]]] = []
    for act in report.activations:
        for n, attempt in enumerate(act.attempts, 1):
            for e in attempt.events:
                who = {
                    "email": act.email,
                    "user_id": user_id_value(act.user_id),
                    "display_name": act.display_name,
                    "activation": act.email or act.display_name or act.user_id,
                    "attempt": n,
                }
                rows.append((e, who))
    for e in report.unattached:
        who = {"email": e.email, "user_id": user_id_value(e.user_id), "display_name": e.display_name,
               "activation": None, "attempt": None}  # fmt: skip
        rows.append((e, who))
    rows.sort(key=lambda r: (r[0].time, r[0].file, r[0].line))
    for e, who in rows:
        yield {
            "time": e.time.isoformat(), "server": e.server, "service": e.service, "file": e.file,
            "line": e.line, "pattern": e.pattern_id, "milestone": e.milestone, "error": e.error,
            "kb": e.kb, "stage": e.stage, **who, "text": e.text,
        }  # fmt: skip


def write_ndjson(report: Report, out: TextIO) -> None:
    for rec in event_records(report):
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_json(report: Report, out: TextIO) -> None:
    json.dump({"events": list(event_records(report))}, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_csv(report: Report, out: TextIO) -> None:
    w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for rec in event_records(report):
        w.writerow({k: "" if v is None else v for k, v in rec.items()})
