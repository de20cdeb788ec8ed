"""Reading: BES file names, folders, archives, encodings, line-aligned chunks."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import bes_line, bes_name, run_cli, scan_json, write_lines
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bes_logdiag.decode import Encoding, read_chunks
from bes_logdiag.filescan import scan_source
from bes_logdiag.match import Matcher
from bes_logdiag.read import discover, file_info


@pytest.mark.parametrize(
    ("name", "server", "service", "instance", "day", "iteration"),
    [
        ("BBServer01_MAGT_01_20070120_0001.txt", "BBServer01", "MAGT", 1, datetime(2007, 1, 20), 1),
        ("RIMBES_POLC_01_20051231_0001.txt", "RIMBES", "POLC", 1, datetime(2005, 12, 31), 1),
        ("BES_EAST_02_SYNC_01_20240101_0003.txt", "BES_EAST_02", "SYNC", 1, datetime(2024, 1, 1), 3),
        ("my_bes_MAGT_05_20100521_0002.txt.gz", "my_bes", "MAGT", 5, datetime(2010, 5, 21), 2),
        (r"C:\Logs\20100521\BB01_CMNG_01_20100521_0001.txt", "BB01", "CMNG", 1, datetime(2010, 5, 21), 1),
    ],
)
def test_bes_file_names(
    name: str, server: str, service: str, instance: int, day: datetime, iteration: int
) -> None:
    info = file_info(name)
    assert (info.server, info.service, info.instance, info.day, info.iteration) == (
        server,
        service,
        instance,
        day,
        iteration,
    )


def test_other_names_say_nothing_but_a_day_folder_gives_the_date() -> None:
    assert file_info("excerpt.txt").server is None
    info = file_info("Logs/20100521/excerpt.txt")
    assert info.server is None and info.day == datetime(2010, 5, 21)


def test_folders_recursive_and_mixed_with_files(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "d1" / "sub" / "S_MAGT_01_20100521_0001.txt", ["x"])
    b = write_lines(tmp_path / "S_POLC_01_20100521_0001.txt", ["x"])
    sources, skipped = discover([str(tmp_path / "d1"), str(b), str(tmp_path / "missing")])
    assert [s.name for s in sources] == [str(a), str(b)]
    assert [(s.path, s.reason) for s in skipped] == [(str(tmp_path / "missing"), "no such file or folder")]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "S_MAGT_01_20100521_0001.txt", ["x"])
    sources, _ = discover([str(a), str(tmp_path)])
    assert len(sources) == 1


LINES = [
    bes_line("05/21 06:00:00.000", "Total Msgs Pending 1"),
    bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="jürgen.müller@example.net"),
    bes_line(
        "05/21 06:52:24.000",
        '[SYNC-DSession] Received "GetConfig" command from device. [Müller, Jürgen:88]',
        eid=46046,
    ),
]


def _encoded(encoding: str, newline: str = "\r\n") -> bytes:
    text = newline.join(LINES) + newline
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if encoding == "utf-16-le":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-16-be":
        return b"\xfe\xff" + text.encode("utf-16-be")
    if encoding == "utf-16-le-nobom":
        return text.encode("utf-16-le")
    return text.encode(encoding)


def _scan(path: Path, library: object) -> tuple[list[object], object]:
    sources, skipped = discover([str(path)])
    assert not skipped
    results = [
        scan_source(s, Matcher(library), year=None, default_year=2010, thread_window=timedelta(minutes=5))  # type: ignore[arg-type]
        for s in sources
    ]
    return [e for r in results for e in r.events], results[0].stats


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-16-le-nobom", "utf-16-le"),
        ("cp1252", "cp1252"),
    ],
)
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_encodings_give_the_same_events(
    tmp_path: Path, library: object, encoding: str, label: str, newline: str
) -> None:
    path = tmp_path / "BB01_MAGT_01_20100521_0001.txt"
    path.write_bytes(_encoded(encoding, newline))
    events, stats = _scan(path, library)
    assert [(e.milestone, e.line) for e in events] == [("key_generated", 2), ("slowsync_started", 3)]  # type: ignore[attr-defined]
    assert events[0].email == "jürgen.müller@example.net"  # type: ignore[attr-defined]
    assert events[1].display_name == "Müller, Jürgen"  # type: ignore[attr-defined]
    assert stats.lines == 3 and stats.encoding == label  # type: ignore[attr-defined]


def test_gzip_and_zip_members_are_streamed(tmp_path: Path, library: object) -> None:
    raw = _encoded("utf-8")
    gz = tmp_path / "BB01_MAGT_01_20100521_0001.txt.gz"
    gz.write_bytes(gzip.compress(raw))
    zpath = tmp_path / "logs.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("20100521/BB01_MAGT_01_20100521_0001.txt", raw)
    for path in (gz, zpath):
        events, stats = _scan(path, library)
        assert [e.milestone for e in events] == ["key_generated", "slowsync_started"]  # type: ignore[attr-defined]
        assert events[0].time == datetime(2010, 5, 21, 6, 51, 39)  # type: ignore[attr-defined]
        assert events[0].server == "BB01"  # type: ignore[attr-defined]


def test_a_file_that_is_not_a_log_is_skipped_with_a_reason(tmp_path: Path, library: object) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("shopping list\neggs\n")
    sources, _ = discover([str(p)])
    r = scan_source(
        sources[0], Matcher(library), year=None, default_year=2010, thread_window=timedelta(minutes=5)
    )  # type: ignore[arg-type]
    assert r.stats.skipped is not None
    assert r.stats.skipped.reason.startswith("not a BES log")


@pytest.mark.parametrize("date", ["99991231", "00010101"])
def test_a_date_no_bes_log_can_have_is_no_date(tmp_path: Path, date: str) -> None:
    """A folder or name dated in the year 9999 or 1 (a typo, a test rig) gives its lines no year:
    the scan says so and goes on, instead of leaving the calendar (an internal error)."""
    assert file_info(f"BES01_MAGT_01_{date}_0001.txt").day is None
    path = tmp_path / date / f"BES01_MAGT_01_{date}_0001.txt"
    write_lines(
        path, [bes_line(datetime(2024, 12, 31, 23, 59), "New mail has arrived", user="a@example.com")]
    )
    result = run_cli("scan", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "no date in the name or folder" in result.stderr


def test_a_bes_named_log_that_begins_with_other_lines_is_read_on(tmp_path: Path) -> None:
    """A BES log by its name whose first 64 KiB are lines without a BES timestamp (a dump, a
    banner) is read on: its activation further down counts.  Only a file with a name that says
    nothing is judged by its first 64 KiB alone."""
    t0 = datetime(2024, 5, 1, 7, 10)
    dump = [f"    at com.rim.bes.Agent.poll(Agent.java:{n})" for n in range(2000)]
    path = tmp_path / "20240501" / bes_name("BES01", "MAGT", t0)
    etp = "Queuing DATA from network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2"
    write_lines(path, [*dump, bes_line(t0, etp, user="bob.jones@example.com")])
    assert path.stat().st_size > 64 * 1024
    code, rep, err = scan_json(tmp_path)
    assert [(a["email"], a["last_milestone"]) for a in rep["activations"]] == [
        ("bob.jones@example.com", "etp_received")
    ]
    assert rep["inputs"]["skipped"] == []


def test_a_bes_named_file_with_no_bes_line_at_all_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / bes_name("BES01", "MAGT", datetime(2024, 5, 1))
    write_lines(path, [f"line {n} of something else entirely" for n in range(5000)])
    result = run_cli("scan", tmp_path)
    assert result.exit_code == 2
    assert f"nothing could be read ({path}: not a BES log: no line has a BES timestamp)" in result.stderr


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=3000), size=st.integers(1, 64))
def test_chunks_are_whole_lines_and_lose_nothing(data: bytes, size: int) -> None:
    data = data.replace(b"\x00", b"")  # NUL-free: plain 8-bit text, never sniffed as UTF-16...
    assume(not data.startswith((b"\xff\xfe", b"\xfe\xff")))  # ...unless it begins with its BOM
    chunks = list(read_chunks(io.BytesIO(data), Encoding(), size=size))
    joined = b"".join(chunks)
    expected = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    assert joined == expected
    for c in chunks[:-1]:
        assert c.endswith(b"\n") or len(c) >= size
