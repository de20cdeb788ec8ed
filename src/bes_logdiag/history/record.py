"""Recording a scan in the history: one run, and each attempt added or brought up to date.

An attempt is known across scans by its server, the time of its first line and the name that
line gives.  A scan of the same logs therefore finds every attempt already there and adds no row;
a scan that reads further finds them too and updates them.  A scan of a later stretch only (the
older day folders gone) sees an attempt from part way: it is the same person's attempt on that
server whose lines its own overlap, or, if it begins past stage 1, the unfinished one it continues.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bes_logdiag import __version__
from bes_logdiag.history.durations import rewrite_durations
from bes_logdiag.history.store import open_history, stamp
from bes_logdiag.model import Activation, Attempt, Report, Status

DOING = "cannot record this scan"


@dataclass(frozen=True)
class RunRecord:
    """What recording one scan did to the history."""

    run_id: int
    attempts: int
    """Attempts in the scan."""
    added: int
    """Attempts the history did not know."""
    changed: int
    """Known attempts this scan found at another status or stage."""


@dataclass(frozen=True)
class _Row:
    """An attempt as the ``activations`` table holds it (its columns, in their order)."""

    server: str
    email: str | None
    user_id: int | str | None
    display_name: str | None
    opened_by: str
    status: str
    stage: int
    stage_name: str
    last_milestone: str | None
    next_expected: str | None
    kb: str | None
    kb_title: str | None
    reason: str
    missing_logs: str
    started: str
    last_progress: str
    completed: str | None


_COLUMNS = ", ".join(_Row.__dataclass_fields__)
_VERDICT = (
    "status", "stage", "stage_name", "last_milestone", "next_expected", "kb", "kb_title", "reason",
    "missing_logs", "last_progress", "completed",
)  # fmt: skip


def record_scan(
    path: Path, report: Report, *, inputs: Sequence[str] = (), recorded: datetime | None = None
) -> RunRecord:
    """Record ``report`` (the whole scan, before any filter) in the history file at ``path``,
    made if missing and upgraded if older, in one transaction: all of the scan or none of it.

    Raises `HistoryError` (one line naming the file) when the file is damaged, of another
    program or of a newer version, locked for over `LOCK_TIMEOUT` seconds, or cannot be written:
    a CLI writes its report first, records it last, and exits 2 on this error.
    """
    with open_history(path, DOING, create=True) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            run_id = _insert_run(conn, report, inputs, recorded or datetime.now())
            added = changed = attempts = 0
            for act in report.activations:
                for attempt in act.attempts:
                    attempts += 1
                    is_new, is_changed = _record_attempt(conn, run_id, act, attempt)
                    added += is_new
                    changed += is_changed
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return RunRecord(run_id, attempts, added, changed)


def _insert_run(conn: sqlite3.Connection, report: Report, inputs: Sequence[str], recorded: datetime) -> int:
    firsts = [f.first_time for f in report.inputs.read if f.first_time is not None]
    statuses = Counter(a.last.status for a in report.activations)
    cursor = conn.execute(
        "INSERT INTO runs (recorded, tool_version, inputs, files_read, lines, log_start, log_end,"
        " activations, complete, in_progress, stalled, failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            stamp(recorded),
            __version__,
            json.dumps(list(inputs), ensure_ascii=False),
            len(report.inputs.read),
            report.inputs.lines,
            stamp(min(firsts)) if firsts else None,
            stamp(max(report.log_end.values())) if report.log_end else None,
            len(report.activations),
            *(statuses[s] for s in (Status.COMPLETE, Status.IN_PROGRESS, Status.STALLED, Status.FAILED)),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _row_of(act: Activation, attempt: Attempt) -> _Row:
    first = attempt.events[0]
    d = attempt.diagnosis
    uid = act.user_id
    return _Row(
        server=act.server or "",
        email=act.email,
        user_id=int(uid) if uid is not None and uid.isdigit() else uid,
        display_name=act.display_name,
        opened_by=_first_name(
            first.email, first.display_name, first.user_id, act.email, act.display_name, uid
        ),
        status=attempt.status.value,
        stage=attempt.stage,
        stage_name=attempt.stage_name,
        last_milestone=d.last_milestone,
        next_expected=d.next_expected,
        kb=d.kb,
        kb_title=d.kb_title,
        reason=d.reason,
        missing_logs=json.dumps(list(attempt.missing_logs)),
        started=stamp(attempt.started),
        last_progress=stamp(attempt.last_progress),
        completed=stamp(attempt.completed) if attempt.completed else None,
    )


def _first_name(*names: str | None) -> str:
    return next((n for n in names if n), "")


def _record_attempt(
    conn: sqlite3.Connection, run_id: int, act: Activation, attempt: Attempt
) -> tuple[bool, bool]:
    """Add or update one attempt; (whether it was new, whether its status or stage changed)."""
    new = _row_of(act, attempt)
    old = _known(conn, new, attempt)
    if old is None:
        cursor = conn.execute(
            f"INSERT INTO activations ({_COLUMNS}, first_run, last_run, changed_run)"
            f" VALUES ({', '.join('?' * len(astuple(new)))}, ?, ?, ?)",
            (*astuple(new), run_id, run_id, run_id),
        )
        assert cursor.lastrowid is not None
        activation_id = cursor.lastrowid
        changed = True
    else:
        activation_id = old["id"]
        changed = _update(conn, run_id, old, new)
    _merge_milestones(conn, activation_id, attempt)
    if changed:
        conn.execute(
            "INSERT OR REPLACE INTO changes (activation_id, run_id, status, stage, kb, last_progress)"
            " SELECT id, ?, status, stage, kb, last_progress FROM activations WHERE id = ?",
            (run_id, activation_id),
        )
    rewrite_durations(conn, activation_id)
    return old is None, changed and old is not None


def _update(conn: sqlite3.Connection, run_id: int, old: sqlite3.Row, new: _Row) -> bool:
    """Bring a known attempt up to date; whether its status or stage changed.  The verdict is
    the scan's that saw the attempt get furthest (a scan of fewer logs does not undo progress);
    names are kept and completed; the start is the earliest any scan saw."""
    values: dict[str, Any] = {
        "email": new.email or old["email"],
        "user_id": new.user_id if new.user_id is not None else old["user_id"],
        "display_name": new.display_name or old["display_name"],
        "last_run": run_id,
    }
    if new.started < old["started"]:
        values.update(started=new.started, opened_by=new.opened_by)
    changed = False
    if new.last_progress >= old["last_progress"]:
        values.update({k: getattr(new, k) for k in _VERDICT})
        changed = (new.status, new.stage) != (old["status"], old["stage"])
        if changed:
            values["changed_run"] = run_id
    conn.execute(
        f"UPDATE activations SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
        (*values.values(), old["id"]),
    )
    return changed


def _known(conn: sqlite3.Connection, new: _Row, attempt: Attempt) -> sqlite3.Row | None:
    """The attempt as the history already knows it, if it does."""
    same = conn.execute(
        "SELECT * FROM activations WHERE server = ? AND started = ? AND opened_by = ?",
        (new.server, new.started, new.opened_by),
    ).fetchone()
    if same is not None:
        return same  # type: ignore[no-any-return]
    given = (("email", new.email), ("user_id", new.user_id), ("display_name", new.display_name))
    names = [(c, v) for c, v in given if v is not None]
    if not names:
        return None
    person: list[sqlite3.Row] = conn.execute(
        f"SELECT * FROM activations WHERE server = ? AND ({' OR '.join(f'{c} = ?' for c, _ in names)})"
        " ORDER BY started",
        (new.server, *(v for _, v in names)),
    ).fetchall()
    for row in person:
        # The same lines seen over another stretch of the logs: attempts of one person never overlap.
        if row["started"] <= new.last_progress and new.started <= row["last_progress"]:
            return row
    stages = [e.stage for e in attempt.events if e.milestone and e.stage is not None]
    opening = min(stages, default=1)
    before = [row for row in person if row["started"] <= new.started]
    if opening > 1 and before:
        last = before[-1]
        # A later stretch only: the attempt begins part way, so it goes on with the person's last
        # unfinished attempt (a retry would begin at stage 1, with the ETP.DAT message).
        if last["status"] != Status.COMPLETE.value and last["stage"] <= opening:
            return last
    return None


def _merge_milestones(conn: sqlite3.Connection, activation_id: int, attempt: Attempt) -> None:
    """Each milestone at the earliest time any scan saw it."""
    first: dict[str, tuple[str, int | None, str, str, int]] = {}
    for e in sorted(attempt.events, key=lambda e: e.time):
        if e.milestone and e.milestone not in first:
            first[e.milestone] = (e.milestone, e.stage, stamp(e.time), e.file, e.line)
    conn.executemany(
        "INSERT INTO milestones (activation_id, milestone, stage, time, file, line) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (activation_id, milestone) DO UPDATE SET stage = excluded.stage,"
        " time = excluded.time, file = excluded.file, line = excluded.line"
        " WHERE excluded.time < milestones.time",
        [(activation_id, *m) for m in first.values()],
    )
