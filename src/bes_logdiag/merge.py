"""Merging saved ``scan`` JSON reports of several hosts into one report with the same fields.

Large estates run one scan per BES host, where its logs are, and merge the reports: no log is
copied anywhere.  A server may appear in two reports only for times that do not overlap (January's
report and February's), or with the very same content (the same report given twice): two verdicts
for the same hours of one server's logs would contradict each other, so that is refused, naming
the file.  The summary, the input totals and the statistics are counted again over the merged
activations.

Times are written as this version writes them (ISO 8601 to the millisecond, `render.json.iso_time`)
whatever the saved report used: reports written before that carry 6 digits of microseconds, or
none at a whole second, and the same logs scanned by both versions are still one report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bes_logdiag.errors import InputError
from bes_logdiag.render.json import SCHEMA_VERSION, iso_time, stats_dict
from bes_logdiag.stats import facts_of_dict, fleet_stats

STATUSES = ("complete", "in_progress", "stalled", "failed")
TOTALS = ("bytes", "lines", "matched", "unparsed")
"""The inputs' counts, summed over the reports."""
KNOWN = (
    "schema_version",
    "summary",
    "activations",
    "inputs",
    "log_end",
    "unattached",
    "notes",
    "stats",
    "context",
)


@dataclass(frozen=True)
class Saved:
    """One saved report: the name it was given by, and its JSON document."""

    name: str
    doc: Mapping[str, Any]


_FIELDS = (
    ("activations", list, True),
    ("inputs", dict, True),
    ("notes", list, False),
    ("unattached", list, False),
    ("context", list, False),
    ("log_end", dict, False),
)
"""The top-level fields of a report checked for their type: (key, type, whether it must be there)."""


def load_report(path: Path | str, text: str | None = None) -> Saved:
    """A saved ``scan --format json`` report (``text``: its content, already read, for ``-``);
    anything else is an `InputError` naming the file."""
    name = str(path)
    try:
        if text is None:
            text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise InputError(f"{name}: cannot read it: {why}") from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not a JSON report ({e}); give the output of scan --format json") from e
    if not isinstance(doc, dict) or "schema_version" not in doc:
        raise InputError(
            f"{name}: not a bes-logdiag scan report (no schema_version); "
            "give the output of scan --format json"
        )
    version = doc["schema_version"]
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        advice = (
            "written by a newer bes-logdiag: upgrade this one"
            if newer
            else "scan that host again with this version"
        )
        raise InputError(
            f"{name}: schema_version {version!r}, but this bes-logdiag reads {SCHEMA_VERSION}: {advice}"
        )
    for key, kind, required in _FIELDS:
        if (required or key in doc) and not isinstance(doc.get(key), kind):
            missing = "is missing or not" if required else "is not"
            raise InputError(f"{name}: not a bes-logdiag scan report ({key!r} {missing} a {kind.__name__})")
    for n, act in enumerate(doc["activations"], 1):
        if not isinstance(act, dict) or not isinstance(act.get("server"), (str, type(None))):
            raise InputError(f"{name}: not a bes-logdiag scan report (activation {n} is not one scan writes)")
    return Saved(name, with_iso_times(doc))


def _iso(value: Any) -> Any:
    """A time of a saved report as this version writes it; anything else as it was."""
    if not isinstance(value, str):
        return value
    try:
        return iso_time(datetime.fromisoformat(value))
    except ValueError:
        return value


def _timed(item: Any, keys: Sequence[str]) -> Any:
    """An object of a report with its ``keys`` in this version's time form."""
    if not isinstance(item, dict):
        return item
    return {k: _iso(v) if k in keys else v for k, v in item.items()}


def _attempt_times(act: Any) -> Any:
    """An activation (or an attempt): its times, its lines' and its earlier attempts'."""
    out = _timed(act, ("started", "last_progress", "completed"))
    if not isinstance(out, dict):
        return out
    for key in ("milestones", "errors"):
        if isinstance(out.get(key), list):
            out[key] = [_timed(e, ("time",)) for e in out[key]]
    if isinstance(out.get("attempts"), list):
        out["attempts"] = [_attempt_times(a) for a in out["attempts"]]
    return out


def _unattached_times(item: Any) -> Any:
    """An ``unattached`` item: its times and its users'."""
    out = _timed(item, ("first", "last"))
    if isinstance(out, dict) and isinstance(out.get("users"), list):
        out["users"] = [_timed(u, ("first", "last")) for u in out["users"]]
    return out


def with_iso_times(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with every time of the fields this version writes in its form (milliseconds): a
    report written by hand, or edited, with other ISO 8601 times merges as well."""
    out = dict(doc)
    out["activations"] = [_attempt_times(a) for a in doc["activations"]]
    inputs = dict(doc["inputs"])
    if isinstance(inputs.get("files"), list):
        inputs["files"] = [_timed(f, ("first_time", "last_time")) for f in inputs["files"]]
    out["inputs"] = inputs
    if isinstance(doc.get("log_end"), dict):
        out["log_end"] = {k: _iso(v) for k, v in doc["log_end"].items()}
    if isinstance(doc.get("unattached"), list):
        out["unattached"] = [_unattached_times(u) for u in doc["unattached"]]
    return out


def _server(item: Mapping[str, Any]) -> str:
    return str(item.get("server") or "")


def _span(doc: Mapping[str, Any], server: str) -> tuple[datetime, datetime] | None:
    """The time a report's logs of ``server`` cover: its files' first to last lines, and its
    activations and last line (``log_end``) where no file says."""
    times: list[datetime] = []
    for f in doc["inputs"].get("files") or ():
        if _server(f) == server:
            times += [datetime.fromisoformat(f[k]) for k in ("first_time", "last_time") if f.get(k)]
    for a in doc["activations"]:
        if _server(a) == server:
            times += [datetime.fromisoformat(a[k]) for k in ("started", "last_progress") if a.get(k)]
    end = (doc.get("log_end") or {}).get(server)
    if end:
        times.append(datetime.fromisoformat(end))
    return (min(times), max(times)) if times else None


def _part(doc: Mapping[str, Any], server: str) -> list[Any]:
    """Everything a report says about one server: what two reports must agree on to overlap."""
    return [
        [a for a in doc["activations"] if _server(a) == server],
        [u for u in doc.get("unattached") or () if _server(u) == server],
        [f for f in doc["inputs"].get("files") or () if _server(f) == server],
        (doc.get("log_end") or {}).get(server),
    ]


def _servers(doc: Mapping[str, Any]) -> list[str]:
    found = [_server(a) for a in doc["activations"]]
    found += [_server(f) for f in doc["inputs"].get("files") or ()]
    found += list((doc.get("log_end") or {}).keys())
    return list(dict.fromkeys(found))


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return max(a[0], b[0]) < min(a[1], b[1]) or a == b


def _taken(reports: Sequence[Saved]) -> list[set[str]]:
    """Per report, the servers whose part it contributes: a part identical to an earlier report's
    is taken once; an overlapping part that differs is an `InputError` naming the later file."""
    taken: list[set[str]] = []
    seen: dict[str, list[tuple[Saved, tuple[datetime, datetime] | None]]] = {}
    for r in reports:
        mine: set[str] = set()
        for server in _servers(r.doc):
            span = _span(r.doc, server)
            part = _part(r.doc, server) if server in seen else None
            for other, other_span in seen.get(server, []):
                if part == _part(other.doc, server):
                    break  # the same part again: taken once
                if span is not None and other_span is not None and _overlap(span, other_span):
                    start, end = max(span[0], other_span[0]), min(span[1], other_span[1])
                    raise InputError(
                        f"{r.name}: server {server or '(no name)'} is also in {other.name} for the same time "
                        f"({start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S}) with other results: "
                        "scan each server's logs once, or into reports of times that do not overlap"
                    )
            else:
                mine.add(server)
                seen.setdefault(server, []).append((r, span))
        taken.append(mine)
    return taken


def _unique(items: Iterable[Any]) -> list[Any]:
    """Items in order, each once (JSON values compared by their text)."""
    out, keys = [], set()
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if key not in keys:
            keys.add(key)
            out.append(item)
    return out


def merge_reports(reports: Sequence[Saved]) -> dict[str, Any]:
    """One report of every activation in ``reports`` (README, "Many servers")."""
    taken = _taken(reports)
    acts: list[Any] = []
    unattached: list[Any] = []
    files: list[Any] = []
    totals = dict.fromkeys(TOTALS, 0)
    log_end: dict[str, str] = {}
    for r, servers in zip(reports, taken):
        doc, inputs = r.doc, r.doc["inputs"]
        acts += [a for a in doc["activations"] if _server(a) in servers]
        unattached += [u for u in doc.get("unattached") or () if _server(u) in servers]
        mine = [f for f in inputs.get("files") or () if _server(f) in servers]
        files += mine
        dropped = [f for f in inputs.get("files") or () if _server(f) not in servers]
        if not servers and dropped:  # the same report again: its totals are counted already
            continue
        for key in TOTALS:
            totals[key] += int(inputs.get(key) or 0) - sum(int(f.get(key) or 0) for f in dropped)
        for server, end in (doc.get("log_end") or {}).items():
            if (
                server in servers
                and end
                and (
                    server not in log_end
                    or datetime.fromisoformat(end) > datetime.fromisoformat(log_end[server])
                )
            ):
                log_end[server] = end
    skipped = _unique(s for r in reports for s in r.doc["inputs"].get("skipped") or ())
    merged: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "summary": {
            "activations": len(acts),
            **{s: sum(1 for a in acts if a.get("status") == s) for s in STATUSES},
        },
        "activations": acts,
        "inputs": {
            "files_read": len(files),
            "files_skipped": len(skipped),
            **totals,
            "files": files,
            "skipped": skipped,
            "ignored": _unique(i for r in reports for i in r.doc["inputs"].get("ignored") or ()),
            "duplicates": _unique(d for r in reports for d in r.doc["inputs"].get("duplicates") or ()),
        },
        "log_end": dict(sorted(log_end.items())),
        "unattached": unattached,
        "notes": _unique(n for r in reports for n in r.doc.get("notes") or ()),
        "stats": stats_dict(fleet_stats(facts_of_dict(a) for a in acts)),
        "context": _unique(c for r in reports for c in r.doc.get("context") or ()),
    }
    for r in reports:  # fields a newer scan may add: lists joined, objects united
        for key, value in r.doc.items():
            if key in KNOWN:
                continue
            if isinstance(value, list):
                merged[key] = _unique([*merged.get(key, []), *value])
            elif isinstance(value, dict):
                merged[key] = {**value, **merged.get(key, {})}
            else:
                merged.setdefault(key, value)
    return merged
