"""``bes-logdiag redact`` on the command line: what it refuses up front (exit 2, one line), stdin to
stdout, and ``--reverse``, which reads a report of redacted logs (any format) with the real names
again from the ``--map-out`` file (issue 18)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, bes_line, complete_text, run_cli, verdict_rows

DAY = SAMPLE_LOGS / "BBPROD01" / "20231230"


def test_help_says_what_it_does_with_an_example() -> None:
    result = run_cli("redact", "--help")
    assert result.exit_code == 0
    assert "Example: bes-logdiag redact" in result.stdout
    for option in ("--key", "--map-out", "--servers", "--users", "--copy-unparsed", "--reverse", "--map"):
        assert option in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["LOGS", "-o", "OUT"], "Invalid value for --key: give the key file (it is created when missing)"),
        (["LOGS", "--key", "KEY"], "Invalid value for -o: give the folder for the redacted copies"),
        (["--key", "KEY", "-o", "OUT"], "Invalid value for PATH: give the logs to redact"),
        (["LOGS", "--key", "KEY", "-o", "FULL"], "bes-logdiag: error: -o FULL: the folder is not empty; give a new or empty folder"),
        (["LOGS", "--key", "KEY", "-o", "LOGS/out"], "bes-logdiag: error: -o LOGS/out: it is inside the input folder LOGS"),
        (["LOGS", "--key", "OUT/k", "-o", "OUT"], "bes-logdiag: error: --key OUT/k: it is inside the output folder, which is meant to be sent"),
        (["LOGS", "--key", "KEY", "-o", "OUT", "--map-out", "OUT/m.json"], "bes-logdiag: error: --map-out OUT/m.json: it is inside the output folder"),
        (["LOGS", "--key", "LOGS/BBPROD01_SYNC_01_20231230_0001.txt", "-o", "OUT"], "not a bes-logdiag redaction key"),
        (["--map", "MAP"], "Invalid value for --map: goes with --reverse REPORT"),
        (["--reverse", "REPORT"], "Invalid value for --map: give the --map-out file of the redaction"),
        (["--reverse", "REPORT", "--map", "KEY"], "bes-logdiag: error: KEY: not a mapping file written by bes-logdiag redact --map-out"),
        (["LOGS", "--key", "KEY", "-o", "OUT", "--users", "nope.csv"], "Invalid value for --users: nope.csv: no such file"),
        (["LOGS", "--key", "KEY", "-o", "OUT", "--map-out", "LOGS/BBPROD01_SYNC_01_20231230_0001.txt"], "bes-logdiag: error: --map-out LOGS/BBPROD01_SYNC_01_20231230_0001.txt: it is inside the input folder LOGS"),
    ],
)  # fmt: skip
def test_a_mistake_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(DAY, tmp_path / "LOGS")
    (tmp_path / "FULL").mkdir()
    (tmp_path / "FULL" / "x").write_text("x")
    (tmp_path / "KEY").write_text("bes-logdiag redaction key, version 1: ...\n" + "ab" * 32 + "\n")
    (tmp_path / "REPORT").write_text("{}")
    result = run_cli("redact", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "OUT").exists() or not any((tmp_path / "OUT").iterdir())
    for log in (tmp_path / "LOGS").iterdir():  # (none overwritten: --map-out onto a log)
        assert log.read_bytes() == (DAY / log.name).read_bytes()


def test_an_excerpt_on_stdin_is_redacted_to_stdout(tmp_path: Path) -> None:
    text = bes_line("03/12 09:00:00.000", complete_text("Dundas, Ian", 2573), tid="5E") + "\r\n"
    result = run_cli("redact", "-", "--key", tmp_path / "k", input=text.encode())
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "[40000] (03/12 09:00:00.000):{0x5E} [SYNC-DSession] *** SLOWSYNC COMPLETE *** ["
    )
    assert (
        "Dundas" not in result.stdout
        and "2573" not in result.stdout
        and result.stdout_bytes.endswith(b"]\r\n")
    )


@pytest.fixture(scope="module")
def redacted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:  # type: ignore[type-arg]
    """The sample logs redacted with --servers: the folder, the mapping, the original scan and the scan
    of the copies (JSON)."""
    tmp = tmp_path_factory.mktemp("redacted")
    result = run_cli("redact", SAMPLE_LOGS, "-o", tmp / "out", "--key", tmp / "k", "--map-out", tmp / "map.json",
                     "--servers", "-j", "1")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    original = json.loads(run_cli("scan", SAMPLE_LOGS, "-f", "json", "-j", "1").stdout)
    copy = json.loads(run_cli("scan", tmp / "out", "-f", "json", "-j", "1").stdout)
    return tmp / "out", tmp / "map.json", original, copy


def test_reverse_gives_a_json_report_its_real_names_back(tmp_path: Path, redacted) -> None:  # type: ignore[no-untyped-def]
    _, mapping, original, copy = redacted
    (tmp_path / "r.json").write_text(json.dumps(copy))
    result = run_cli("redact", "--reverse", tmp_path / "r.json", "--map", mapping)
    assert result.exit_code == 0, result.stderr
    back = json.loads(result.stdout)
    assert verdict_rows(back) == verdict_rows(original)
    assert verdict_rows(copy) != verdict_rows(original)


@pytest.mark.parametrize("fmt", ["markdown", "csv", "table", "junit"])
def test_reverse_reads_every_format_back(tmp_path: Path, redacted, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out, mapping, original, _ = redacted
    report = tmp_path / f"r.{'xml' if fmt == 'junit' else fmt}"
    run_cli("scan", out, "-f", fmt, "-o", report, "-j", "1")
    assert "anna.berg@example.com" not in report.read_text()
    result = run_cli("redact", "--reverse", report, "--map", mapping, "-o", tmp_path / "back")
    assert result.exit_code == 0, result.stderr
    back = (tmp_path / "back").read_text()
    for a in original["activations"]:
        if a["email"]:
            assert a["email"] in back, a["email"]
    assert "BBPROD01" in back


def test_reverse_escapes_the_names_it_puts_into_html(tmp_path: Path) -> None:
    from bes_logdiag.redact.mapping import Mapping
    from bes_logdiag.redact.reverse import reverse_report

    mapping = Mapping()
    mapping.add("display_name", "Kofamireli, Bodasuteva", "O'Brien <Sales>, Seán")
    html = "<td>Kofamireli, Bodasuteva</td>"
    assert reverse_report(html, mapping, name="r.html") == "<td>O&#x27;Brien &lt;Sales&gt;, Seán</td>"
    assert reverse_report("| Kofamireli, Bodasuteva |", mapping) == "| O'Brien <Sales>, Seán |"


def test_stdin_goes_alone_to_stdout(tmp_path: Path) -> None:
    result = run_cli("redact", "-", DAY, "--key", tmp_path / "k", "-o", tmp_path / "out", input=b"")
    assert result.exit_code == 2
    assert "- (standard input) goes alone and without -o" in result.stderr


def test_worker_processes_make_the_same_copies_and_mapping_as_one(tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        result = run_cli("redact", SAMPLE_LOGS, "-o", tmp_path / jobs, "--key", tmp_path / "k",
                         "--map-out", tmp_path / f"map{jobs}.json", "-j", jobs)  # fmt: skip
        assert result.exit_code == 0, result.stderr
    one = {p.relative_to(tmp_path / "1"): p.read_bytes() for p in (tmp_path / "1").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "2"): p.read_bytes() for p in (tmp_path / "2").rglob("*") if p.is_file()}
    assert one == two and len(one) == 46
    maps = [json.loads((tmp_path / f"map{j}.json").read_text())["pseudonyms"] for j in ("1", "2")]
    assert maps[0] == maps[1] and len(maps[0]["address"]) > 40
