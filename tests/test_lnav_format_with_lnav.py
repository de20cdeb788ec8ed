"""Real lnav, headless (``lnav -n -c ';SELECT ...'``), reading BES logs with the format that
``bes-logdiag lnav-format`` writes and ``lnav -i`` installs: every line of sample_logs/ is a
bes_log line, its time is the scan's (year included, in order), its user columns are what
``events`` reports, and the README's query finds one user's lines across services with the
KEY_ACCEPT line that names nobody.  Skipped only where lnav is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import (
    QUIRKS,
    SAMPLE_LOGS,
    Activation,
    q_pasted_prefix,
    run_cli,
)

from bes_logdiag.model import LogLine
from bes_logdiag.names import clean_address, clean_name
from bes_logdiag.parse import YearClock, normalise, parse_line
from bes_logdiag.read import file_info

LNAV = shutil.which("lnav")
pytestmark = pytest.mark.skipif(
    LNAV is None, reason="lnav is not installed (Debian: apt-get install lnav; .ci/run installs it)"
)

ROWS = (
    ";SELECT log_path, log_line, log_time, log_level, event_id, thread, email, display_name,"
    " user_id, tag, log_body FROM bes_log ORDER BY log_line"
)
USER_QUERY = """;SELECT log_line, log_time, log_path, thread, email, display_name, user_id, log_body
  FROM bes_log
 WHERE log_path LIKE '%BBPROD01%'
   AND (email = 'ian.dundas@example.com' OR user_id = 1002 OR log_line IN (
        SELECT a.log_line FROM bes_log AS a JOIN bes_log AS k
            ON k.log_path = a.log_path AND k.thread = a.thread AND k.log_line < a.log_line
         WHERE a.log_body LIKE '%KEY_ACCEPT%' AND k.email = 'ian.dundas@example.com'
           AND k.log_body LIKE 'Generating%key%'
           AND a.log_time <= datetime(k.log_time, '+5 minutes')))"""
"""The README's query (section lnav): one user's lines on one server, by address, by user id
(POLC's UserId=, SYNC's [Last, First:N]) and, for the KEY_ACCEPT line that names nobody, by the
thread of the user's key generation just before it (BES-LOGS.md section 3, stage 2)."""


def lnav(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    assert LNAV is not None
    done = subprocess.run([LNAV, *args], env=env, capture_output=True, timeout=300, check=False)
    assert done.returncode == 0 and b"error" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def lnav_sql(env: dict[str, str], query: str, files: list[Path]) -> list[dict[str, Any]]:
    """The rows of one SQL query over ``files``, through lnav's JSON writer."""
    done = lnav(env, "-n", "-c", query, "-c", ":write-json-to -", *map(str, files))
    # A cp1252 line reaches the JSON as its bytes: kept as surrogates, never an error here.
    rows: list[dict[str, Any]] = json.loads(done.stdout.decode("utf-8", errors="surrogateescape"))
    for row in rows:
        # lnav hands a sorted result's integer columns to its JSON writer as text at times.
        for column in ("event_id", "user_id"):
            if row.get(column) is not None:
                row[column] = int(row[column])
    return rows


@pytest.fixture(scope="module")
def lnav_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An lnav home with the format installed by ``lnav -i``, as the README says."""
    home = tmp_path_factory.mktemp("lnav-home")
    fmt = home / "bes_log.json"
    result = run_cli("lnav-format", "-o", fmt)
    assert result.exit_code == 0, result.stderr
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    installed = lnav(env, "-i", str(fmt))
    assert b"installed" in installed.stdout + installed.stderr
    return env


def decoded(raw: bytes) -> tuple[str, bool]:
    """A line as the scan decodes it (UTF-8, else cp1252), and whether it was UTF-8."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252"), False


def expected_lines(path: Path, year: int | None = None) -> list[tuple[LogLine, bool]]:
    """Every line of ``path`` as `parse.parse_line` reads it (the year from the file's date),
    with whether it is UTF-8."""
    info = file_info(path.name)
    anchor = info.day if info.day is not None else datetime(year or 2024, 1, 1)
    clock = YearClock(anchor, anchor.year)
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    out = []
    for line in raw.splitlines():
        text, utf8 = decoded(line)
        parsed = parse_line(text, clock)
        assert parsed is not None, (path, text)
        out.append((parsed, utf8))
    return out


def as_written(path: Path, lines: list[tuple[LogLine, bool]]) -> None:
    """Give the file the modification time a BES server leaves: the time of its last line (lnav
    takes the year of a BES timestamp from it)."""
    last = lines[-1][0].time.timestamp()
    os.utime(path, (last, last))


def lnav_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def by_file(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """lnav's rows per file, in lnav's order (log_line)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["log_line"]):
        out[os.path.realpath(r["log_path"])].append(r)
    return out


def assert_rows_are_the_lines(rows: list[dict[str, Any]], lines: list[tuple[LogLine, bool]]) -> None:
    """One lnav row per line, in file order, with the scan's time, event id, thread, tag and body."""
    assert len(rows) == len(lines)
    for row, (parsed, utf8) in zip(rows, lines):
        assert row["log_time"] == lnav_time(parsed.time), (row, parsed)
        assert row["event_id"] == parsed.event_id
        assert (row["thread"].upper() if row["thread"] else None) == parsed.thread
        if utf8:
            assert row["tag"] == parsed.tag
            assert normalise(row["log_body"]).strip() == parsed.body


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple[LogLine, bool]]]]:
    """A copy of sample_logs/ with each file's modification time set as its server wrote it,
    and every line of it as the scan reads it."""
    root = tmp_path_factory.mktemp("lnav-sample") / "sample_logs"
    shutil.copytree(SAMPLE_LOGS, root)
    expected = {}
    for path in sorted(root.rglob("*.txt")):
        lines = expected_lines(path)
        as_written(path, lines)
        expected[os.path.realpath(path)] = lines
    return root, expected


@pytest.fixture(scope="module")
def sample_rows(
    lnav_env: dict[str, str], sample: tuple[Path, dict[str, list[tuple[LogLine, bool]]]]
) -> dict[str, list[dict[str, Any]]]:
    root, expected = sample
    return by_file(lnav_sql(lnav_env, ROWS, [Path(p) for p in expected]))


def test_every_sample_line_is_a_bes_log_line(
    lnav_env: dict[str, str], sample: tuple[Path, dict[str, list[tuple[LogLine, bool]]]]
) -> None:
    _, expected = sample
    files = lnav_sql(lnav_env, ";SELECT filepath, format, lines FROM lnav_file", [Path(p) for p in expected])
    assert {os.path.realpath(f["filepath"]): (f["format"], f["lines"]) for f in files} == {
        p: ("bes_log", len(lines)) for p, lines in expected.items()
    }
    services = {file_info(Path(p).name).service for p in expected}
    assert {"MAGT", "POLC", "SYNC", "CMNG", "CTRL", "DISP", "ROUT"} <= services


def test_times_are_the_scans_with_their_year_and_in_order(
    sample: tuple[Path, dict[str, list[tuple[LogLine, bool]]]], sample_rows: dict[str, list[dict[str, Any]]]
) -> None:
    _, expected = sample
    assert set(sample_rows) == set(expected)
    for path, lines in expected.items():
        assert_rows_are_the_lines(sample_rows[path], lines)
    merged = sorted((r for rows in sample_rows.values() for r in rows), key=lambda r: r["log_line"])
    times = [r["log_time"] for r in merged]
    assert times == sorted(times), "lnav shows the servers' lines in time order"
    assert {t[:4] for t in times} == {"2023", "2024"}, "the sample runs over New Year"


def test_user_columns_are_what_events_reports(
    sample: tuple[Path, dict[str, list[tuple[LogLine, bool]]]], sample_rows: dict[str, list[dict[str, Any]]]
) -> None:
    root, expected = sample
    result = run_cli("events", root, "--format", "json", "--jobs", "1", "-q")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)["events"]
    compared = {"email": 0, "display_name": 0, "user_id": 0, "thread": 0}
    not_utf8 = 0
    for rec in records:
        path = os.path.realpath(rec["file"])
        row = sample_rows[path][rec["line"] - 1]
        assert row["log_time"][:19] == rec["time"][:19].replace("T", " ")
        if not expected[path][rec["line"] - 1][1]:
            # lnav's regexes cannot step over a byte that is not UTF-8 (a cp1252 "Müller"): the
            # line is read with its time and thread, its user columns stay empty (README).
            not_utf8 += 1
            assert (row["display_name"], row["user_id"]) == (None, None)
            continue
        if rec["pattern"] == "magt.key-accept":
            # The KEY_ACCEPT line names nobody: events gives it the user of its thread.
            assert (row["email"], row["display_name"], row["user_id"]) == (None, None, None)
            assert row["thread"]
            compared["thread"] += 1
            continue
        if rec["pattern"] == "bes.current-date":
            continue
        assert (row["email"], row["display_name"], row["user_id"]) != (None, None, None), row
        if row["email"] is not None:
            assert clean_address(row["email"]) == rec["email"]
            compared["email"] += 1
        if row["display_name"] is not None:
            assert clean_name(row["display_name"]) == rec["display_name"]
            compared["display_name"] += 1
        if row["user_id"] is not None:
            assert row["user_id"] == rec["user_id"]
            compared["user_id"] += 1
    assert all(n >= 5 for n in compared.values()), compared
    assert not_utf8 > 0, "the sample's cp1252 SYNC file is among the events"


def test_the_readme_query_finds_a_users_lines_across_services(
    lnav_env: dict[str, str],
    sample: tuple[Path, dict[str, list[tuple[LogLine, bool]]]],
    sample_rows: dict[str, list[dict[str, Any]]],
) -> None:
    root, expected = sample
    result = run_cli("events", root, "--format", "json", "--jobs", "1", "-q")
    ian = [
        r
        for r in json.loads(result.stdout)["events"]
        if r["server"] == "BBPROD01" and r["email"] == "ian.dundas@example.com"
    ]
    assert {r["service"] for r in ian} == {"MAGT", "POLC", "SYNC"}
    assert "magt.key-accept" in {r["pattern"] for r in ian}
    where = {
        row["log_line"]: (path, n) for path, rows in sample_rows.items() for n, row in enumerate(rows, 1)
    }
    found = lnav_sql(lnav_env, USER_QUERY, [Path(p) for p in expected])
    lines = {where[r["log_line"]] for r in found}
    assert {(os.path.realpath(r["file"]), r["line"]) for r in ian} <= lines
    for r in found:
        assert "BBPROD01" in r["log_path"]
        assert r["email"] == "ian.dundas@example.com" or r["user_id"] == 1002 or "KEY_ACCEPT" in r["log_body"]


def test_every_spelling_the_scan_accepts(lnav_env: dict[str, str], tmp_path: Path) -> None:
    """An activation's lines in each damaged spelling (BES-LOGS.md section 2), a byte-order mark
    and CRLF line ends, then the same without either: each line one bes_log row as the scan reads it."""
    t0 = datetime(2024, 3, 11, 8, 0, 0, 250000)
    lines: list[str] = []
    for n, quirk in enumerate([*QUIRKS, q_pasted_prefix, lambda s: s]):
        act = Activation("ian.dundas@example.net", 2573, "Dundas, Ian", t0 + timedelta(minutes=20 * n))
        lines += [quirk(act.line(step)[2]) for step in act.keep]
    files = []
    for name, bom, end in (("bom_crlf.txt", b"\xef\xbb\xbf", "\r\n"), ("plain_lf.txt", b"", "\n")):
        path = tmp_path / name
        path.write_bytes(bom + "".join(x + end for x in lines).encode("utf-8"))
        as_written(path, expected_lines(path, 2024))
        files.append(path)
    rows = by_file(lnav_sql(lnav_env, ROWS, files))
    for path in files:
        expect = expected_lines(path, 2024)
        got = rows[os.path.realpath(path)]
        assert_rows_are_the_lines(got, expect)
        for row, (parsed, _) in zip(got, expect):
            email = parsed.user if parsed.user and "@" in parsed.user else None
            assert row["email"] == email
            if "SET_ITPOLICY_REQUEST" in parsed.body or "[Dundas, Ian:2573]" in parsed.body:
                assert row["user_id"] == 2573
            if "[Dundas, Ian:2573]" in parsed.body:
                assert row["display_name"] == "Dundas, Ian"
