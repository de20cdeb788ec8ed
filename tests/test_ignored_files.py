"""Files that are not activation logs: other services' BES logs and the everyday files beside them.

They are listed under ``inputs.ignored`` with a reason, counted in the summary, and never make
``--strict`` fail; ``--strict`` still fails on an input that may be an activation log and could not
be read.  Which services write activation lines is the pattern library's to say (its ``service``
values, plus CMNG which SYNC feeds).
"""

from __future__ import annotations

import codecs
import gzip
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import TERSE_SITE, activation, bes_line, bes_name, run_cli, write_lines
from typer.testing import Result

from bes_logdiag.ignore import activation_services
from bes_logdiag.library import load_library

SERVER = "BBPROD01"
DATE = "20240101"
DAY = datetime(2024, 1, 1)
T0 = datetime(2024, 1, 1, 7, 10, 57, 893000)
EMAIL, UID, DISPLAY = "tom.reed@example.com", 2001, "Reed, Tom"


# --- the day's files and reading the report --------------------------------------------------


def at(seconds: float, t0: datetime = T0) -> datetime:
    return t0 + timedelta(seconds=seconds)


def complete(t0: datetime = T0) -> dict[str, list[str]]:
    """One user's activation, ETP.DAT to SLOWSYNC COMPLETE, per service."""
    return {
        s: [x for _, x in items] for s, items in activation(EMAIL, UID, DISPLAY, t0, site=TERSE_SITE).items()
    }


def health_checks(start: datetime, end: datetime, every: timedelta = timedelta(minutes=5)) -> list[str]:
    """A Controller log: a health check every five minutes (or `every`)."""
    lines, t = [], start
    while t <= end:
        lines.append(
            bes_line(
                t,
                "Performing system health check (BlackBerry Controller Version 4.1.6.23)",
                tid="B13",
                eid=30000,
            )
        )
        t += every
    return lines


def text_of(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def write_day(folder: Path) -> dict[str, Path]:
    return {s: write_lines(folder / bes_name(SERVER, s, DAY), lines) for s, lines in complete().items()}


def scan_json(*args: object) -> tuple[Result, dict[str, Any]]:
    result = run_cli("scan", *args, "-f", "json")
    assert result.exit_code in (0, 1), result.stderr
    return result, json.loads(result.stdout)


def ignored(rep: dict[str, Any]) -> dict[str, str]:
    return {i["path"]: i["reason"] for i in rep["inputs"]["ignored"]}


def read(rep: dict[str, Any]) -> list[str]:
    return [Path(f["path"]).name for f in rep["inputs"]["files"]]


def statuses(rep: dict[str, Any]) -> list[tuple[object, ...]]:
    return [(a["server"], a["email"], a["status"], a["stage"]) for a in rep["activations"]]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "Logs" / DATE
    write_day(folder)
    return folder


# --- the pattern library says which services matter ------------------------------------------


def test_the_services_that_write_activation_lines_come_from_the_patterns() -> None:
    assert activation_services(load_library()) == {"MAGT", "POLC", "SYNC", "CMNG"}


ADMIN_PATTERN = """
[[pattern]]
id = "disp.relay-refused"
title = "The Dispatcher refused the device"
service = "DISP"
stage = 1
error = "user_not_started"
kb = "KB10321"
level = "error"
prefilter = ["relay refused"]
regex = '''relay refused'''
examples = [
    '''[20000] (01/01 08:00:00.000):{0x9C4} {tom.reed@example.com} SRP relay refused the device''',
]
counter_examples = [
    '''[30000] (01/01 08:00:00.000):{0x9C4} {tom.reed@example.com} SRP relay accepted the device''',
]
"""


def test_a_pattern_of_another_service_makes_its_logs_read(folder: Path, tmp_path: Path) -> None:
    disp = write_lines(
        folder / bes_name(SERVER, "DISP", DAY),
        [bes_line(at(3600), "SRP: sent 4 packets, 2048 bytes", tid="9C4", eid=30000)],
    )
    _, rep = scan_json(folder)
    assert ignored(rep) == {str(disp): "DISP log: no activation milestones are written by this service"}
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "dispatcher.toml").write_text(ADMIN_PATTERN, encoding="utf-8")
    _, rep = scan_json(folder, "--patterns", mine)
    assert ignored(rep) == {}
    assert bes_name(SERVER, "DISP", DAY) in read(rep)


# --- other services' logs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["MDAT", "MDSS", "BBIM", "CTRL", "DISP", "ROUT", "CBCK", "EMWS", "BBAS", "ALRT"]
)
def test_other_services_logs_are_ignored_with_their_service_named(folder: Path, code: str) -> None:
    other = write_lines(
        folder / bes_name(SERVER, code, DAY),
        [bes_line(at(7200), "Agent 1: Missed 1 heartbeats", tid="A2C", eid=20000)],
    )
    result, rep = scan_json(folder, "--strict")
    assert result.exit_code == 0, result.stderr
    assert ignored(rep) == {str(other): f"{code} log: no activation milestones are written by this service"}
    assert bes_name(SERVER, code, DAY) not in read(rep)
    assert rep["inputs"]["files_read"] == 3 and rep["inputs"]["skipped"] == []
    assert statuses(rep) == [(SERVER, EMAIL, "complete", 4)]
    assert result.stderr == "", "an ignored file is no warning"


def test_the_management_connector_which_sync_feeds_is_read(folder: Path) -> None:
    write_lines(
        folder / bes_name(SERVER, "CMNG", DAY),
        [bes_line(at(900), "CheckResponseReceived - no changes detected.", tid="C4", user="Test User1")],
    )
    _, rep = scan_json(folder)
    assert bes_name(SERVER, "CMNG", DAY) in read(rep) and ignored(rep) == {}


def test_a_lower_case_name_is_ignored_by_its_code(folder: Path) -> None:
    mdat = write_lines(
        folder / bes_name(SERVER, "mdat", DAY).lower(), [bes_line(at(60), "MDS-CS: HTTP request", tid="A10")]
    )
    _, rep = scan_json(folder)
    assert ignored(rep) == {str(mdat): "MDAT log: no activation milestones are written by this service"}


def ctrl_plain(path: Path, lines: list[str]) -> Path:
    return write_lines(path, lines)


def ctrl_utf16(path: Path, lines: list[str]) -> Path:
    path.write_bytes(
        codecs.BOM_UTF16_LE + "\r\n".join(lines).encode("utf-16-le") + "\r\n".encode("utf-16-le")
    )
    return path


def ctrl_gz(path: Path, lines: list[str]) -> Path:
    gz = path.with_name(path.name + ".gz")
    gz.write_bytes(gzip.compress(text_of(lines)))
    return gz


def ctrl_zip(path: Path, lines: list[str]) -> Path:
    archive = path.parent / "ctrl.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{DATE}/{path.name}", text_of(lines))
    return Path(f"{archive}!{DATE}/{path.name}")


@pytest.mark.parametrize("store", [ctrl_plain, ctrl_utf16, ctrl_gz, ctrl_zip])
def test_an_ignored_log_still_marks_the_end_of_its_servers_logs(tmp_path: Path, store: Any) -> None:
    """MAGT falls silent after the ETP.DAT message; the Controller runs on for hours: the stall is
    measured against the Controller's last line, read from the end of its file alone."""
    folder = tmp_path / DATE
    write_lines(folder / bes_name(SERVER, "MAGT", DAY), [complete()["MAGT"][0]])
    clean_result, clean = scan_json(folder)
    assert statuses(clean) == [(SERVER, EMAIL, "in_progress", 1)]
    end = datetime(2024, 1, 1, 9, 0, 0, 203000)
    checks = health_checks(datetime(2024, 1, 1, 0, 0, 0, 203000), end, timedelta(seconds=20))
    assert len(text_of(checks)) > 64 * 1024, "more than the tail that is read"
    ctrl = store(folder / bes_name(SERVER, "CTRL", DAY), checks)
    result, rep = scan_json(folder)
    assert ignored(rep) == {str(ctrl): "CTRL log: no activation milestones are written by this service"}
    assert rep["log_end"] == {SERVER: end.isoformat(timespec="milliseconds")}
    assert statuses(rep) == [(SERVER, EMAIL, "stalled", 1)]
    assert result.exit_code == 1


def test_an_ignored_log_that_runs_into_new_year_ends_in_the_new_year(tmp_path: Path) -> None:
    folder = tmp_path / "20231231"
    t0 = datetime(2023, 12, 31, 23, 0, 0, 500000)
    write_lines(folder / bes_name(SERVER, "MAGT", datetime(2023, 12, 31)), [complete(t0)["MAGT"][0]])
    end = datetime(2024, 1, 1, 1, 0, 0, 203000)
    write_lines(
        folder / bes_name(SERVER, "CTRL", datetime(2023, 12, 31)),
        health_checks(datetime(2023, 12, 31, 22, 0, 0, 203000), end),
    )
    _, rep = scan_json(folder)
    assert rep["log_end"] == {SERVER: end.isoformat(timespec="milliseconds")}
    assert statuses(rep) == [(SERVER, EMAIL, "stalled", 1)]


def test_a_week_of_ignored_logs_ends_where_the_latest_with_a_line_ends(tmp_path: Path) -> None:
    """Of an ignored log only its latest file is read for its last line (a year of Controller logs
    is not read through before the scan); where that holds no line (the last two days' files
    empty), the one before it is, and so on: the latest line still marks the end, and the
    activation is stalled, not in progress."""
    logs = tmp_path / "Logs"
    write_lines(logs / DATE / bes_name(SERVER, "MAGT", DAY), [complete()["MAGT"][0]])
    end = datetime(2024, 1, 3, 9, 0, 0)
    for n in range(7):
        day = DAY + timedelta(days=n)
        path = logs / f"{day:%Y%m%d}" / bes_name(SERVER, "CTRL", day)
        path.parent.mkdir(parents=True, exist_ok=True)
        if n < 5:
            write_lines(path, health_checks(day, min(day + timedelta(hours=23), end)))
        else:
            path.write_bytes(b"")
    _, rep = scan_json(logs)
    assert len(ignored(rep)) == 7
    assert rep["log_end"] == {SERVER: end.isoformat(timespec="milliseconds")}
    assert statuses(rep) == [(SERVER, EMAIL, "stalled", 1)]


def test_an_older_copy_of_an_ignored_log_does_not_hide_where_it_ends(tmp_path: Path) -> None:
    """A ``.bak`` keeps the log's name, and so its place in the log: both are read, and the live
    file, which runs on for two more hours, marks the end."""
    folder = tmp_path / DATE
    write_lines(folder / bes_name(SERVER, "MAGT", DAY), [complete()["MAGT"][0]])
    ctrl = folder / bes_name(SERVER, "CTRL", DAY)
    start = datetime(2024, 1, 1, 0, 0, 0, 203000)
    write_lines(folder / f"{ctrl.name}.bak", health_checks(start, datetime(2024, 1, 1, 7, 15)))
    write_lines(ctrl, health_checks(start, datetime(2024, 1, 1, 9, 0)))
    _, rep = scan_json(folder)
    assert rep["log_end"] == {SERVER: "2024-01-01T08:55:00.203"}  # (the last check before 09:00)
    assert statuses(rep) == [(SERVER, EMAIL, "stalled", 1)]


def test_of_a_year_of_an_ignored_log_only_the_latest_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its last line is all that is wanted of another service's log: the 30 earlier days' files
    are not opened."""
    import bes_logdiag.ignore as ignore

    read: list[str] = []
    real = ignore.read_last_time
    monkeypatch.setattr(
        ignore, "read_last_time", lambda src, tars=None: read.append(src.name) or real(src, tars)
    )
    for n in range(31):
        day = DAY + timedelta(days=n)
        write_lines(tmp_path / f"{day:%Y%m%d}" / bes_name(SERVER, "CTRL", day), health_checks(day, day))
    write_lines(tmp_path / DATE / bes_name(SERVER, "MAGT", DAY), [complete()["MAGT"][0]])
    _, rep = scan_json(tmp_path)
    assert len(ignored(rep)) == 31
    assert [Path(r).name for r in read] == [bes_name(SERVER, "CTRL", DAY + timedelta(days=30))]
    assert rep["log_end"] == {SERVER: (DAY + timedelta(days=30)).isoformat(timespec="milliseconds")}


# --- everyday files that are not logs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "not a log file (Thumbs.db)"),
        ("desktop.ini", b"[.ShellClassInfo]\r\nIconResource=imageres.dll,-3\r\n", "not a log file (desktop.ini)"),
        ("BESMgmt.ini", b"[Server]\r\nName=BBPROD01\r\n", "not a log file (BESMgmt.ini)"),
        ("users.csv", b"email,user_id,display_name\r\ntom.reed@example.com,2001,\"Reed, Tom\"\r\n",
         "not a log file (users.csv)"),
        ("export.xml", b"<?xml version='1.0'?><users/>", "not a log file (export.xml)"),
        ("BlackBerry.config", b"<configuration/>", "not a log file (BlackBerry.config)"),
        ("setup.log", b"=== Verbose logging started: 1/1/2024  06:59:58 ===\r\n", "installer log, not a BES log (setup.log)"),
        ("install_bes50.log", b"Installing BlackBerry Enterprise Server\r\n",
         "installer log, not a BES log (install_bes50.log)"),
        ("BESx64.msi.log", "MSI (c) (C4:E0) [06:59:58:123]: Product installed\r\n".encode("utf-16"),
         "installer log, not a BES log (BESx64.msi.log)"),
    ],
)  # fmt: skip
def test_files_that_are_not_logs_are_ignored(folder: Path, name: str, content: bytes, reason: str) -> None:
    (folder / name).write_bytes(content)
    result, rep = scan_json(folder, "--strict")
    assert result.exit_code == 0, result.stderr
    assert ignored(rep) == {str(folder / name): reason}
    assert rep["inputs"]["skipped"] == [] and rep["inputs"]["files_read"] == 3
    assert result.stderr == ""


def test_an_installer_named_file_that_holds_bes_lines_is_read(tmp_path: Path) -> None:
    excerpt = write_lines(
        tmp_path / DATE / "install problem.log", [line for lines in complete().values() for line in lines]
    )
    _, rep = scan_json(excerpt)
    assert ignored(rep) == {}
    assert statuses(rep) == [(None, EMAIL, "complete", 4)]


def test_a_renamed_log_or_excerpt_is_still_read_by_its_content(folder: Path) -> None:
    """A name that is not BES-shaped says nothing: the content decides."""
    write_lines(
        folder / "ticket 4711 excerpt.txt",
        [bes_line(at(3600), "New mail has arrived, EntryId=5", tid="1B44", user=EMAIL, eid=30085)],
    )
    result, rep = scan_json(folder, "--strict")
    assert result.exit_code == 0
    assert "ticket 4711 excerpt.txt" in read(rep) and ignored(rep) == {}


def test_strict_still_fails_on_an_input_that_may_be_a_log_and_could_not_be_read(folder: Path) -> None:
    (folder / "notes.txt").write_text("call the carrier about the ETP host\n", encoding="utf-8")
    (folder / "Thumbs.db").write_bytes(bytes(100))
    result = run_cli("scan", folder, "-f", "json", "--strict")
    assert result.exit_code == 2
    rep = json.loads(result.stdout)
    assert [s["path"] for s in rep["inputs"]["skipped"]] == [str(folder / "notes.txt")]
    assert list(ignored(rep)) == [str(folder / "Thumbs.db")]
    assert result.stderr.splitlines()[-1].startswith(
        f"bes-logdiag: error: --strict: 1 input was skipped, the first {folder / 'notes.txt'}"
    )


def test_zip_members_are_ignored_as_files_are(folder: Path, tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            f"{DATE}/{bes_name(SERVER, 'MDSS', DAY)}",
            text_of([bes_line(at(60), "MDS-CS: started", tid="A10")]),
        )
        zf.writestr(f"{DATE}/Thumbs.db", bytes(64))
        zf.writestr(f"__MACOSX/{DATE}/._{bes_name(SERVER, 'MAGT', DAY)}", b"\x00\x05\x16\x07" + bytes(80))
    result, rep = scan_json(folder, archive, "--strict")
    assert result.exit_code == 0, result.stderr
    assert ignored(rep) == {
        f"{archive}!{DATE}/{bes_name(SERVER, 'MDSS', DAY)}": "MDSS log: no activation milestones are written by this service",
        f"{archive}!{DATE}/Thumbs.db": "not a log file (Thumbs.db)",
        f"{archive}!__MACOSX/{DATE}/._{bes_name(SERVER, 'MAGT', DAY)}": f"macOS metadata, not a log (._{bes_name(SERVER, 'MAGT', DAY)})",
    }


def test_the_summary_counts_the_ignored_files(folder: Path) -> None:
    write_lines(folder / bes_name(SERVER, "CTRL", DAY), health_checks(T0, T0 + timedelta(hours=1)))
    (folder / "desktop.ini").write_bytes(b"[.ShellClassInfo]\r\n")
    result = run_cli("scan", folder, "-f", "table")
    assert result.exit_code == 0
    assert "3 files, 2 ignored, " in result.stdout


def test_nothing_but_ignored_files_is_nothing_to_read(tmp_path: Path) -> None:
    ctrl = write_lines(
        tmp_path / DATE / bes_name(SERVER, "CTRL", DAY), health_checks(T0, T0 + timedelta(hours=1))
    )
    (tmp_path / DATE / "Thumbs.db").write_bytes(bytes(64))
    result = run_cli("scan", tmp_path, "-f", "json")
    assert result.exit_code == 2
    assert result.stderr == (
        "bes-logdiag: error: nothing could be read (2 inputs ignored as not activation logs; "
        f"{ctrl}: CTRL log: no activation milestones are written by this service)\n"
    )
