"""How long an attempt spent in each stage, from the times it first reached each milestone."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bes_logdiag.history.store import stamp
from bes_logdiag.stats import stage_spans


def rewrite_durations(conn: sqlite3.Connection, activation_id: int) -> None:
    """The ``stage_durations`` rows of one attempt, from its ``milestones`` rows and completion
    (`stats.stage_spans`: the reports' fleet statistics measure stages the same way)."""
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
