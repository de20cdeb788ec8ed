"""Output safety (issue 15): ``-o`` never overwrites or feeds an input and is checked before the
scan; the report is written whole or not at all (temporary file + os.replace); a closed or broken
stderr changes neither the exit code nor the report; a closed stdout is one line and exit 2; a file
name that is not valid UTF-8 reaches every output as valid UTF-8 (U+FFFD where its bad bytes were).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli

from bes_logdiag.cli.common import output_stream

LOG_NAME = "BBPROD01_MAGT_01_20231230_0001.txt"
USER = "anna.berg@example.com"
"""A user whose activation that MAGT log holds (timeline needs one)."""
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell and file descriptors")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder: ``logs/`` with one BES log and one empty file (whose "skipped" warning
    shows whether a scan ran), ``logs.zip`` holding the log, and ``users.csv``."""
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLE_LOGS / "BBPROD01" / "20231230" / LOG_NAME, logs / LOG_NAME)
    (logs / "empty.txt").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "logs.zip", "w") as zf:
        zf.write(logs / LOG_NAME, LOG_NAME)
    (tmp_path / "users.csv").write_text("email,user_id,display_name\nanna.berg@example.com,17,Anna Berg\n")
    (tmp_path / "out").mkdir()
    return tmp_path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# -o refused before the scan
# ---------------------------------------------------------------------------------------------

REFUSED = [
    (["logs"], "logs/report.json", "it is inside the input folder logs: the next scan would read the report as a log"),
    (["logs"], "logs/empty.txt", "it is inside the input folder logs: the next scan would read the report as a log"),
    ([f"logs/{LOG_NAME}"], f"logs/{LOG_NAME}", f"it is the input file logs/{LOG_NAME}: the report would overwrite it"),
    (
        [f"logs/{LOG_NAME}"],
        f"out/../logs/{LOG_NAME}",
        f"it is the input file logs/{LOG_NAME}: the report would overwrite it",
    ),
    (["logs.zip"], "logs.zip", "it is the input archive logs.zip: the report would overwrite it"),
    (["logs/*.txt"], "logs/new.txt", "it matches the input pattern logs/*.txt: the next scan would read the report as a log"),
    (["logs/*.txt"], f"logs/{LOG_NAME}", f"it is the input file logs/{LOG_NAME}: the report would overwrite it"),
    (["logs.zip", "--users", "users.csv"], "users.csv", "it is the input file users.csv: the report would overwrite it"),
    (["logs.zip"], "missing/report.json", "no such folder missing"),
    (["logs.zip"], "users.csv/report.json", "users.csv is not a folder"),
    (["logs.zip"], "out", "is a folder; give the name of the report file"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "output", "message"), REFUSED, ids=[r[1] for r in REFUSED])
def test_scan_refuses_the_output_before_reading(
    site: Path, args: list[str], output: str, message: str
) -> None:
    before = _snapshot(site)
    result = run_cli("scan", *args, "-o", output, "--jobs", "1")
    assert result.exit_code == 2
    # One line and nothing else: no "skipped: empty file" warning, so no log was read.
    assert result.stderr == f"bes-logdiag: error: -o {output}: {message}\n"
    assert result.stdout == ""
    assert _snapshot(site) == before


@pytest.mark.parametrize(
    "command",
    [["scan"], ["events"], ["timeline", USER]],
    ids=["scan", "events", "timeline"],
)
def test_every_log_command_refuses_an_input_as_output(site: Path, command: list[str]) -> None:
    before = _snapshot(site)
    result = run_cli(*command, "logs", "-o", "logs/out.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("bes-logdiag: error: -o logs/out.txt: it is inside the input folder logs")
    assert _snapshot(site) == before


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_link_to_an_input_is_the_input(site: Path) -> None:
    try:
        (site / "out" / "link.txt").symlink_to(site / "logs" / LOG_NAME)
    except OSError:
        pytest.skip("cannot create symbolic links here")
    result = run_cli("scan", f"logs/{LOG_NAME}", "-o", "out/link.txt")
    assert result.exit_code == 2
    assert "it is the input file logs/" in result.stderr


def test_a_hard_link_to_an_input_is_the_input(site: Path) -> None:
    try:
        os.link(site / "logs" / LOG_NAME, site / "out" / "hard.txt")
    except OSError:
        pytest.skip("cannot create hard links here")
    result = run_cli("scan", f"logs/{LOG_NAME}", "-o", "out/hard.txt")
    assert result.exit_code == 2
    assert result.stderr == (
        f"bes-logdiag: error: -o out/hard.txt: it is the input file logs/{LOG_NAME}: the report would overwrite it\n"
    )


def test_presence_check_refuses_a_config_as_output(site: Path) -> None:
    config = site / "out" / "LyncPresenceProviderService.exe.config"
    config.write_text("<configuration/>")
    result = run_cli("presence", "check", str(config), "-o", str(config))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"bes-logdiag: error: -o {config}: it is the input file {config}: the report would overwrite it\n"
    )
    assert config.read_text() == "<configuration/>"


def test_presence_whitelist_refuses_its_file_as_output(site: Path) -> None:
    (site / "out" / "domains.txt").write_text("example.com\n")
    result = run_cli("presence", "whitelist", "--file", "out/domains.txt", "-o", "out/domains.txt")
    assert result.exit_code == 2
    assert "-o out/domains.txt: it is the input file out/domains.txt" in result.stderr
    assert (site / "out" / "domains.txt").read_text() == "example.com\n"


def test_an_output_beside_the_inputs_is_written(site: Path) -> None:
    result = run_cli("scan", "logs", "-f", "json", "-o", "out/report.json", "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    assert json.loads((site / "out" / "report.json").read_text(encoding="utf-8"))["activations"]
    assert os.listdir(site / "out") == ["report.json"]  # no temporary left behind


# ---------------------------------------------------------------------------------------------
# whole or absent: a temporary file renamed into place
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [RuntimeError("renderer broke"), KeyboardInterrupt()], ids=["error", "ctrl-c"]
)
def test_an_interrupted_write_leaves_the_old_report(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"old": true}\n')
    with pytest.raises(type(error)), output_stream(target) as out:
        out.write('{"new": ')
        out.flush()
        raise error
    assert target.read_text() == '{"old": true}\n'
    assert os.listdir(tmp_path) == ["report.json"]


def test_two_writers_never_mix(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    with output_stream(target) as first:
        first.write('{"run": "first", ')
        with output_stream(target) as second:
            second.write('{"run": "second", "done": true}\n')
        assert json.loads(target.read_text()) == {"run": "second", "done": True}
        first.write('"done": true}\n')
    assert json.loads(target.read_text()) == {"run": "first", "done": True}  # the last to finish wins
    assert os.listdir(tmp_path) == ["report.json"]


def test_many_concurrent_writers_leave_one_whole_report(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    body = "x" * 200_000  # larger than any buffer: a mixed write would show

    def write(n: int) -> None:
        for i in range(20):
            with output_stream(target) as out:
                for piece in (f'{{"writer": {n}, "round": {i}, "body": "', body, '"}\n'):
                    out.write(piece)
                    out.flush()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = json.loads(target.read_text())
    assert doc["round"] == 19 and doc["body"] == body
    assert os.listdir(tmp_path) == ["report.json"]


def test_two_processes_writing_one_report(site: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "bes_logdiag",
        "scan",
        "logs",
        "-f",
        "json",
        "-q",
        "-j",
        "1",
        "-o",
        "out/r.json",
    ]
    for _ in range(3):
        procs = [subprocess.Popen(argv, stderr=subprocess.PIPE) for _ in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode in (0, 1), err
        assert json.loads((site / "out" / "r.json").read_text(encoding="utf-8"))["activations"]
        assert os.listdir(site / "out") == ["r.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="permission bits")
def test_the_report_keeps_the_permissions_a_file_would_get(site: Path) -> None:
    existing = site / "out" / "kept.json"
    existing.write_text("old")
    existing.chmod(0o640)
    assert run_cli("scan", "logs.zip", "-f", "json", "-o", existing).exit_code in (0, 1)
    assert existing.stat().st_mode & 0o777 == 0o640
    umask = os.umask(0)
    os.umask(umask)
    assert run_cli("scan", "logs.zip", "-f", "json", "-o", "out/new.json").exit_code in (0, 1)
    assert (site / "out" / "new.json").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_link_as_output_writes_its_target(site: Path) -> None:
    target = site / "out" / "real.json"
    target.write_text("old")
    try:
        (site / "link.json").symlink_to(target)
    except OSError:
        pytest.skip("cannot create symbolic links here")
    assert run_cli("scan", "logs.zip", "-f", "json", "-o", "link.json").exit_code in (0, 1)
    assert (site / "link.json").is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["activations"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_written_not_replaced() -> None:
    result = run_cli(
        "scan", SAMPLE_LOGS / "BBPROD01" / "20231230" / LOG_NAME, "-f", "json", "-o", "/dev/null"
    )
    assert result.exit_code in (0, 1), result.stderr
    assert not Path("/dev/null").is_file()


# ---------------------------------------------------------------------------------------------
# stderr and stdout closed or broken (real processes: CliRunner has no file descriptors)
# ---------------------------------------------------------------------------------------------


def _run(args: list[str], *, shell_redirect: str = "", **kw: object) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "bes_logdiag", *args]
    if shell_redirect:
        argv = ["sh", "-c", f'exec "$@" {shell_redirect}', "sh", *argv]
    return subprocess.run(argv, timeout=60, **kw)  # type: ignore[call-overload,no-any-return]


SCAN = ["scan", "logs", "-f", "json", "-j", "1", "-o", "out/report.json"]


@POSIX
def test_a_broken_stderr_changes_nothing(site: Path) -> None:
    working = _run(SCAN, stderr=subprocess.PIPE)
    assert b"skipped: empty file" in working.stderr  # a warning is written, so it meets the break
    report = (site / "out" / "report.json").read_bytes()
    os.remove(site / "out" / "report.json")

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stderr: EPIPE
    try:
        broken = _run(SCAN, stderr=write_end)
    finally:
        os.close(write_end)
    assert broken.returncode == working.returncode
    assert (site / "out" / "report.json").read_bytes() == report
    os.remove(site / "out" / "report.json")

    closed = _run(SCAN, shell_redirect="2>&-")
    assert closed.returncode == working.returncode
    assert (site / "out" / "report.json").read_bytes() == report
    assert os.listdir(site / "out") == ["report.json"]


@POSIX
def test_a_broken_stderr_keeps_the_usage_error_code(site: Path) -> None:
    closed = _run(["scan", "logs", "-o", "logs/r.json"], shell_redirect="2>&-")
    assert closed.returncode == 2


@POSIX
def test_a_closed_stdout_is_one_line_and_exit_2(site: Path) -> None:
    result = _run(["scan", "logs", "-j", "1"], shell_redirect=">&-", stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "bes-logdiag: error: standard output is closed: give -o FILE to write the report to a file\n"
    )


@POSIX
def test_a_closed_stdout_does_not_matter_with_o(site: Path) -> None:
    result = _run(SCAN, shell_redirect=">&-", stderr=subprocess.PIPE)
    assert result.returncode in (0, 1), result.stderr
    assert json.loads((site / "out" / "report.json").read_text(encoding="utf-8"))["activations"]


@POSIX
def test_a_closed_stdout_does_not_matter_to_redact_into_a_folder(site: Path) -> None:
    """redact writes a folder (and --map-out a file): it never needs stdout."""
    result = _run(["redact", "logs", "-o", "red", "--key", "k", "-q", "-j", "1"], shell_redirect=">&-",
                  stderr=subprocess.PIPE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert any((site / "red").rglob("*.txt"))


# ---------------------------------------------------------------------------------------------
# file names that are not valid UTF-8
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def bad_name(site: Path) -> Path:
    """``bad/`` holding the log under a name with the byte 0xFF (invalid UTF-8) and an empty file
    named with 0xFE."""
    folder = site / "bad"
    folder.mkdir()
    data = (site / "logs" / LOG_NAME).read_bytes()
    try:
        with open(os.fsencode(folder) + b"/BBPROD01_MAGT_01_20231230_0001\xff.txt", "wb") as f:
            f.write(data)
        with open(os.fsencode(folder) + b"/junk\xfe.txt", "wb"):
            pass
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only valid names")
    return folder


FORMATS = ["table", "json", "ndjson", "csv", "junit", "markdown"]
HUMAN = {"table", "markdown"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_file_name_reaches_the_output_file_as_utf8(bad_name: Path, fmt: str) -> None:
    result = run_cli("scan", "bad", "-f", fmt, "-o", "out/report", "-j", "1")
    assert result.exit_code in (0, 1), result.stderr
    text = (bad_name.parent / "out" / "report").read_bytes().decode("utf-8")  # strict: valid UTF-8
    # Machine formats carry U+FFFD; the human ones may show the byte as a visible escape instead.
    # (csv has one row per activation and names no file.)
    if fmt != "csv":
        assert "0001\ufffd.txt" in text or (fmt in HUMAN and "0001\\udcff.txt" in text)
    if fmt == "json":
        doc = json.loads(text)
        paths = [f["path"] for f in doc["inputs"]["files"]] + [s["path"] for s in doc["inputs"]["skipped"]]
        assert sorted(paths) == ["bad/BBPROD01_MAGT_01_20231230_0001\ufffd.txt", "bad/junk\ufffd.txt"]


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_bad_file_name_reaches_stdout_as_utf8(bad_name: Path, fmt: str) -> None:
    result = run_cli("scan", "bad", "-f", fmt, "-j", "1")
    assert result.exit_code in (0, 1), result.stderr
    text = result.stdout_bytes.decode("utf-8")
    if fmt == "json":
        assert (
            json.loads(text)["inputs"]["files"][0]["path"] == "bad/BBPROD01_MAGT_01_20231230_0001\ufffd.txt"
        )


@pytest.mark.parametrize("command", [["events"], ["timeline", USER]], ids=["events", "timeline"])
def test_events_and_timeline_take_bad_file_names(bad_name: Path, command: list[str]) -> None:
    result = run_cli(*command, "bad", "-o", "out/r.txt")
    assert result.exit_code in (0, 1), result.stderr
    text = (bad_name.parent / "out" / "r.txt").read_bytes().decode("utf-8")
    assert "0001\ufffd.txt" in text or "0001\\udcff.txt" in text


@POSIX
def test_a_bad_file_name_on_a_real_stdout(bad_name: Path) -> None:
    result = _run(
        ["scan", "bad", "-f", "json", "-j", "1", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["inputs"]["files"][0]["path"].endswith("\ufffd.txt")
