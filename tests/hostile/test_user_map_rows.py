"""User maps with many bad rows (issue 15): one note per reason, counting the rows and naming the
first lines, instead of one note per row; memory follows the rows kept, not the file's rows."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from bes_logdiag.usermap import read_map_file

HEADER = "MailboxSMTPAddr,UserConfigId,DisplayName,ServerName\n"


def write_map(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_bad_ids_are_one_note_with_their_first_lines(tmp_path: Path) -> None:
    rows = ['ok1@example.com,1,"One, Ok",BB1']
    rows += [f'bad{i}@example.com,x{i},"Bad, {i}",BB1' for i in range(12)]
    rows += ['ok2@example.com,2,"Two, Ok",BB1']
    users = write_map(tmp_path / "users.csv", rows)
    entries, notes = read_map_file(users)
    assert [e.user_id for e in entries] == ["1", "2"]
    assert [e.line for e in entries] == [2, 15]
    assert notes == [
        f"{users}: 12 rows left out: user id not a number (lines 3, 4, 5, 6, 7, ...; the first: 'x0')"
    ]


def test_each_reason_has_its_own_note(tmp_path: Path) -> None:
    rows = [f"a{i}@example.com,{i},A {i},BB2" for i in range(3)]  # another server: left out
    rows += ["b@example.com,zz,B,BB1", "c@example.com,yy,C,BB1"]  # ids not numbers
    rows += ["d@example.com,4,D,BB1"]
    users = write_map(tmp_path / "users.csv", rows)
    entries, notes = read_map_file(users, "BB1")
    assert [e.email for e in entries] == ["d@example.com"]
    assert notes == [
        f"{users}: 3 rows left out: the row is for another server than the file was given for "
        f"(--users BB1={users}) (lines 2, 3, 4; the first: 'BB2')",
        f"{users}: 2 rows left out: user id not a number (lines 5, 6; the first: 'zz')",
    ]


def test_one_bad_row_keeps_its_own_note(tmp_path: Path) -> None:
    users = write_map(tmp_path / "users.csv", ["a@example.com,1,A,", "b@example.com,bad,B,"])
    _, notes = read_map_file(users)
    assert notes == [f"{users}: line 3: user id 'bad' is not a number; row left out"]


@pytest.mark.parametrize("rows", [100_000])
def test_memory_follows_the_rows_kept(tmp_path: Path, rows: int) -> None:
    """Every row left out: what the map costs is its text, not a list of every row's cells
    (before: about 500 bytes a row, 50 MB here)."""
    users = write_map(
        tmp_path / "users.csv", [f'u{i}@example.com,x{i},"Name {i}, Given",BB1' for i in range(rows)]
    )
    size = users.stat().st_size
    tracemalloc.start()
    try:
        entries, notes = read_map_file(users)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entries == [] and len(notes) == 1
    assert peak < 3 * size, f"peak {peak:,} bytes for a {size:,}-byte map"
