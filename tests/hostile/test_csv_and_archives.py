"""Hostile input, part 2 (issue 15): text from logs that a spreadsheet would run as a formula, and
archives: zip members opened without reading the central directory again, tar archives (plain and
compressed, told by name or by content) read member by member, their links and odd names, and damaged
ones skipped with a reason, never read as logs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import EU1, JOERG, KIM, activation, merge, run_cli, scan_json, verdict_rows, write_server

from bes_logdiag.render.csv import guard_cell

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"]
"""Cells OWASP's CSV-injection guard must neutralise: formula starts, and tab and CR."""
T0 = datetime(2024, 3, 12, 9, 0)


# ---------------------------------------------------------------------------------------------
# CSV formula injection
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert guard_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Müller, Jörg", "a=b", "x-1", "", "2024-03-12T09:00:00", 4711, -2, None])
def test_other_cells_are_unchanged(value: object) -> None:
    assert guard_cell(value) == value


# The four that a display name keeps (the parser strips leading tabs and CRs from a name: those two
# are covered by the cell test above), and an address that starts like a formula.
NAMES = HOSTILE[:4]
ODD_ADDRESS = "=cmd@example.com"


def _hostile_logs(root: Path) -> Path:
    parts = merge(
        *(
            activation(f"u{i}@example.com", 100 + i, n, T0.replace(minute=i * 10))
            for i, n in enumerate(NAMES)
        ),
        activation(ODD_ADDRESS, 200, "Plain, Name", T0.replace(hour=11)),
    )
    write_server(root, EU1, parts)
    return root


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("command", ["scan", "events"])
def test_csv_guards_names_and_addresses_and_raw_does_not(tmp_path: Path, command: str) -> None:
    logs = _hostile_logs(tmp_path / "logs")
    guarded = run_cli(command, logs, "--format", "csv", "-q", "--jobs", "1")
    raw = run_cli(command, logs, "--format", "csv", "--raw", "-q", "--jobs", "1")
    assert guarded.exit_code == raw.exit_code == 0, (guarded.stderr, raw.stderr)
    assert guarded.stderr == raw.stderr == ""
    names = {r["display_name"] for r in _csv(guarded.stdout)}
    addresses = {r["email"] for r in _csv(guarded.stdout)}
    assert {"'" + n for n in NAMES} <= names
    assert "'" + ODD_ADDRESS in addresses
    assert not names & set(NAMES)
    raw_rows = _csv(raw.stdout)
    assert set(NAMES) <= {r["display_name"] for r in raw_rows}
    assert ODD_ADDRESS in {r["email"] for r in raw_rows}
    assert not any(v.startswith("'") for r in raw_rows for v in r.values())
    if command == "events":  # the line texts hold the names too
        texts = [r["text"] for r in raw_rows]
        assert any("=HYPERLINK" in t for t in texts)


@pytest.mark.parametrize("raw", [(), ("--raw",)])
@pytest.mark.parametrize("command", ["scan", "events"])
def test_a_carriage_return_in_a_cell_ends_no_row(tmp_path: Path, command: str, raw: tuple[str, ...]) -> None:
    """A lone CR inside an address went out bare: every spreadsheet and CSV reader started a row
    there, and the rest of the cell, a formula, stood unguarded at the start of it."""
    sneaky = "eve\r=2+5+cmd|' /c calc'!a0@example.com"
    write_server(tmp_path / "logs", EU1, activation(sneaky, 300, "Plain, Name", T0, upto="etp"))
    result = run_cli(command, tmp_path / "logs", "--format", "csv", "-q", "--jobs", "1", *raw)
    assert result.exit_code in (0, 1), result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    width = len(rows[0])
    assert all(len(r) == width for r in rows), rows
    assert not any(cell.startswith("=") for r in rows for cell in r)
    assert sneaky in {cell for r in rows[1:] for cell in r}


def test_json_keeps_names_and_addresses_as_logged(tmp_path: Path) -> None:
    logs = _hostile_logs(tmp_path / "logs")
    _, report, _ = scan_json(logs)
    assert {a["display_name"] for a in report["activations"]} >= set(NAMES)
    assert ODD_ADDRESS in {a["email"] for a in report["activations"]}
    result = run_cli("events", logs, "-q", "--jobs", "1")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(NAMES) <= {r["display_name"] for r in records}


@pytest.mark.parametrize(("command", "fmt"), [("scan", "json"), ("scan", "table"), ("events", "ndjson")])
def test_raw_is_for_csv_only(tmp_path: Path, command: str, fmt: str) -> None:
    logs = _hostile_logs(tmp_path / "logs")
    result = run_cli(command, logs, "--format", fmt, "--raw")
    assert result.exit_code == 2
    assert "--raw" in result.stderr and "csv" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------
# Zip: each member opened from its directory entry
# ---------------------------------------------------------------------------------------------


def _day_folder(root: Path) -> Path:
    """Two users on one server, in a day folder (complete and stalled)."""
    parts = merge(activation(*JOERG, T0), activation(*KIM, T0.replace(hour=10), upto="getconfig"))
    write_server(root, EU1, parts)
    return root


def test_a_zip_directory_is_read_once_whatever_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = _day_folder(tmp_path / "logs")
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(logs.rglob("*.txt")):
            z.write(p, str(p.relative_to(logs)))
        for i in range(60):  # same-sized filler: the duplicate check hashes each of them
            z.writestr(f"20240312/notes_{i:03d}.txt", f"note {i:03d}\n")
    opened: list[str] = []
    real = zipfile.ZipFile

    class Counting(real):  # type: ignore[misc,valid-type]
        def __init__(self, file: Any, *args: Any, **kw: Any) -> None:
            opened.append(str(file))
            super().__init__(file, *args, **kw)

    monkeypatch.setattr(zipfile, "ZipFile", Counting)
    _, from_zip, _ = scan_json(archive, jobs="4")
    # listed once; read once more, after the scan, for the lines around the stalled user's
    # evidence (`evidence_context`)
    assert opened == [str(archive)] * 2
    _, from_folder, _ = scan_json(logs)
    assert verdict_rows(from_zip) == verdict_rows(from_folder)
    assert len(from_zip["activations"]) == 2


# ---------------------------------------------------------------------------------------------
# Tar archives
# ---------------------------------------------------------------------------------------------


def _tar(path: Path, logs: Path, mode: str) -> Path:
    with tarfile.open(path, mode) as t:
        t.add(logs, arcname=logs.name)
    return path


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("logs.tar", "w"),
        ("logs.tar.gz", "w:gz"),
        ("logs.tgz", "w:gz"),
        ("logs.tar.xz", "w:xz"),
        ("evidence.bin", "w:gz"),  # told by content: gzip data whose first block is a tar header
        ("evidence", "w"),  # told by content: "ustar" at 257
    ],
)
def test_a_tar_gives_the_verdicts_of_its_folder(tmp_path: Path, name: str, mode: str) -> None:
    logs = _day_folder(tmp_path / "logs")
    _, from_folder, _ = scan_json(logs)
    archive = _tar(tmp_path / name, logs, mode)
    code, from_tar, stderr = scan_json(archive)
    assert verdict_rows(from_tar) == verdict_rows(from_folder)
    assert {a["server"] for a in from_tar["activations"]} == {EU1}
    assert from_tar["inputs"]["files_skipped"] == 0, from_tar["inputs"]["skipped"]
    assert from_tar["inputs"]["files_read"] == from_folder["inputs"]["files_read"]
    assert "NUL" not in stderr
    files = {f for a in from_tar["activations"] for m in a["milestones"] for f in [m.get("file")] if f}
    assert all(f.startswith(f"{archive}!logs/") for f in files), files


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_a_compressed_tar_is_inflated_in_one_pass_whatever_its_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    # Opening a .tar.gz afresh for each member inflates every member before it again: 2,000
    # members of 1 MB took 98 s.  Listing and the scan (which hashes for the duplicate check) read
    # it once each.
    logs = _day_folder(tmp_path / "logs")
    day = next(p for p in logs.rglob("*") if p.is_dir() and p.name.isdigit())
    first = next(day.glob("*MAGT*.txt")).read_text()
    for i in range(200):  # size-rotated iterations of the same size: all hashed, all scanned
        (day / f"{EU1}_MAGT_01_20240312_{i + 2:04d}.txt").write_text(first.replace("Queuing", f"Q{i:03d}"))
    archive = _tar(tmp_path / "logs.tar.gz", logs, "w:gz")
    opened: list[str] = []
    real = tarfile.open

    def counting(name: Any = None, *args: Any, fileobj: Any = None, **kw: Any) -> tarfile.TarFile:
        opened.append(str(name or getattr(fileobj, "name", "")))
        return real(name, *args, fileobj=fileobj, **kw)

    monkeypatch.setattr(tarfile, "open", counting)
    from_tar = run_cli("scan", archive, "--format", "csv", "--jobs", jobs, "-q")
    assert opened == [str(archive)] * 2, "listed, then scanned once (hashing the members as it reads them)"
    monkeypatch.setattr(tarfile, "open", real)
    from_folder = run_cli("scan", logs, "--format", "csv", "-q")
    assert from_tar.exit_code == from_folder.exit_code, from_tar.stderr
    assert from_tar.stdout.count("\n") > 1
    assert from_tar.stdout.replace(f"{archive}!logs", str(logs)) == from_folder.stdout


def _member(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


def _link(t: tarfile.TarFile, name: str, kind: bytes, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    t.addfile(info)


def test_tar_links_are_skipped_and_odd_names_are_only_names(tmp_path: Path) -> None:
    logs = _day_folder(tmp_path / "logs")
    log = next(p for p in sorted(logs.rglob("*MAGT*")))
    archive = tmp_path / "odd.tar"
    with tarfile.open(archive, "w") as t:
        _member(t, f"../evil/{log.name}", log.read_bytes())
        for p in sorted(logs.rglob("*.txt")):
            if p != log:
                _member(t, f"/abs/{p.name}", p.read_bytes())
        _link(t, "20240312/link.txt", tarfile.SYMTYPE, "/etc/passwd")
        _link(t, "20240312/hard.txt", tarfile.LNKTYPE, f"../evil/{log.name}")
        _link(t, "20240312/fifo", tarfile.FIFOTYPE, "")
    before = sorted(tmp_path.parent.iterdir())
    _, report, stderr = scan_json(archive)
    assert sorted(tmp_path.parent.iterdir()) == before
    assert not (tmp_path / "evil").exists() and not Path("/abs").exists()
    skipped = {s["path"]: s["reason"] for s in report["inputs"]["skipped"]}
    assert skipped == {
        f"{archive}!20240312/link.txt": "a symbolic link in the archive: not followed",
        f"{archive}!20240312/hard.txt": "a hard link in the archive: not followed",
        f"{archive}!20240312/fifo": "a device or pipe in the archive, not a file",
    }
    assert f"{archive}!20240312/link.txt: skipped: a symbolic link" in stderr
    _, from_folder, _ = scan_json(logs)
    assert verdict_rows(report) == verdict_rows(from_folder)


def test_a_damaged_tar_is_skipped_with_a_reason_never_read_as_a_log(tmp_path: Path) -> None:
    logs = _day_folder(tmp_path / "logs")
    whole = _tar(tmp_path / "whole.tar", logs, "w").read_bytes()
    with tarfile.open(tmp_path / "whole.tar") as t:
        first = next(m for m in t.getmembers() if m.isreg())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "junk.tar").write_bytes(b"not a tar at all\n" * 100)
    (bad / "cut.tar.gz").write_bytes(gzip.compress(whole)[:600])
    (bad / "cut.tar").write_bytes(whole[: first.offset_data + 100])  # in the first member's data
    after_first = first.offset_data - -first.size // tarfile.BLOCKSIZE * tarfile.BLOCKSIZE
    (bad / "unended.tar").write_bytes(whole[:after_first])  # after a whole member: no end blocks
    _, report, stderr = scan_json(bad, logs)
    reasons = {s["path"]: (s["reason"], s["partial"]) for s in report["inputs"]["skipped"]}
    assert reasons[str(bad / "junk.tar")] == (
        "not a readable tar archive (not a tar archive, or a damaged one)",
        False,
    )
    assert reasons[str(bad / "cut.tar.gz")][0].startswith("not a readable tar archive (")
    assert reasons[str(bad / "cut.tar")] == ("not a readable tar archive (unexpected end of data)", True)
    assert reasons[str(bad / "unended.tar")] == (
        "the tar archive ends without its end-of-archive blocks: cut short?",
        True,
    )
    assert {a["server"] for a in report["activations"]} == {EU1}
    assert "NUL" not in stderr
    _, from_folder, _ = scan_json(logs)
    assert verdict_rows(report) == verdict_rows(from_folder)
