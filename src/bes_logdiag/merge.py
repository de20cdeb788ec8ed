"""Merging saved ``scan`` JSON reports of several hosts into one report with the same fields.

Large estates run one scan per BES host, where its logs are, and merge the reports: no log is
copied anywhere.  A server may appear in two reports only for times that do not overlap (January's
report and February's), or with the very same content (the same report given twice): two verdicts
for the same hours of one server's logs would contradict each other, so that is refused, naming
the file.  One person's activations in reports of different times are one activation
(`_one_per_person`).  The summary, the input totals and the statistics are counted again over
the merged activations.

Times are written as this version writes them (ISO 8601 to the millisecond, `render.json.iso_time`)
whatever the saved report used: reports written before that carry 6 digits of microseconds, or
none at a whole second, and the same logs scanned by both versions are still one report.
"""

from __future__ import annotations

import json
import os
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
            text = _report_text(Path(path).read_bytes())
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise InputError(f"{name}: cannot read it: {why}") from e
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        if isinstance(e, RecursionError):
            why = "nested too deep"
        elif isinstance(e, json.JSONDecodeError) or str(e).endswith(_NO_NUMBER):
            why = str(e)
        else:  # (Python reads no integer of over 4,300 digits)
            why = "a number too long to read"
        raise InputError(f"{name}: not a JSON report ({why}); give the output of scan --format json") from e
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
        wrong = _unlike_scans(act)
        if wrong:
            raise InputError(f"{name}: not a bes-logdiag scan report (activation {n} {wrong})")
    return Saved(name, with_iso_times(doc))


def _report_text(data: bytes) -> str:
    """A report's text: UTF-8, or UTF-16 with its byte-order mark (Windows PowerShell 5.1 writes
    ``scan ... > report.json`` so)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


_NO_NUMBER = "is no JSON number"


def _no_constant(word: str) -> None:
    raise ValueError(f"{word} {_NO_NUMBER}")


def _unlike_scans(act: object) -> str | None:
    """What is wrong with an activation, in the fields that merging and the statistics count by
    (its server, status and stage, and its attempts'), or None: a hand-edited stage 99 made the
    statistics stop adding up."""
    if not isinstance(act, dict) or not isinstance(act.get("server"), (str, type(None))):
        return "is not one scan writes"
    attempts = act.get("attempts", [])
    for key, value in (("attempts", attempts), ("candidates", act.get("candidates", []))):
        if not isinstance(value, list):
            return f"has {key} that are not a list"
    for a in (act, *attempts):
        if not isinstance(a, dict):
            return "has an attempt that is not one scan writes"
        if a.get("status") not in STATUSES:
            return f"has status {json.dumps(a.get('status'))}, not one of {', '.join(STATUSES)}"
        if type(a.get("stage")) is not int or not 1 <= a["stage"] <= 4:
            return f"has stage {json.dumps(a.get('stage'))}, not 1 to 4"
    return None


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


def _part(doc: Mapping[str, Any], server: str) -> str:
    """Everything a report says about one server: what two reports must agree on to overlap.  Its
    files are named from the folder that holds them all: the same logs scanned from another
    folder, or by a full path instead of a relative one, say the same."""
    files = [f for f in doc["inputs"].get("files") or () if _server(f) == server]
    part = json.dumps(
        [
            [a for a in doc["activations"] if _server(a) == server],
            [u for u in doc.get("unattached") or () if _server(u) == server],
            files,
            (doc.get("log_end") or {}).get(server),
        ],
        sort_keys=True,
    )
    root = _folder([str(f.get("path") or "") for f in files])
    return part.replace(json.dumps(root)[1:-1], "") if root else part


def _folder(paths: Sequence[str]) -> str:
    """The folder all ``paths`` lie in, with its separator (``/`` or ``\\``), or ``""``."""
    prefix = os.path.commonprefix(list(paths)) if paths else ""
    return prefix[: max(prefix.rfind("/"), prefix.rfind("\\")) + 1]


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


_PERSON = ("email", "user_id", "display_name")
_ACTIVATION_ONLY = frozenset({"server", *_PERSON, "joins", "attempts"})
"""The fields of an activation that its attempts do not have (README "JSON output")."""


def _names(act: Mapping[str, Any]) -> list[str]:
    """The names an activation is known by across reports, as keys: its address and its user id
    (each one person's on a server); its display name only when it has no address (two people
    may share one, ``Smith, John``)."""
    out = [f"email:{str(act['email']).lower()}"] if act.get("email") else []
    out += [f"user_id:{act['user_id']}"] if act.get("user_id") not in (None, "") else []
    if not out and act.get("display_name"):
        out.append(f"display_name:{act['display_name']}")
    return out


def _one_person(acts: Sequence[Mapping[str, Any]]) -> bool:
    """Whether activations joined by a shared name can be one person: never two addresses or two
    user ids among them (A's address and name, B's name and id, C's id and another address)."""
    return all(len({a[k] for a in acts if a.get(k) not in (None, "")}) <= 1 for k in ("email", "user_id"))


def _cited(context: Any, evidence: set[str]) -> bool:
    """Whether a ``context`` item is around an evidence line of the merged activations (a report
    whose part was taken already, scanned from another folder, names the same lines otherwise)."""
    return not isinstance(context, dict) or context.get("evidence") in evidence


def _one_per_person(acts: Sequence[tuple[int, Any]]) -> list[Any]:
    """One activation per person and server: a user's activations in reports of different times
    (one server's daily reports) become one, the latest deciding, the earlier ones its earlier
    attempts, as a scan of all those logs at once would show them.  A person is known by a name
    the activations share (`_names`); activations of one report stay apart, as the scan that
    wrote it left them (it may have refused to join them), and so do those whose names say two
    people (`_one_person`)."""
    parent = list(range(len(acts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, (_, act) in enumerate(acts):
        for name in _names(act):
            j = first.setdefault((_server(act), name), i)
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(acts)):
        groups.setdefault(find(i), []).append(i)
    out: list[Any] = []
    for members in sorted(groups.values()):
        reports = [acts[i][0] for i in members]
        group = [acts[i][1] for i in members]
        if len(members) == 1 or len(set(reports)) < len(reports) or not _one_person(group):
            out += group
            continue
        out.append(_combined(group))
    return out


def _combined(acts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One person's activations from reports of different times, as one: the latest one's verdict,
    every attempt before it (each activation's own earlier ones, then itself) oldest first, the
    names and joins of all."""
    by_start = sorted(acts, key=lambda a: _started(a))
    latest = by_start[-1]
    earlier = [
        attempt
        for a in by_start
        for attempt in [*(a.get("attempts") or ()), *([] if a is latest else [_as_attempt(a)])]
    ]
    out = dict(latest)
    for key in _PERSON:
        out[key] = next((a[key] for a in reversed(by_start) if a.get(key) is not None), None)
    out["joins"] = _unique(j for a in by_start for j in a.get("joins") or ())
    out["attempts"] = sorted(earlier, key=_started)
    return out


def _as_attempt(act: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in act.items() if k not in _ACTIVATION_ONLY}


def _started(attempt: Mapping[str, Any]) -> str:
    """When an attempt (or an activation's first attempt) began, as its ISO text (which sorts as its
    time: the reports' times are in one form, `with_iso_times`)."""
    attempts = attempt.get("attempts") or ()
    return str((attempts[0] if attempts else attempt).get("started") or "")


def merge_reports(reports: Sequence[Saved]) -> dict[str, Any]:
    """One report of every activation in ``reports`` (README, "Many servers")."""
    taken = _taken(reports)
    acts: list[Any] = []
    unattached: list[Any] = []
    files: list[Any] = []
    totals = dict.fromkeys(TOTALS, 0)
    log_end: dict[str, str] = {}
    for n, (r, servers) in enumerate(zip(reports, taken)):
        doc, inputs = r.doc, r.doc["inputs"]
        acts += [(n, a) for a in doc["activations"] if _server(a) in servers]
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
    acts = _one_per_person(acts)
    evidence = {e for a in acts for t in (a, *(a.get("attempts") or ())) for e in t.get("evidence") or ()}
    # (a report whose every server's part was taken already, the same logs again, adds none of
    # its lists either; one of no server, nothing read, still tells what it skipped)
    used = [r for r, servers in zip(reports, taken) if servers or not _servers(r.doc)]
    skipped = _unique(s for r in used for s in r.doc["inputs"].get("skipped") or ())
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
            "ignored": _unique(i for r in used for i in r.doc["inputs"].get("ignored") or ()),
            "duplicates": _unique(d for r in used for d in r.doc["inputs"].get("duplicates") or ()),
        },
        "log_end": dict(sorted(log_end.items())),
        "unattached": unattached,
        "notes": _unique(n for r in used for n in r.doc.get("notes") or ()),
        "stats": stats_dict(fleet_stats(facts_of_dict(a) for a in acts)),
        "context": _unique(c for r in used for c in r.doc.get("context") or () if _cited(c, evidence)),
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
