"""Recording scans in the history file: the same logs twice add no row; a scan of a later day
moves an attempt on (stalled, then complete) and keeps when that happened; a scan that saw less
undoes nothing; a retry is a row of its own."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import (
    SAMPLE_LOGS,
    Lines,
    Parts,
    activation,
    bes_line,
    command_text,
    complete_text,
    mail_flow,
    merge,
    scan_report,
    write_server,
)

from bes_logdiag.history.record import record_scan

SERVER = "BES_EU_01"
IAN = ("ian.dundas@example.net", 2573, "Dundas, Ian")
DAY1 = datetime(2024, 3, 11)
DAY2 = DAY1 + timedelta(days=1)
IDLE = {
    "MAGT": "Total Msgs Pending 0",
    "POLC": "SCS::PollForChanges - no IT policy changes in group Default",
    "SYNC": "[SYNC-Backend] Polling configuration database, 0 changes",
}


def quiet_hours(start: datetime, end: datetime) -> Parts:
    """Every service's logs running from ``start`` to ``end``, with mail flow on the agent."""
    edges = {
        svc: [(t, bes_line(t, text, tid="9C4", eid=30000)) for t in (start, end)]
        for svc, text in IDLE.items()
    }
    return merge(edges, {"MAGT": mail_flow(start, end, step=900)})


def sync_lines(t: datetime, *, upto_complete: bool = True) -> Lines:
    """Ian's slow synchronization from ``t`` (GetConfig, one command, and its end 12 minutes on)."""
    lines = [
        (t, bes_line(t, command_text("GetConfig", IAN[2], IAN[1]), tid="1294", eid=46046)),
        (t + timedelta(minutes=3), bes_line(t + timedelta(minutes=3), command_text("SyncData", IAN[2], IAN[1]), tid="1294", eid=46047)),
    ]  # fmt: skip
    if upto_complete:
        done = t + timedelta(minutes=12)
        lines.append((done, bes_line(done, complete_text(IAN[2], IAN[1]), tid="12AC", eid=36023)))
    return lines


def write_two_days(root: Path) -> tuple[Path, Path]:
    """Day 1: Ian's activation reaches stage 3 at 09:00 and the logs run on to 23:50, so it is
    stalled; day 2: its slow synchronization at 08:00, complete at 08:12.  The two day folders."""
    day1 = merge(activation(*IAN, DAY1.replace(hour=9), upto="policy"), quiet_hours(DAY1.replace(hour=8), DAY1.replace(hour=23, minute=50)))  # fmt: skip
    day2 = merge(
        {"SYNC": sync_lines(DAY2.replace(hour=8))}, quiet_hours(DAY2.replace(hour=7), DAY2.replace(hour=12))
    )
    write_server(root, SERVER, merge(day1, day2))
    return root / f"{DAY1:%Y%m%d}", root / f"{DAY2:%Y%m%d}"


def table(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute(sql, args)]


def counts(db: Path) -> dict[str, int]:
    tables = ("runs", "activations", "milestones", "stage_durations", "changes")
    return {t: table(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def test_scanning_the_same_logs_twice_adds_no_rows(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    report = scan_report(SAMPLE_LOGS)
    first = record_scan(db, report, inputs=[str(SAMPLE_LOGS)])
    before = counts(db)
    rows = table(db, "SELECT * FROM activations ORDER BY id")
    second = record_scan(db, scan_report(SAMPLE_LOGS), inputs=[str(SAMPLE_LOGS)])
    attempts = sum(len(a.attempts) for a in report.activations)
    assert (first.attempts, first.added, second.added, second.changed) == (attempts, attempts, 0, 0)
    assert counts(db) == {**before, "runs": 2}
    # The second run only says it saw them too.
    again = table(db, "SELECT * FROM activations ORDER BY id")
    last_run = [c[0] for c in table(db, "SELECT name FROM pragma_table_info('activations')")].index(
        "last_run"
    )
    assert [r[:last_run] for r in again] == [r[:last_run] for r in rows]
    assert {r[last_run] for r in again} == {second.run_id}
    assert before["activations"] == attempts == 20


@pytest.mark.parametrize("later", ["both days", "the second day only"])
def test_a_scan_of_a_later_day_moves_the_attempt_on(tmp_path: Path, later: str) -> None:
    day1, day2 = write_two_days(tmp_path / "logs")
    db = tmp_path / "history.sqlite"
    run1 = record_scan(db, scan_report(day1), recorded=datetime(2024, 3, 12, 1, 0))
    assert table(db, "SELECT status, stage, kb IS NOT NULL, completed FROM activations") == [
        ("stalled", 3, 1, None)
    ]
    paths = [day1.parent] if later == "both days" else [day2]
    run2 = record_scan(db, scan_report(*paths), recorded=datetime(2024, 3, 13, 1, 0))
    assert (run2.added, run2.changed) == (0, 1)
    assert table(
        db, "SELECT email, user_id, display_name, status, stage, kb, started, completed, first_run, changed_run FROM activations"
    ) == [
        (IAN[0], IAN[1], IAN[2], "complete", 4, None, "2024-03-11T09:00:00.000", "2024-03-12T08:12:00.000", run1.run_id, run2.run_id)
    ]  # fmt: skip
    # When it changed: stalled as the first run found it, complete as the second did.
    assert table(
        db, "SELECT r.recorded, c.status, c.stage, c.last_progress FROM changes c JOIN runs r ON r.id = c.run_id ORDER BY r.id"
    ) == [
        ("2024-03-12T01:00:00.000", "stalled", 3, "2024-03-11T09:00:13.000"),
        ("2024-03-13T01:00:00.000", "complete", 4, "2024-03-12T08:12:00.000"),
    ]  # fmt: skip
    stages = table(db, "SELECT stage, entered, ended FROM stage_durations ORDER BY stage")
    assert stages[2:] == [
        (3, "2024-03-11T09:00:09.000", "2024-03-12T08:00:00.000"),
        (4, "2024-03-12T08:00:00.000", "2024-03-12T08:12:00.000"),
    ]
    assert [s[0] for s in stages] == [1, 2, 3, 4]


def test_a_scan_that_saw_less_undoes_nothing(tmp_path: Path) -> None:
    day1, _ = write_two_days(tmp_path / "logs")
    db = tmp_path / "history.sqlite"
    record_scan(db, scan_report(day1.parent))
    run = record_scan(db, scan_report(day1))
    assert (run.added, run.changed) == (0, 0)
    assert table(db, "SELECT status, stage, display_name FROM activations") == [("complete", 4, IAN[2])]
    assert table(db, "SELECT status FROM changes") == [("complete",)]


def test_a_retry_is_a_row_of_its_own(tmp_path: Path) -> None:
    """Day 1 stops at stage 1; day 2 the user activates again from the start: two attempts,
    whichever way the logs are scanned."""
    day1 = merge(
        activation(*IAN, DAY1.replace(hour=9), upto="etp"),
        quiet_hours(DAY1.replace(hour=8), DAY1.replace(hour=23)),
    )
    day2 = merge(
        activation(*IAN, DAY2.replace(hour=9)), quiet_hours(DAY2.replace(hour=8), DAY2.replace(hour=23))
    )
    write_server(tmp_path / "logs", SERVER, merge(day1, day2))
    db = tmp_path / "history.sqlite"
    record_scan(db, scan_report(tmp_path / "logs" / f"{DAY1:%Y%m%d}"))
    record_scan(db, scan_report(tmp_path / "logs" / f"{DAY2:%Y%m%d}"))
    record_scan(db, scan_report(tmp_path / "logs"))
    assert table(db, "SELECT status, stage, started FROM activations ORDER BY started") == [
        ("stalled", 1, "2024-03-11T09:00:00.000"),
        ("complete", 4, "2024-03-12T09:00:00.000"),
    ]
    assert counts(db)["runs"] == 3


def test_each_attempt_keeps_the_time_of_each_milestone(tmp_path: Path) -> None:
    day1, _ = write_two_days(tmp_path / "logs")
    db = tmp_path / "history.sqlite"
    record_scan(db, scan_report(day1.parent))
    got = table(db, "SELECT milestone, stage, time FROM milestones ORDER BY time")
    assert got == [
        ("etp_received", 1, "2024-03-11T09:00:00.000"),
        ("key_generated", 2, "2024-03-11T09:00:02.000"),
        ("key_accept_sent", 2, "2024-03-11T09:00:02.300"),
        ("service_books_requested", 3, "2024-03-11T09:00:09.000"),
        ("itpolicy_queued", 3, "2024-03-11T09:00:13.000"),
        ("slowsync_started", 4, "2024-03-12T08:00:00.000"),
        ("slowsync_progress", 4, "2024-03-12T08:03:00.000"),
        ("slowsync_complete", 4, "2024-03-12T08:12:00.000"),
    ]
    files = {f for (f,) in table(db, "SELECT file FROM milestones")}
    assert all(Path(f).name.startswith(f"{SERVER}_") for f in files)
