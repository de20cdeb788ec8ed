"""The history file's schema: a version table, a file of schema 1 brought to the current one with
its rows kept and the new tables filled from them, in one step that either happens or not; files
of another program or of a newer bes-logdiag refused with one line."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_report

from bes_logdiag.history import store
from bes_logdiag.history.record import record_scan
from bes_logdiag.history.store import MIGRATIONS, SCHEMA_VERSION, HistoryError, Migration
from bes_logdiag.history.trend import read_trend

# Schema 1 as files in the field hold it: a migration, once released, is never edited (a change
# is a new migration), so its text is pinned here.
SCHEMA_1_SHA256 = "4fd243521eeded20e536628d7f1ed6f13ee9ec386f94d6a94de13569a27db903"

# One complete attempt as a scan recorded it in schema 1: the seed's pace (BES-LOGS.md section 3),
# key 2 s after the ETP.DAT pickup, service books 7 s later, GetConfig 39 s later, slow sync 742 s.
V1_ROWS = [
    "INSERT INTO schema_version VALUES (1, '2024-03-12T01:00:00.000')",
    "INSERT INTO runs VALUES (1, '2024-03-12T01:00:00.000', '0.1.0', '[\"Logs\"]', 3, 1200,"
    " '2024-03-11T00:00:01.000', '2024-03-11T23:50:00.000', 1, 1, 0, 0, 0)",
    "INSERT INTO activations VALUES (1, 'BES_EU_01', 'ian.dundas@example.net', 2573, 'Dundas, Ian',"
    " 'ian.dundas@example.net', 'complete', 4, 'Slow synchronization', 'slowsync_complete', NULL, NULL,"
    " NULL, 'slow synchronization complete', '[]', '2024-03-11T09:00:00.000', '2024-03-11T09:13:10.000',"
    " '2024-03-11T09:13:10.000', 1, 1)",
    *(
        f"INSERT INTO milestones VALUES (1, '{m}', {s}, '2024-03-11T{t}', 'BES_EU_01_{svc}_01_20240311_0001.txt', {n})"
        for n, (m, s, t, svc) in enumerate(
            [
                ("etp_received", 1, "09:00:00.000", "MAGT"),
                ("key_generated", 2, "09:00:02.000", "MAGT"),
                ("key_accept_sent", 2, "09:00:02.300", "MAGT"),
                ("service_books_requested", 3, "09:00:09.000", "MAGT"),
                ("itpolicy_queued", 3, "09:00:13.000", "POLC"),
                ("slowsync_started", 4, "09:00:48.000", "SYNC"),
                ("slowsync_complete", 4, "09:13:10.000", "SYNC"),
            ],
            start=10,
        )
    ),
]


def schema_1_file(path: Path) -> Path:
    """A history file as bes-logdiag wrote it with schema 1, holding one scan."""
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0].statements)
        for statement in V1_ROWS:
            conn.execute(statement)
    return path


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def test_schema_1_is_pinned() -> None:
    assert MIGRATIONS[0].version == 1
    assert hashlib.sha256(MIGRATIONS[0].statements.encode()).hexdigest() == SCHEMA_1_SHA256


def test_a_new_file_is_at_the_current_version(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    record_scan(db, scan_report(SAMPLE_LOGS))
    assert [v for (v,) in rows(db, "SELECT version FROM schema_version ORDER BY version")] == [
        1,
        SCHEMA_VERSION,
    ]
    assert SCHEMA_VERSION == 2
    tables = {t for (t,) in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"schema_version", "runs", "activations", "milestones", "stage_durations", "changes"}


def test_a_schema_1_file_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    db = schema_1_file(tmp_path / "old.sqlite")
    trend = read_trend(db)
    assert [v for (v,) in rows(db, "SELECT version FROM schema_version ORDER BY version")] == [1, 2]
    assert rows(db, "SELECT id, email, status, changed_run FROM activations") == [
        (1, "ian.dundas@example.net", "complete", 1)
    ]
    assert rows(db, "SELECT stage, seconds FROM stage_durations ORDER BY stage") == [
        (1, 2.0),
        (2, 7.0),
        (3, 39.0),
        (4, 742.0),
    ]
    assert rows(db, "SELECT activation_id, run_id, status, stage FROM changes") == [(1, 1, "complete", 4)]
    assert [(s.stage, s.median) for s in trend.total.stages] == [(1, 2.0), (2, 7.0), (3, 39.0), (4, 742.0)]
    assert (trend.runs, trend.total.started, trend.total.complete) == (1, 1, 1)


def test_an_upgraded_file_takes_new_scans(tmp_path: Path) -> None:
    db = schema_1_file(tmp_path / "old.sqlite")
    run = record_scan(db, scan_report(SAMPLE_LOGS))
    assert run.run_id == 2 and run.added == 20
    assert rows(db, "SELECT count(*) FROM activations") == [(21,)]
    result = run_cli("history", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"runs": 2' in result.stdout


def test_an_upgrade_that_fails_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = schema_1_file(tmp_path / "old.sqlite")
    before = db.read_bytes()

    def broken(conn: sqlite3.Connection) -> None:
        raise RuntimeError("backfill failed")

    monkeypatch.setattr(store, "MIGRATIONS", (MIGRATIONS[0], Migration(2, MIGRATIONS[1].statements, broken)))
    with pytest.raises(RuntimeError, match="backfill failed"):
        read_trend(db)
    assert [v for (v,) in rows(db, "SELECT version FROM schema_version")] == [1]
    assert "stage_durations" not in {t for (t,) in rows(db, "SELECT name FROM sqlite_master")}
    assert db.read_bytes() == before


def test_a_file_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    db = schema_1_file(tmp_path / "new.sqlite")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (9, '2030-01-01T00:00:00.000')")
    with pytest.raises(HistoryError) as e:
        record_scan(db, scan_report(SAMPLE_LOGS))
    assert str(e.value) == (
        f"{db}: cannot record this scan: written by a newer bes-logdiag (history schema 9; this one knows up to 2)"
    )


def test_an_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER)")
    result = run_cli("history", db)
    assert result.exit_code == 2
    assert result.stderr == (
        f"bes-logdiag: error: {db}: cannot read the history: an SQLite file of another program (tables: moz_places)\n"
    )
    assert rows(db, "SELECT name FROM sqlite_master") == [("moz_places",)]


def test_the_schema_is_documented_in_the_file(tmp_path: Path) -> None:
    """``sqlite3 FILE .schema`` shows the statements with their comments."""
    db = tmp_path / "h.sqlite"
    record_scan(db, scan_report(SAMPLE_LOGS))
    sql = {
        str(name): str(text)
        for name, text in rows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    }
    assert "-- one row per attempt" in sql["activations"]
    assert "-- how long an attempt spent in each stage" in sql["stage_durations"]
