"""bes-logdiag in pipelines and CI: exit codes, filters, stdin, compressed input, the other commands."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, SEED_KBS, data_file, run_cli


def verdicts(stdout: str) -> list[tuple[str, str, str, int, str | None]]:
    return sorted(
        (a["server"], a["email"], a["status"], a["stage"], a["kb"]) for a in json.loads(stdout)["activations"]
    )


@pytest.fixture(scope="module")
def baseline() -> str:
    return run_cli("scan", SAMPLE_LOGS, "-f", "json", "-q").stdout


@pytest.mark.parametrize(
    ("fail_on", "status_filter", "code"),
    [
        ("any", [], 1),
        ("stalled", ["--status", "failed"], 0),
        ("stalled", ["--status", "stalled"], 1),
        ("failed", ["--status", "stalled"], 0),
        ("failed", ["--status", "failed"], 1),
        ("never", [], 0),
        ("any", ["--status", "complete", "--status", "in_progress"], 0),
    ],
)
def test_fail_on(fail_on: str, status_filter: list[str], code: int) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--fail-on", fail_on, *status_filter)
    assert result.exit_code == code, result.stderr


def test_fail_if_none(tmp_path: Path) -> None:
    (tmp_path / "BB01_MAGT_01_20100521_0001.txt").write_text(
        "[30000] (05/21 06:00:00.000):{0xA2C} Total Msgs Pending 1\r\n"
    )
    assert run_cli("scan", tmp_path, "-q").exit_code == 0
    assert run_cli("scan", tmp_path, "-q", "--fail-if-none").exit_code == 1


def test_filters(baseline: str) -> None:
    every = json.loads(baseline)["activations"]
    by_user = json.loads(run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--user", "Dundas, Ian").stdout)[
        "activations"
    ]
    assert [a["email"] for a in by_user] == ["ian.dundas@example.com"]
    by_id = json.loads(run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--user", "2003").stdout)[
        "activations"
    ]
    assert [a["display_name"] for a in by_id] == ["Müller, Jürgen"]
    by_server = json.loads(
        run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--server", "bes_east_02").stdout
    )["activations"]
    assert {a["server"] for a in by_server} == {"BES_EAST_02"}
    assert len(by_server) == sum(a["server"] == "BES_EAST_02" for a in every)
    since = json.loads(run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--since", "2024-01-01").stdout)[
        "activations"
    ]
    assert since and all(a["last_progress"] >= "2024-01-01" for a in since)
    until = json.loads(
        run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--until", "2023-12-31 00:00").stdout
    )["activations"]
    assert until and all(a["started"] <= "2023-12-31" for a in until)
    assert run_cli("scan", SAMPLE_LOGS, "--since", "not a date").exit_code == 2


def acts(*args: str) -> list[dict]:  # type: ignore[type-arg]
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)["activations"]  # type: ignore[no-any-return]


def test_user_filter_folds_accents_and_takes_first_last() -> None:
    # (and however the comma is spaced: "Müller,Jürgen" named no one, exit code 4)
    for query in ("Mueller, Juergen", "jürgen müller", "Juergen  Mueller", "MÜLLER, JÜRGEN", "Müller,Jürgen",
                  "Mueller ,  Juergen"):  # fmt: skip
        assert [a["user_id"] for a in acts("--user", query)] == [2003], query
    assert [a["email"] for a in acts("--user", "Ian Dundas")] == ["ian.dundas@example.com"]
    part = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--user", "Dundas")
    assert part.exit_code == 4 and json.loads(part.stdout)["activations"] == []
    assert "did you mean ian.dundas@example.com" in part.stderr


def test_since_until_take_a_zone_and_a_whole_day() -> None:
    assert acts("--since", "2024-01-01T00:00:00Z") == acts("--since", "2024-01-01")
    day = acts("--until", "2023-12-31")
    assert any(a["started"].startswith("2023-12-31") for a in day)
    assert all(a["started"] < "2024-01-01" for a in day)
    assert len(acts("--until", "2023-12-31 00:00")) < len(day)


def test_a_stall_threshold_of_zero_is_a_usage_error() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--stall-after", "0")
    assert result.exit_code == 2 and "longer than zero" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x81\x8d\x01\xff" * 50, "the user map is not text"),
        (b"email,id\nx@y.z,12\n", None),
        (
            b"MailboxSMTPAddr,UserConfigId\nian.dundas@example.com,notanumber\n",
            "line 2: user id 'notanumber' is not a number",
        ),
        (
            b'email,id,DisplayName\nian.dundas@example.com,1002,"Dundas, Ian\nx@y.z,9,z\n',
            "line 2: a quote is left open",
        ),
    ],
    ids=["random-bytes", "good", "non-numeric-id", "open-quote"],
)
def test_a_bad_user_map_is_named(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    result = run_cli("scan", SAMPLE_LOGS, "-f", "json", "--users", str(path))
    assert "internal error" not in result.stderr
    if message is None:
        assert result.exit_code in (0, 1) and f"{path}:" not in result.stderr
    else:
        assert f"{path}: " in result.stderr and message in result.stderr


def test_a_utf16_user_map_as_exported_on_windows(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    text = data_file("sample_users.csv").read_text(encoding="utf-8")
    path.write_bytes(b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
    plain = acts("--users", str(data_file("sample_users.csv")))
    assert acts("--users", str(path)) == plain


def test_a_reader_that_stops_early_ends_the_output_quietly() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "bes_logdiag", "events", str(SAMPLE_LOGS), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"{")
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_plain_gzipped_and_zipped_logs_give_the_same_verdicts(tmp_path: Path, baseline: str) -> None:
    gz_dir = tmp_path / "gz"
    for f in SAMPLE_LOGS.rglob("*.txt"):
        target = gz_dir / f.relative_to(SAMPLE_LOGS).with_suffix(".txt.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(f.read_bytes()))
    zpath = tmp_path / "logs.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in SAMPLE_LOGS.rglob("*.txt"):
            zf.write(f, f.relative_to(SAMPLE_LOGS).as_posix())
    for path in (gz_dir, zpath):
        result = run_cli("scan", path, "-q", "-f", "json")
        assert result.exit_code == 1, result.stderr
        assert verdicts(result.stdout) == verdicts(baseline), path
    both = run_cli("scan", SAMPLE_LOGS, zpath, "-f", "json")
    assert verdicts(both.stdout) == verdicts(baseline)
    # the zip's members are the same bytes as the plain files: each counts once and is named
    inputs = json.loads(both.stdout)["inputs"]
    read = json.loads(baseline)["inputs"]["files_read"]
    assert inputs["files_read"] == read
    assert len(inputs["duplicates"]) == read
    assert all(
        d["path"].startswith(f"{zpath}!") and Path(d["same_as"]).is_file() for d in inputs["duplicates"]
    )
    assert "holds the same bytes as" in both.stderr
    # gzipped beside plain is not the same bytes: both are read, and their lines count once
    again = run_cli("scan", SAMPLE_LOGS, gz_dir, "-f", "json")
    assert verdicts(again.stdout) == verdicts(baseline)
    matched = json.loads(baseline)["inputs"]["matched"]
    assert any("count once" in n for n in json.loads(again.stdout)["notes"])
    assert json.loads(again.stdout)["inputs"]["matched"] == 2 * matched


def test_glob_patterns_are_expanded_by_the_tool(baseline: str) -> None:
    pattern = str(SAMPLE_LOGS / "*" / "*" / "*.txt")
    result = run_cli("scan", pattern, "-q", "-f", "json")
    assert verdicts(result.stdout) == verdicts(baseline)


def test_stdin_and_a_file_together(tmp_path: Path) -> None:
    text = data_file("seed_excerpt.txt").read_bytes()
    result = run_cli("scan", "-", "--year", "2010", "-f", "json", input=text)
    assert result.exit_code == 0
    (act,) = json.loads(result.stdout)["activations"]
    assert act["started"].startswith("2010-03-10")


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "-o", out)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["activations"] == 19


def test_skipped_inputs_are_named_on_stderr_and_in_the_report(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_LOGS / "BES_EAST_02", tmp_path / "logs")
    (tmp_path / "logs" / "notes.txt").write_text("not a log at all\n")
    result = run_cli("scan", tmp_path / "logs", "-f", "json")
    assert "notes.txt: skipped: not a BES log" in result.stderr
    skipped = json.loads(result.stdout)["inputs"]["skipped"]
    assert [Path(s["path"]).name for s in skipped] == ["notes.txt"]
    assert run_cli("scan", tmp_path / "logs", "-q", "--strict").exit_code == 2


def test_no_ansi_codes_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (
        ["scan", SAMPLE_LOGS],
        ["kb"],
        ["timeline", "ian.dundas@example.com", SAMPLE_LOGS],
        ["patterns", "list"],
    ):
        result = run_cli(*args)
        assert "\x1b[" not in result.stdout, args
        assert "\x1b[" not in result.stderr, args


def test_timeline_json_is_in_time_order() -> None:
    result = run_cli("timeline", "ian.dundas@example.com", SAMPLE_LOGS, "-f", "json", "-q")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    times = [m["time"] for m in doc["milestones"]]
    assert times == sorted(times) and len(times) >= 8
    assert {m["attempt"] for m in doc["milestones"]} == {1, 2}
    assert all(
        m["since_previous_seconds"] is None or m["since_previous_seconds"] >= 0 for m in doc["milestones"]
    )


def test_timeline_table_and_unknown_user() -> None:
    result = run_cli("timeline", "Smith, John", SAMPLE_LOGS, "-q")
    assert (
        result.exit_code == 0
        and "slowsync_complete" in result.stdout
        and "jsmith@example.com" in result.stdout
    )
    missing = run_cli("timeline", "nobody@example.com", SAMPLE_LOGS, "-q")
    assert missing.exit_code == 1 and "no activation of 'nobody@example.com'" in missing.stderr


def test_events_formats_agree() -> None:
    nd = [json.loads(x) for x in run_cli("events", SAMPLE_LOGS, "-q").stdout.splitlines()]
    js = json.loads(run_cli("events", SAMPLE_LOGS, "-q", "-f", "json").stdout)["events"]
    rows = list(csv.DictReader(io.StringIO(run_cli("events", SAMPLE_LOGS, "-q", "-f", "csv").stdout)))
    assert nd == js and len(rows) == len(nd) > 100
    assert [r["pattern"] for r in rows] == [e["pattern"] for e in nd]
    assert {
        "time",
        "server",
        "service",
        "file",
        "line",
        "pattern",
        "milestone",
        "stage",
        "email",
        "user_id",
        "display_name",
    } <= set(nd[0])
    assert [e["time"] for e in nd] == sorted(e["time"] for e in nd)


@pytest.mark.parametrize("fixture", ["seed_excerpt.txt", "seed_table_rows.txt"])
def test_events_of_the_seed_excerpt(fixture: str) -> None:
    """The seed's log lines as pasted from it: one per line, or its table rows verbatim (prose in
    front, two records on one line, 0×, en dash, curly quotes, a dropped event id)."""
    text = data_file(fixture).read_text(encoding="utf-8")
    result = run_cli("events", "-", "--year", "2010", input=text)
    events = [json.loads(x) for x in result.stdout.splitlines()]
    assert [e["stage"] for e in events] == [1, 2, 2, 3, 3, 4, 4]
    assert {e["email"] for e in events} == {"ian.dundas@example.net"}
    assert {e["user_id"] for e in events} == {2573}
    scan = json.loads(run_cli("scan", "-", "--year", "2010", "-f", "json", input=text).stdout)
    assert [(a["email"], a["user_id"], a["status"]) for a in scan["activations"]] == [
        ("ian.dundas@example.net", 2573, "complete")
    ]


def test_kb_command() -> None:
    table = run_cli("kb")
    assert table.exit_code == 0
    for kb in SEED_KBS:
        assert kb in table.stdout
    one = run_cli("kb", "kb03964")
    assert one.exit_code == 0 and "0%" in one.stdout and "slowsync_started" in one.stdout
    unknown = run_cli("kb", "KB99999")
    assert unknown.exit_code == 2 and "unknown article 'KB99999'" in unknown.stderr


def test_patterns_check_and_list(tmp_path: Path) -> None:
    ok = run_cli("patterns", "check")
    assert ok.exit_code == 0 and "all pass" in ok.stdout
    listing = run_cli("patterns", "list")
    assert "magt.key-accept" in listing.stdout
    (tmp_path / "a.toml").write_text(
        "[[pattern]]\nid = 'magt.key-accept'\nregex = '''KEY_ACCEPT'''\nexamples = ['x']\n"
        "[[pattern]]\nid = 'site.bad'\nregex = '''Foo Bar'''\nexamples = ['''[40000] (05/21 06:51:39):{0x1} Baz''']\n"
    )
    bad = run_cli("patterns", "check", "--patterns", tmp_path)
    assert bad.exit_code == 1
    assert "pattern magt.key-accept: duplicate id" in bad.stdout
    assert "pattern site.bad: example does not match" in bad.stdout


def test_ci_junit_report_fails_on_exactly_the_stalled_and_failed(tmp_path: Path, baseline: str) -> None:
    import xml.etree.ElementTree as ET

    out = tmp_path / "report.xml"
    result = run_cli("scan", SAMPLE_LOGS, "--format", "junit", "-o", out, "-q")
    assert result.exit_code == 1 and result.stdout == ""
    root = ET.parse(out).getroot()
    failing = sorted(
        (suite.get("name"), case.get("name"))
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    )
    expected = sorted(
        (a["server"], a["email"])
        for a in json.loads(baseline)["activations"]
        if a["status"] in ("stalled", "failed")
    )
    assert failing == expected
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == [
        a["email"] for a in json.loads(baseline)["activations"] if a["status"] == "in_progress"
    ]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "markdown", "junit", "table", "json"])
def test_every_format_through_the_cli_is_ansi_free(fmt: str) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", fmt)
    assert result.exit_code == 1 and result.stdout.strip()
    assert "\x1b[" not in result.stdout


def test_a_filter_that_matches_nobody_says_so() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--server", "BBPROD1", "--user", "nobody@example.com")
    assert result.exit_code == 4 and result.stdout.count("\n") == 1  # the header only
    assert (
        "--server 'BBPROD1': no activation on this server (servers with activations: BBPROD01, BES_EAST_02)"
        in (result.stderr)
    )
    assert "--user 'nobody@example.com': no activation of this user in the logs" in result.stderr
    assert "no activation" not in run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--server", "bbprod01").stderr


def test_stall_after_mistakes_are_named() -> None:
    for value, message in [
        ("9999999999999999d", "longer than any log can span"),
        # (long enough for a timedelta, not for a log's time plus it: an internal OverflowError)
        ("99999999d", "a stall threshold of over 3,650 days is no threshold"),
        ("4=3000000d", "a stall threshold of over 3,650 days is no threshold"),
        ("4=2h,3=1h", "give --stall-after once per stage"),
        ("soon", "is not a duration"),
    ]:
        result = run_cli("scan", SAMPLE_LOGS, "--stall-after", value)
        assert result.exit_code == 2 and message in result.stderr, value
        assert "internal error" not in result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_behind_stdout_is_one_clear_line() -> None:
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "bes_logdiag", "scan", str(SAMPLE_LOGS), "-q", "-f", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert proc.returncode == 2
    assert (
        proc.stderr.decode().strip() == "bes-logdiag: error: cannot write the output: No space left on device"
    )


@pytest.mark.parametrize(
    ("module", "loop", "args"),
    [
        ("bes_logdiag.cli.watch", "_watch", ("watch", SAMPLE_LOGS)),
        (
            "bes_logdiag.cli.timeline",
            "_follow",
            ("timeline", "tom.reed@example.com", SAMPLE_LOGS, "--follow"),
        ),
    ],
    ids=["watch", "timeline --follow"],
)
def test_a_reader_gone_from_a_live_output_ends_it_quietly(
    monkeypatch: pytest.MonkeyPatch, module: str, loop: str, args: tuple[object, ...]
) -> None:
    """``watch | head -3``: the pipe closes while changes are still being written.  The live
    output stops with exit code 0 and says nothing, as `scan` and `events` do."""
    import importlib

    def closed_pipe(*_: object, **__: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(importlib.import_module(module), loop, closed_pipe)
    result = run_cli(*args, "-q")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    "args",
    [
        ("scan", SAMPLE_LOGS, "--status", "complete"),
        ("timeline", "ian.dundas@example.com", SAMPLE_LOGS),
        ("kb", "13840"),
        ("kb",),
        ("patterns", "list"),
    ],
    ids=["scan-table", "timeline", "kb-article", "kb", "patterns-list"],
)
def test_a_reader_that_stops_after_one_line_leaves_the_exit_code_to_what_was_found(
    args: tuple[object, ...],
) -> None:
    """``scan logs | head -1`` on clean logs: the table (rich's console) ended the program with
    exit code 1, "problems found", when the pipe closed.  Read one line and close it, as ``head``
    does, at every size of output: the run says 0, and nothing on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bes_logdiag", *map(str, args), "-q", "--width", "200"]
        if args[0] == "scan"
        else [sys.executable, "-m", "bes_logdiag", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""


@pytest.mark.parametrize("args", [("kb",), ("patterns", "list")])
def test_a_closed_stdout_is_refused_where_the_output_would_be_lost(args: tuple[str, ...]) -> None:
    """``kb >&-`` exited 0, its output lost without a word; scan, events and timeline say so."""
    proc = subprocess.run(
        [sys.executable, "-m", "bes_logdiag", *args], stdout=None, stderr=subprocess.PIPE, timeout=120,
        stdin=subprocess.DEVNULL, close_fds=True, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.decode() == "bes-logdiag: error: standard output is closed: nowhere to write\n"
