"""How long an attempt spent in each stage, from the times it first reached each milestone."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

STAGES = (1, 2, 3, 4)


def stage_spans(
    entered: Mapping[int, datetime], completed: datetime | None
) -> list[tuple[int, datetime, datetime]]:
    """(stage, entered, left) for each stage the attempt left: from its first milestone in stage N
    to its first in stage N+1, and stage 4 to the completion.  A stage it is still in, stalled or
    failed in, or that its logs skip, has none; nor has a span a clock turned back made negative.
    (The fleet statistics of the reports measure stages the same way.)"""
    ends: dict[int, datetime | None] = {s: entered.get(s + 1) for s in STAGES[:-1]}
    ends[STAGES[-1]] = completed
    out = []
    for stage in STAGES:
        start, end = entered.get(stage), ends[stage]
        if start is not None and end is not None and end >= start:
            out.append((stage, start, end))
    return out


def rewrite_durations(conn: sqlite3.Connection, activation_id: int) -> None:
    """The ``stage_durations`` rows of one attempt, from its ``milestones`` rows and completion."""
    from bes_logdiag.history.store import stamp

    entered = {
        int(stage): datetime.fromisoformat(first)
        for stage, first in conn.execute(
            "SELECT stage, min(time) FROM milestones WHERE activation_id = ? AND stage IS NOT NULL"
            " GROUP BY stage",
            (activation_id,),
        )
    }
    (completed,) = conn.execute("SELECT completed FROM activations WHERE id = ?", (activation_id,)).fetchone()
    conn.execute("DELETE FROM stage_durations WHERE activation_id = ?", (activation_id,))
    conn.executemany(
        "INSERT INTO stage_durations (activation_id, stage, entered, ended, seconds) VALUES (?, ?, ?, ?, ?)",
        [
            (activation_id, stage, stamp(start), stamp(end), (end - start).total_seconds())
            for stage, start, end in stage_spans(
                entered, datetime.fromisoformat(completed) if completed else None
            )
        ],
    )
