"""A history file that cannot be used (garbage, damaged pages, locked by another program, a
missing folder) is one line naming the file and exit code 2; the scan's report is still written,
and the file is left as it was."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_report

from bes_logdiag.history import store
from bes_logdiag.history.record import record_scan
from bes_logdiag.history.store import HistoryError

SCAN_HAS_HISTORY = "--history" in run_cli("scan", "--help").stdout
needs_scan_history = pytest.mark.skipif(
    not SCAN_HAS_HISTORY,
    reason="cli/scan.py has no --history option yet (issue 20: the lead wires record_scan in)",
)


@pytest.fixture(scope="module")
def sample_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history file holding one scan of sample_logs/."""
    db = tmp_path_factory.mktemp("history") / "good.sqlite"
    record_scan(db, scan_report(SAMPLE_LOGS))
    return db


def garbage(path: Path) -> Path:
    path.write_bytes(b"not a database, a text file someone renamed\n" * 200)
    return path


def damaged(path: Path, good: Path) -> Path:
    """A real history file whose first page (the table of tables) was overwritten."""
    data = bytearray(good.read_bytes())
    data[100:1024] = b"\xff" * 924
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def locked(sample_history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of a good file that another program holds an exclusive lock on."""
    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.2)
    db = tmp_path / "locked.sqlite"
    db.write_bytes(sample_history.read_bytes())
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield db
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_file_that_is_no_database_is_one_line(tmp_path: Path) -> None:
    db = garbage(tmp_path / "h.sqlite")
    before = db.read_bytes()
    with pytest.raises(HistoryError) as e:
        record_scan(db, scan_report(SAMPLE_LOGS))
    assert str(e.value) == (
        f"{db}: cannot record this scan: damaged, or not a bes-logdiag history (file is not a database)"
    )
    assert db.read_bytes() == before


def test_a_damaged_file_is_one_line(tmp_path: Path, sample_history: Path) -> None:
    db = damaged(tmp_path / "h.sqlite", sample_history)
    with pytest.raises(HistoryError) as e:
        record_scan(db, scan_report(SAMPLE_LOGS))
    assert str(e.value).startswith(f"{db}: cannot record this scan: damaged, or not a bes-logdiag history (")
    assert "\n" not in str(e.value)


def test_a_locked_file_is_one_line_and_gets_no_rows(locked: Path) -> None:
    with sqlite3.connect(f"file:{locked}?mode=ro&nolock=1", uri=True) as peek:
        runs_before = peek.execute("SELECT count(*) FROM runs").fetchone()
    with pytest.raises(HistoryError) as e:
        record_scan(locked, scan_report(SAMPLE_LOGS))
    assert str(e.value) == (
        f"{locked}: cannot record this scan: another program holds the file locked (a scan still "
        "writing it?), for over 0.2 s (database is locked)"
    )
    with sqlite3.connect(f"file:{locked}?mode=ro&nolock=1", uri=True) as peek:
        assert peek.execute("SELECT count(*) FROM runs").fetchone() == runs_before


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HistoryError) as e:
        record_scan(tmp_path / "no" / "h.sqlite", scan_report(SAMPLE_LOGS))
    assert (
        str(e.value)
        == f"{tmp_path / 'no' / 'h.sqlite'}: cannot record this scan: no such folder {tmp_path / 'no'}"
    )


@pytest.mark.parametrize("kind", ["missing", "garbage", "damaged", "folder"])
def test_history_of_an_unusable_file_exits_2(kind: str, tmp_path: Path, sample_history: Path) -> None:
    db = tmp_path / "h.sqlite"
    expected = {
        "missing": f"{db}: cannot read the history: no such file (scan ... --history {db} makes it)",
        "garbage": f"{db}: cannot read the history: damaged, or not a bes-logdiag history (file is not a database)",
        "damaged": f"{db}: cannot read the history: damaged, or not a bes-logdiag history (",
        "folder": f"{db}: cannot read the history: a folder, not a file",
    }[kind]
    if kind == "garbage":
        garbage(db)
    elif kind == "damaged":
        damaged(db, sample_history)
    elif kind == "folder":
        db.mkdir()
    result = run_cli("history", db)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"bes-logdiag: error: {expected}")
    assert result.stderr.count("\n") == 1
    assert not (kind == "missing" and db.exists()), "reading a history never makes one"


def test_history_of_a_locked_file_exits_2(locked: Path) -> None:
    result = run_cli("history", locked)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "another program holds the file locked" in result.stderr and result.stderr.count("\n") == 1


@needs_scan_history
@pytest.mark.parametrize("kind", ["garbage", "damaged", "locked"])
def test_scan_writes_its_report_and_exits_2(
    kind: str, tmp_path: Path, sample_history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.2)
    db = tmp_path / "h.sqlite"
    other = None
    if kind == "garbage":
        garbage(db)
    elif kind == "damaged":
        damaged(db, sample_history)
    else:
        db.write_bytes(sample_history.read_bytes())
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
    report = tmp_path / "report.json"
    try:
        result = run_cli(
            "scan", SAMPLE_LOGS, "--format", "json", "-o", report, "--history", db, "-q", "-j", "1"
        )
    finally:
        if other is not None:
            other.execute("ROLLBACK")
            other.close()
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: {db}: cannot record this scan: ")
    assert result.stderr.count("\n") == 1
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["activations"] == 19


@needs_scan_history
def test_scan_to_stdout_still_prints_its_report(tmp_path: Path) -> None:
    db = garbage(tmp_path / "h.sqlite")
    result = run_cli("scan", SAMPLE_LOGS, "--format", "json", "--history", db, "-q", "-j", "1")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["summary"]["activations"] == 19
    assert "cannot record this scan" in result.stderr


@needs_scan_history
def test_scan_with_history_records_the_run_and_keeps_its_exit_code(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    for _ in range(2):
        result = run_cli("scan", SAMPLE_LOGS, "--format", "json", "--history", db, "-q", "-j", "1")
        assert result.exit_code == 1, result.stderr  # the sample has stalls and failures
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM activations").fetchone() == (20,)
        assert json.loads(conn.execute("SELECT inputs FROM runs WHERE id = 1").fetchone()[0]) == [
            str(SAMPLE_LOGS)
        ]


def test_scan_does_not_write_its_report_over_its_own_history(tmp_path: Path, sample_history: Path) -> None:
    """``scan LOGS --history h.sqlite -o h.sqlite`` replaced the history with the table, then
    called the file "damaged"; ``--write-baseline h.sqlite`` replaced it with the baseline."""
    db = tmp_path / "h.sqlite"
    shutil.copyfile(sample_history, db)
    before = db.read_bytes()
    for option in ("-o", "--write-baseline"):
        result = run_cli("scan", SAMPLE_LOGS, "--history", db, option, db, "-q")
        assert result.exit_code == 2
        assert f"{option} {db}: it is the input file {db}: the report would overwrite it" in result.stderr
        assert db.read_bytes() == before
