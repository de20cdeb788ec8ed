"""The same log twice: copies by their names, and the same bytes under any name, counted once.

An admin's folder holds Windows Explorer's ``X - Copy.txt``, a ``.bak``, the day folder zipped beside
it.  Copy-marked names still parse as BES names (BES-LOGS.md section 1), and a source whose bytes
another source holds is listed under ``inputs.duplicates`` with a note, its lines not counted, and
not "skipped".
"""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import TERSE_SITE, activation, bes_line, bes_name, run_cli, write_lines
from typer.testing import Result

from bes_logdiag import duplicates
from bes_logdiag.read import discover, file_info, is_copy_name

SERVER = "BBPROD01"
DATE = "20240101"
DAY = datetime(2024, 1, 1)
END = datetime(2024, 1, 1, 23, 50)
USERS = [
    ("tom.reed@example.com", 2001, "Reed, Tom", datetime(2024, 1, 1, 7, 10, 57, 893000)),
    ("ian.dundas@example.com", 2002, "Dundas, Ian", datetime(2024, 1, 1, 9, 30, 12, 250000)),
]


# --- the day's files and reading the report --------------------------------------------------


def noise(service: str, every: timedelta) -> list[tuple[datetime, str]]:
    """Routine lines from midnight to `END`: most of a real log is not activation."""
    t, out, n = datetime(2024, 1, 1, 0, 0, 1), [], 0
    while t <= END:
        n += 1
        if service == "MAGT":
            out.append(
                (
                    t,
                    bes_line(
                        t,
                        f"New mail has arrived, EntryId={280000 + n}",
                        tid="1B44",
                        user="cat@example.com",
                        eid=30085,
                    ),
                )
            )
        elif service == "POLC":
            out.append((t, bes_line(t, "SCS::PolicyCheck - no pending requests", tid="E1C")))
        else:
            out.append(
                (
                    t,
                    bes_line(
                        t,
                        "CheckResponseReceived - no changes detected.",
                        tid="C4",
                        user="Test User1",
                        eid=40089,
                    ),
                )
            )
        t += every
    out.append((END, bes_line(END, "Total Msgs Pending 0", tid="9C4", eid=30000)))
    return out


def write_day(folder: Path) -> dict[str, Path]:
    """A day folder of one server: MAGT, POLC and SYNC logs in which every user completes."""
    parts: dict[str, list[tuple[datetime, str]]] = {
        "MAGT": noise("MAGT", timedelta(minutes=3)),
        "POLC": noise("POLC", timedelta(minutes=20)),
        "SYNC": noise("SYNC", timedelta(minutes=7)),
    }
    for user in USERS:
        for service, lines in activation(*user, site=TERSE_SITE).items():
            parts[service] += lines
    return {
        s: write_lines(folder / bes_name(SERVER, s, DAY), [text for _, text in sorted(lines)])
        for s, lines in parts.items()
    }


def scan(*args: object) -> Result:
    return run_cli("scan", *args, "-f", "json")


def report(result: Result) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def verdicts(rep: dict[str, Any]) -> list[tuple[object, ...]]:
    return [(a["server"], a["email"], a["user_id"], a["status"], a["stage"]) for a in rep["activations"]]


def dups(rep: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["path"], d["same_as"]) for d in rep["inputs"]["duplicates"]]


def note(copy: Path | str, original: Path | str) -> str:
    return f"{copy} holds the same bytes as {original}: counted once"


@pytest.fixture
def day(tmp_path: Path) -> dict[str, Path]:
    return write_day(tmp_path / "Logs" / DATE)


@pytest.fixture
def clean(day: dict[str, Path]) -> dict[str, Any]:
    rep = report(scan(day["MAGT"].parent))
    assert verdicts(rep) == [
        (SERVER, "tom.reed@example.com", 2001, "complete", 4),
        (SERVER, "ian.dundas@example.com", 2002, "complete", 4),
    ]
    return rep


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "server"),
    [
        ("BBPROD01_MAGT_01_20240101_0001 - Copy.txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 - Copy (2).txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 - Copy - Copy.txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 (2).txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001(1).txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001.txt.bak", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001.bak", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 copy.txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 copy 2.txt", "BBPROD01"),
        ("Copy of BBPROD01_MAGT_01_20240101_0001.txt", "BBPROD01"),
        ("Copy (2) of BBPROD01_MAGT_01_20240101_0001.txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001 - Kopie.txt", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001.txt.gz", "BBPROD01"),
        ("BBPROD01_MAGT_01_20240101_0001.log", "BBPROD01"),
        ("bbprod01_magt_01_20240101_0001 - COPY.TXT", "bbprod01"),
        ("BES_EAST_02_MAGT_01_20240101_0001 - Copy.txt", "BES_EAST_02"),
        ("Copy of BES_EAST_02_MAGT_01_20240101_0001.txt.bak", "BES_EAST_02"),
        (r"C:\Logs\20240101\BES_EAST_02_MAGT_01_20240101_0001 - Copy.txt", "BES_EAST_02"),
    ],
)
def test_copies_keep_their_bes_name(name: str, server: str) -> None:
    info = file_info(name)
    assert (info.server, info.service, info.instance, info.day, info.iteration) == (
        server,
        "MAGT",
        1,
        datetime(2024, 1, 1),
        1,
    )


@pytest.mark.parametrize(
    ("name", "copy"),
    [
        ("BBPROD01_MAGT_01_20240101_0001.txt", False),
        ("BBPROD01_MAGT_01_20240101_0001.txt.gz", False),
        ("BBPROD01_MAGT_01_20240101_0001.log", False),
        ("BBPROD01_MAGT_01_20240101_0001 - Copy.txt", True),
        ("BBPROD01_MAGT_01_20240101_0001.txt.bak", True),
        ("Copy of BBPROD01_MAGT_01_20240101_0001.txt", True),
        ("excerpt.txt", True),
    ],
)
def test_a_copy_is_told_by_its_name(name: str, copy: bool) -> None:
    assert is_copy_name(name) is copy


def test_names_that_only_look_alike_still_say_nothing() -> None:
    for name in (
        "BBPROD01_MAGT_01_20240101_0001_extra.txt",
        "BBPROD01_MAGT_01_20241301_0001.txt",
        "notes.txt",
    ):
        assert file_info(name).server is None, name


# --- the same bytes, counted once ----------------------------------------------------------------


def test_an_explorer_copy_counts_once_and_invents_nothing(
    day: dict[str, Path], clean: dict[str, Any]
) -> None:
    copy = day["MAGT"].with_name(f"{SERVER}_MAGT_01_{DATE}_0001 - Copy.txt")
    shutil.copy(day["MAGT"], copy)
    result = scan(day["MAGT"].parent, "--strict")
    rep = report(result)
    assert result.exit_code == 0
    assert verdicts(rep) == verdicts(clean)
    assert all(a["server"] is not None for a in rep["activations"])
    assert dups(rep) == [(str(copy), str(day["MAGT"]))], "the copy sorts first; the plain name is read"
    assert note(copy, day["MAGT"]) in rep["notes"]
    assert f"bes-logdiag: {note(copy, day['MAGT'])}\n" in result.stderr
    assert rep["inputs"]["files_read"] == clean["inputs"]["files_read"] == 3
    assert (rep["inputs"]["lines"], rep["inputs"]["bytes"]) == (
        clean["inputs"]["lines"],
        clean["inputs"]["bytes"],
    )
    assert rep["inputs"]["skipped"] == [] and rep["inputs"]["ignored"] == []
    assert not any("repeat" in n for n in rep["notes"])


@pytest.mark.parametrize(
    "copy_name",
    [
        f"{SERVER}_MAGT_01_{DATE}_0001 - Copy (2).txt",
        f"{SERVER}_MAGT_01_{DATE}_0001 (2).txt",
        f"{SERVER}_MAGT_01_{DATE}_0001.txt.bak",
        f"{SERVER}_MAGT_01_{DATE}_0001.bak",
        f"{SERVER}_MAGT_01_{DATE}_0001 copy.txt",
        f"Copy of {SERVER}_MAGT_01_{DATE}_0001.txt",
        "ticket 4711 log.txt",
        f"../20240102/{SERVER}_MAGT_01_{DATE}_0001.txt",
    ],
)
def test_the_same_bytes_under_another_name_count_once(
    day: dict[str, Path], clean: dict[str, Any], copy_name: str
) -> None:
    copy = (day["MAGT"].parent / copy_name).resolve()
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(day["MAGT"], copy)
    rep = report(scan(day["MAGT"].parent, copy))
    assert dups(rep) == [(str(copy), str(day["MAGT"]))]
    assert verdicts(rep) == verdicts(clean)
    assert rep["inputs"]["files_read"] == 3


def test_a_zip_given_beside_its_folder_counts_once(day: dict[str, Path], clean: dict[str, Any]) -> None:
    archive = day["MAGT"].parent.parent / f"{DATE}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in day.values():
            zf.write(path, f"{DATE}/{path.name}")
    for args in ((archive, day["MAGT"].parent), (day["MAGT"].parent, archive)):
        rep = report(scan(*args))
        assert sorted(dups(rep)) == sorted((f"{archive}!{DATE}/{p.name}", str(p)) for p in day.values())
        assert [f["path"] for f in rep["inputs"]["files"]] == [str(p) for p in sorted(day.values())]
        assert verdicts(rep) == verdicts(clean)


def test_between_two_copies_with_plain_names_the_first_given_is_read(day: dict[str, Path]) -> None:
    other = day["MAGT"].parent.parent / "again" / day["MAGT"].name
    other.parent.mkdir()
    shutil.copy(day["MAGT"], other)
    rep = report(scan(other, day["MAGT"].parent))
    assert dups(rep) == [(str(day["MAGT"]), str(other))]


def test_a_gz_and_its_original_are_two_inputs_whose_lines_count_once(
    day: dict[str, Path], clean: dict[str, Any]
) -> None:
    """gzip data is compared as stored; the line-level dedupe keeps the events from counting twice."""
    packed = day["MAGT"].parent / "packed" / (day["MAGT"].name + ".gz")
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(day["MAGT"].read_bytes()))
    rep = report(scan(day["MAGT"].parent))
    assert dups(rep) == []
    assert rep["inputs"]["files_read"] == 4
    assert verdicts(rep) == verdicts(clean)
    assert any(n.startswith(f"8 matched lines in {packed} repeat") for n in rep["notes"]), rep["notes"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_copy_of_a_gz_counts_once(day: dict[str, Path], clean: dict[str, Any], jobs: str) -> None:
    """Gzip data of the same size is hashed as stored, once the scan has inflated it: two
    byte-identical .gz files are one input, a third with other bytes of that size is another."""
    packed = day["MAGT"].parent / "packed" / (day["MAGT"].name + ".gz")
    packed.parent.mkdir()
    data = gzip.compress(day["MAGT"].read_bytes(), mtime=0)
    packed.write_bytes(data)
    copy = packed.with_name(packed.name.replace(".txt.gz", " - Copy.txt.gz"))
    copy.write_bytes(data)
    other = packed.with_name(packed.name.replace("_0001.txt.gz", "_0002.txt.gz"))
    other.write_bytes(data[:-8] + bytes(8))  # the same size, a damaged trailer
    rep = report(scan(day["MAGT"].parent, "--jobs", jobs))
    assert dups(rep) == [(str(copy), str(packed))]
    assert rep["inputs"]["files_read"] == 5
    assert verdicts(rep) == verdicts(clean)


def test_two_servers_logs_with_the_same_bytes_are_both_read(day: dict[str, Path]) -> None:
    twin = day["SYNC"].with_name(day["SYNC"].name.replace(SERVER, "BBPROD02"))
    shutil.copy(day["SYNC"], twin)
    rep = report(scan(day["SYNC"].parent))
    assert dups(rep) == []
    assert rep["inputs"]["files_read"] == 4


def test_the_same_size_with_other_bytes_is_read(day: dict[str, Path], clean: dict[str, Any]) -> None:
    """An older .bak of the same length differs in its last line: both are read."""
    data = day["POLC"].read_bytes()
    older = day["POLC"].with_name(day["POLC"].name + ".bak")
    older.write_bytes(data.replace(b"Pending 0", b"Pending 7"))
    assert older.stat().st_size == day["POLC"].stat().st_size
    rep = report(scan(day["POLC"].parent))
    assert dups(rep) == []
    assert rep["inputs"]["files_read"] == 4
    assert verdicts(rep) == verdicts(clean)


def test_many_duplicates_are_noted_by_name_up_to_ten(day: dict[str, Path]) -> None:
    copies = []
    for n in range(2, 14):
        copies.append(day["POLC"].with_name(f"{SERVER}_POLC_01_{DATE}_0001 - Copy ({n}).txt"))
        shutil.copy(day["POLC"], copies[-1])
    result = scan(day["POLC"].parent)
    rep = report(result)
    assert len(dups(rep)) == 12
    named = [n for n in rep["notes"] if n.endswith(": counted once") and " holds " in n]
    assert len(named) == 10
    assert "2 more inputs hold the same bytes as inputs already read: counted once" in rep["notes"]


# --- cheaply --------------------------------------------------------------------------------


def test_only_sources_whose_sizes_collide_are_hashed(
    day: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[tuple[str, int | None]] = []
    real = duplicates._hash

    def spy(src: Any, limit: int | None, tars: Any) -> bytes | None:
        hashed.append((src.name, limit))
        return real(src, limit, tars)

    monkeypatch.setattr(duplicates, "_hash", spy)
    sources, _ = discover([str(day["MAGT"].parent)])
    kept, found = duplicates.find_duplicates(sources)
    assert (kept, found, hashed) == (sources, [], []), "distinct sizes: nothing is read"

    same_size = day["SYNC"].with_name("same size.txt")
    same_size.write_bytes(b"x" * day["SYNC"].stat().st_size)
    copy = day["POLC"].with_name("copy.txt")
    shutil.copy(day["POLC"], copy)
    kept, found = duplicates.find_duplicates(discover([str(day["MAGT"].parent)])[0])
    assert [(d.path, d.same_as) for d in found] == [(str(copy), str(day["POLC"]))]
    heads = sorted(name for name, limit in hashed if limit is not None)
    wholes = sorted(name for name, limit in hashed if limit is None)
    assert heads == sorted(str(p) for p in (day["SYNC"], same_size, day["POLC"], copy))
    assert wholes == [], "no longer than their first 64 KiB: the heads tell them apart, or alike"

    # Longer than their heads, the same there, different after: read to the end, both kept.
    hashed.clear()
    longer = [day["MAGT"].with_name(f"longer {n}.txt") for n in (1, 2)]
    for n, path in enumerate(longer):
        path.write_bytes(b"x" * duplicates.HEAD_BYTES + b"tail %d\n" % n)
    kept, found = duplicates.find_duplicates(discover([str(day["MAGT"].parent)])[0])
    assert [(d.path, d.same_as) for d in found] == [(str(copy), str(day["POLC"]))]
    assert sorted(name for name, limit in hashed if limit is None) == sorted(map(str, longer))


def test_a_scan_hashes_only_sources_whose_first_and_last_bytes_agree(
    day: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readers fingerprint what they read (`duplicates.probe`): size-rotated logs of one
    size are not hashed at all; a copy, and a file that differs only in its middle, are hashed
    whole, and only the copy is set aside."""
    hashed: list[tuple[str, int | None]] = []
    real = duplicates._hash

    def spy(src: Any, limit: int | None, tars: Any) -> bytes | None:
        hashed.append((Path(src.path).name, limit))
        return real(src, limit, tars)

    monkeypatch.setattr(duplicates, "_hash", spy)
    folder = day["MAGT"].parent
    lines = [b"[40000] (01/01 00:%02d:%02d.000) <0x1B44> New mail has arrived, EntryId=%d\r\n" % (
        n // 60, n % 60, n) for n in range(400)]  # fmt: skip
    body = b"".join(lines)
    assert len(body) > 3 * duplicates.PROBE_BYTES
    for n in (2, 3):  # one size, other bytes throughout: rotations of a busy log
        (folder / f"{SERVER}_MAGT_01_{DATE}_000{n}.txt").write_bytes(body.replace(b"(01/01", b"(01/0%d" % n))
    rotated = folder / f"{SERVER}_MAGT_01_{DATE}_0004.txt"
    rotated.write_bytes(body)
    middle = len(body) // 2
    (folder / f"{SERVER}_MAGT_01_{DATE}_0005.txt").write_bytes(
        body[:middle] + body[middle:].replace(b"EntryId=2", b"EntryId=7", 1)
    )
    copy = rotated.with_name(rotated.stem + " - Copy.txt")
    shutil.copy(rotated, copy)

    rep = report(scan(folder))
    assert dups(rep) == [(str(copy), str(rotated))]
    assert all(limit is None for _, limit in hashed), "probed: never hashed by their heads"
    assert sorted(name for name, _ in hashed) == sorted(
        [rotated.name, copy.name, f"{SERVER}_MAGT_01_{DATE}_0005.txt"]
    )
    assert rep["inputs"]["files_read"] == 3 + 4


def test_the_messy_folder_of_an_admin_gives_the_verdicts_of_the_clean_one(
    day: dict[str, Path], clean: dict[str, Any]
) -> None:
    """Copies, a .bak, the day zipped beside it, another service's log, Thumbs.db, desktop.ini
    and an installer log: the same verdicts and exit code, every extra accounted for."""
    folder = day["MAGT"].parent
    before = run_cli("scan", folder, "-f", "json", "--strict")
    copy = folder / f"{SERVER}_MAGT_01_{DATE}_0001 - Copy.txt"
    shutil.copy(day["MAGT"], copy)
    bak = folder / f"{SERVER}_POLC_01_{DATE}_0001.txt.bak"
    shutil.copy(day["POLC"], bak)
    archive = folder.parent / f"{DATE}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(day["MAGT"], day["MAGT"].name)
    mdat = write_lines(
        folder / f"{SERVER}_MDAT_01_{DATE}_0001.txt",
        [
            bes_line(
                END, "MDS-CS: HTTP request from device, tom.reed@example.com, size=2048", tid="A10", eid=30000
            )
        ],
    )
    thumbs = folder / "Thumbs.db"
    thumbs.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    ini = write_lines(
        folder / "desktop.ini", ["[.ShellClassInfo]", "IconResource=C:\\Windows\\System32\\imageres.dll,-3"]
    )
    setup = write_lines(
        folder / "setup.log",
        ["=== Verbose logging started: 1/1/2024  06:59:58  Build type: SHIP UNICODE 5.00.10011.00 ==="],
    )

    result = run_cli("scan", folder, archive, "-f", "json", "--strict")
    assert result.exit_code == before.exit_code == 0, result.stderr
    rep = json.loads(result.stdout)
    assert verdicts(rep) == verdicts(clean)
    assert all(a["server"] == SERVER for a in rep["activations"]), "no server: null activation"
    assert sorted(dups(rep)) == sorted(
        [(str(copy), str(day["MAGT"])), (str(bak), str(day["POLC"])), (f"{archive}!{day['MAGT'].name}", str(day["MAGT"]))]
    )  # fmt: skip
    for path, same_as in dups(rep):
        assert note(path, same_as) in rep["notes"]
        assert f"bes-logdiag: {note(path, same_as)}\n" in result.stderr
    assert {i["path"]: i["reason"] for i in rep["inputs"]["ignored"]} == {
        str(mdat): "MDAT log: no activation milestones are written by this service",
        str(thumbs): "not a log file (Thumbs.db)",
        str(ini): "not a log file (desktop.ini)",
        str(setup): "installer log, not a BES log (setup.log)",
    }
    assert rep["inputs"]["skipped"] == []
    assert rep["inputs"]["files_read"] == clean["inputs"]["files_read"] == 3
    assert [f["path"] for f in rep["inputs"]["files"]] == [f["path"] for f in clean["inputs"]["files"]]
    assert rep["log_end"] == clean["log_end"]
    assert "skipped" not in result.stderr
