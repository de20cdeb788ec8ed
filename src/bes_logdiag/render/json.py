"""JSON output: one object with ``activations``, ``inputs``, ``unattached``, ``notes``, ``stats`` and
``context`` (README, "JSON").

The text is `dumps`'s (``json.dumps`` with the escapes of `safe.json_safe`): no indentation, so
that the C encoder does the work (Python's only indents in pure Python: 3.5 times slower on 10,000
activations, and it writes every token on its own to a stream PYTHONUNBUFFERED leaves unbuffered);
``jq .`` indents it.  It is encoded an activation at a time and written in batches of about 1 MB
(`render.batch`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from bes_logdiag.model import Activation, Attempt, Event, FileStats, Report, Status, Unattached
from bes_logdiag.render.batch import batched
from bes_logdiag.render.safe import json_safe
from bes_logdiag.render.text import status_counts

if TYPE_CHECKING:
    from bes_logdiag.stats import FleetStats, GroupStats

SCHEMA_VERSION = 3
"""3: ``unattached`` holds one item per server and pattern, its users under ``users`` and their
first and last lines as indexes into the item's ``files`` (README, "From schema 2 to 3").
2: ``unattached`` lists groups (one per server, user and pattern), no longer every line.
Times are ISO 8601 to the millisecond (`iso_time`).
Within a version fields may be added, never renamed."""


def iso_time(t: datetime) -> str:
    """A time as the machine formats write it: ISO 8601 to the millisecond,
    ``2023-12-30T10:26:32.717``, always 23 characters: BES logs count milliseconds.  (Earlier
    reports wrote ``isoformat()``'s 6 digits, and none at a whole second; every ISO 8601 reader,
    and `merge`, takes both.)"""
    return t.isoformat(timespec="milliseconds")


def _time(t: datetime | None) -> str | None:
    return iso_time(t) if t is not None else None


def event_dict(e: Event) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.error:
        out["error"] = e.error
        out["kb"] = e.kb
    if e.milestone:
        out["milestone"] = e.milestone
    out["time"] = iso_time(e.time)
    out["stage"] = e.stage
    out["file"] = e.file
    out["line"] = e.line
    out["pattern"] = e.pattern_id
    out["service"] = e.service
    out["text"] = e.text
    if e.identity_from:
        out["identity_from"] = e.identity_from
    return out


def attempt_dict(a: Attempt) -> dict[str, Any]:
    d = a.diagnosis
    return {
        "status": a.status.value,
        "stage": a.stage,
        "stage_name": a.stage_name,
        "kb": d.kb,
        "kb_title": d.kb_title,
        "reason": d.reason,
        "last_milestone": d.last_milestone,
        "next_expected": d.next_expected,
        "missing_logs": list(a.missing_logs),
        "started": _time(a.started),
        "last_progress": _time(a.last_progress),
        "completed": _time(a.completed),
        "stall_after_seconds": int(a.stall_after.total_seconds()),
        "evidence": list(d.evidence),
        "milestones": [event_dict(e) for e in a.events if e.milestone],
        "errors": [event_dict(e) for e in a.events if e.error],
        "candidates": [{"kb": c.kb, "title": c.title, "tell": c.tell} for c in d.candidates],
    }


def user_id_value(uid: str | None) -> int | str | None:
    """BES user ids are numbers: JSON carries them as numbers (anything else stays a string)."""
    return int(uid) if uid is not None and uid.isdigit() else uid


def activation_names(act: Activation) -> dict[str, Any]:
    """An activation's server and names, as `activation_dict` begins (what `render.outside`
    compares groups with)."""
    return {
        "server": act.server,
        "email": act.email,
        "user_id": user_id_value(act.user_id),
        "display_name": act.display_name,
    }


def activation_dict(act: Activation) -> dict[str, Any]:
    """One activation: the last attempt's fields at the top, earlier attempts under ``attempts``."""
    return {
        **activation_names(act),
        **attempt_dict(act.last),
        "joins": [{"kind": j.kind, "detail": j.detail} for j in act.joins],
        "attempts": [attempt_dict(a) for a in act.attempts[:-1]],
    }


def _file_dict(f: FileStats) -> dict[str, Any]:
    return {
        "path": f.path,
        "server": f.info.server,
        "service": f.info.service,
        "bytes": f.bytes,
        "lines": f.lines,
        "matched": f.matched,
        "unparsed": f.unparsed,
        "encoding": f.encoding,
        "first_time": _time(f.first_time),
        "last_time": _time(f.last_time),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report as the json format writes it."""
    return {k: list(v) if isinstance(v, Iterator) else v for k, v in _report_items(report).items()}


def _report_items(report: Report) -> dict[str, Any]:
    """The report's fields, its long lists (``activations``, ``context``) as iterators."""
    inputs = report.inputs
    counts = {s.value: n for s, n in status_counts(report).items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "summary": {"activations": len(report.activations), **counts},
        "activations": (activation_dict(a) for a in report.activations),
        "inputs": {
            "files_read": len(inputs.read),
            "files_skipped": len(inputs.skipped),
            "bytes": inputs.bytes,
            "lines": inputs.lines,
            "matched": inputs.matched,
            "unparsed": inputs.unparsed,
            "files": [_file_dict(f) for f in inputs.read],
            "skipped": [{"path": s.path, "reason": s.reason, "partial": s.partial} for s in inputs.skipped],
            "ignored": [{"path": i.path, "reason": i.reason} for i in inputs.ignored],
            "duplicates": [{"path": d.path, "same_as": d.same_as} for d in inputs.duplicates],
        },
        "log_end": {k or "": _time(v) for k, v in sorted(report.log_end.items(), key=lambda kv: kv[0] or "")},
        "unattached": unattached_items(report.unattached),
        "notes": list(report.notes),
        "stats": _stats_of(report),
        "context": context_items(report),
    }


def _stats_of(report: Report) -> dict[str, Any]:
    from bes_logdiag.stats import facts_of, fleet_stats

    return stats_dict(fleet_stats(facts_of(a) for a in report.activations))


def context_items(report: Report) -> Iterator[dict[str, Any]]:
    """The JSON ``context`` items: the lines around the evidence (`evidence_context`), read when
    the encoder reaches them."""
    from bes_logdiag.evidence_context import read_context

    for c in read_context(report):
        yield {"evidence": c.where, "first_line": c.first, "lines": list(c.lines)}


def group_dict(g: GroupStats) -> dict[str, Any]:
    """One server's statistics, or the whole fleet's (README, "JSON": ``stats``)."""
    return {
        "server": g.server,
        "activations": g.activations,
        "attempts": g.attempts,
        **{s.value: g.statuses[s] for s in Status},
        "unconfirmed": g.unconfirmed,
        "stalled_by_stage": list(g.stalled_by_stage),
        "failed_by_stage": list(g.failed_by_stage),
        "stages": [
            {"stage": t.stage, "count": t.count, "median_seconds": t.median, "p90_seconds": t.p90}
            for t in g.stages
        ],
        "by_hour": {s.value: list(g.by_hour[s]) for s in Status},
    }


def stats_dict(stats: FleetStats) -> dict[str, Any]:
    """``stats``: the fleet's numbers, then each server's."""
    overall = group_dict(stats.overall)
    del overall["server"]
    return {"overall": overall, "servers": [group_dict(g) for g in stats.servers]}


def unattached_dict(u: Unattached) -> dict[str, Any]:
    """One group of unattached lines, flat: who, which pattern, how many, and the first and last
    line (what `render.outside` words for a chosen user).  The JSON lists them per server and
    pattern (`unattached_items`)."""
    first = u.first
    return {
        "server": u.server,
        "email": u.email,
        "user_id": user_id_value(u.user_id),
        "display_name": u.display_name,
        "pattern": u.pattern_id,
        "milestone": u.milestone,
        "error": u.error,
        "kb": u.kb,
        "count": u.count,
        "first": _time(first.time),
        "last": _time(u.last.time),
        "evidence": [first.where] if u.count == 1 else [first.where, u.last.where],
        "text": first.text,
    }


class _PatternItem:
    """One item of the JSON ``unattached`` being gathered: one server's lines of one pattern."""

    def __init__(self, first: Unattached) -> None:
        self.item: dict[str, Any] = {
            "server": first.server,
            "pattern": first.pattern_id,
            "milestone": first.milestone,
            "error": first.error,
            "kb": first.kb,
            "count": 0,
            "first": _time(first.first.time),
            "last": None,
            "text": first.first.text,
            "files": [],
            "users": [],
        }
        self.index: dict[str, int] = {}
        self.last = first.last

    def _at(self, e: Event) -> list[int]:
        """``[file, line]``: the line, its file as an index into ``files``."""
        n = self.index.get(e.file)
        if n is None:
            n = self.index[e.file] = len(self.index)
            self.item["files"].append(e.file)
        return [n, e.line]

    def add(self, u: Unattached) -> None:
        self.item["count"] += u.count
        if u.last.order > self.last.order:
            self.last = u.last
        self.item["users"].append(
            {
                "email": u.email,
                "user_id": user_id_value(u.user_id),
                "display_name": u.display_name,
                "count": u.count,
                "first": _time(u.first.time),
                "last": _time(u.last.time),
                "evidence": [self._at(u.first)] if u.count == 1 else [self._at(u.first), self._at(u.last)],
            }
        )

    def done(self) -> dict[str, Any]:
        self.item["last"] = _time(self.last.time)
        return self.item


def unattached_items(groups: Iterable[Unattached]) -> list[dict[str, Any]]:
    """The JSON ``unattached``: the groups (one per server, user and pattern) gathered per server
    and pattern, in the order of their first lines.  What the pattern says, the total and the
    first line's text are written once per item; each user gets their count, times and first and
    last line, a line as ``[file, line]`` with ``file`` an index into the item's ``files``: 2,000
    users whose mailboxes cannot be opened make 2,000 short entries, not 2,000 copies of the same
    paths and words (README, "unattached")."""
    items: dict[tuple[str | None, str], _PatternItem] = {}
    for u in groups:
        key = (u.server, u.pattern_id)
        if key not in items:
            items[key] = _PatternItem(u)
        items[key].add(u)
    return [i.done() for i in items.values()]


def dumps(value: object) -> str:
    """One JSON text, non-ASCII as it is, the characters a terminal would obey or hide escaped
    (`safe.json_safe`): every JSON output writes its values so."""
    return json_safe(_encode(value))


_encode = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(value, ensure_ascii=False)``, its encoder made once: `encode_pieces` calls it for
each of 10,000 activations."""


def encode_pieces(doc: dict[str, Any]) -> Iterator[str]:
    """The text of ``json.dumps(doc)``, in pieces: a value that is an iterator is encoded as a
    list an item at a time, so that no list of 10,000 activations is built, nor its whole text."""
    sep = "{"
    for key, value in doc.items():
        yield f"{sep}{dumps(key)}: "
        sep = ", "
        if not isinstance(value, Iterator):
            yield dumps(value)
            continue
        items = "["
        for item in value:
            yield items + dumps(item)
            items = ", "
        yield "[]" if items == "[" else "]"
    yield "{}\n" if sep == "{" else "}\n"


def write_document(doc: dict[str, Any], out: TextIO) -> None:
    """``doc`` as one line of JSON, in writes of about 1 MB (`render.batch`)."""
    with batched(out) as b:
        for piece in encode_pieces(doc):
            b.write(piece)


def write(report: Report, out: TextIO) -> None:
    write_document(_report_items(report), out)
