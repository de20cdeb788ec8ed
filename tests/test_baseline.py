"""``scan --write-baseline FILE`` writes the accepted problems; ``scan --baseline FILE`` fails only
on problems that are new or changed, and says how many it accepted."""

from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli

from bes_logdiag.baseline import Entry, Gate, read_baseline, write_baseline
from bes_logdiag.errors import UsageError
from bes_logdiag.model import Status


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "csv", "--jobs", "1", "--write-baseline", path)
    assert result.exit_code == 1, result.stderr  # the run itself is judged as ever
    return path


def test_the_file_lists_every_stalled_and_failed_activation(written: Path) -> None:
    doc = json.loads(written.read_text(encoding="utf-8"))
    assert doc["bes-logdiag"] == "baseline" and doc["version"] == 1
    sample = json.loads(run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json").stdout)["activations"]
    expected = sorted(
        (a["server"], a["email"], a["status"], a["kb"])
        for a in sample
        if a["status"] in ("stalled", "failed")
    )
    assert [(e["server"], e["email"], e["status"], e["kb"]) for e in doc["accepted"]] == expected
    assert set(doc["accepted"][0]) == {"server", "email", "user_id", "display_name", "status", "kb"}
    lines = written.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(expected) + 6  # one entry a line, for diffs


def test_a_baseline_of_every_problem_passes_and_says_how_many(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "json", "--jobs", "1", "--baseline", written)
    assert result.exit_code == 0, result.stderr
    note = f"--baseline {written}: 12 stalled or failed activations accepted, not failing the run"
    assert note in result.stderr
    assert note in json.loads(result.stdout)["notes"]


def test_the_table_counts_and_marks_what_was_accepted(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--jobs", "1", "--baseline", written)
    assert result.exit_code == 0
    assert "5 failed; 12 accepted by the baseline\n" in result.stdout
    assert (
        "tom.reed@example.com on BBPROD01: stalled at stage 1 (Activation) (accepted by the baseline)"
        in result.stdout
    )


def test_junit_passes_what_the_baseline_accepts(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "junit", "--baseline", written)
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.get("failures") == "0" and root.find(".//failure") is None
    outs = [c.findtext("system-out") or "" for c in root.iter("testcase")]
    assert sum(f"accepted by the baseline {written}" in o for o in outs) == 12


def test_a_new_problem_fails(written: Path, tmp_path: Path) -> None:
    doc = json.loads(written.read_text(encoding="utf-8"))
    tom = next(e for e in doc["accepted"] if e["email"] == "tom.reed@example.com")
    doc["accepted"].remove(tom)
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("scan", SAMPLE_LOGS, "-f", "junit", "--baseline", older)
    assert result.exit_code == 1
    failed = [
        c.get("name")
        for c in ET.fromstring(result.stdout.encode()).iter("testcase")
        if c.find("failure") is not None
    ]
    assert failed == ["tom.reed@example.com"]
    assert "11 stalled or failed activations accepted" in result.stderr


def test_a_changed_problem_fails_and_the_stale_entry_is_named(written: Path, tmp_path: Path) -> None:
    doc = json.loads(written.read_text(encoding="utf-8"))
    tom = next(e for e in doc["accepted"] if e["email"] == "tom.reed@example.com")
    tom["kb"] = "KB02276"  # accepted when it pointed at another article
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--baseline", changed)
    assert result.exit_code == 1
    assert (
        f"--baseline {changed}: 1 accepted problem no longer found as accepted (fixed, or its verdict "
        "changed): tom.reed@example.com on BBPROD01 (stalled KB02276)" in result.stderr
    )


def test_fail_on_still_applies_beside_the_baseline(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "csv", "--baseline", written, "--fail-on", "never")
    assert result.exit_code == 0


def test_filters_apply_to_the_report_not_to_the_baseline(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--baseline", written, "--server", "BES_EAST_02")
    assert result.exit_code == 0
    assert "6 stalled or failed activations accepted" in result.stderr  # BES_EAST_02's own
    assert "no longer found" not in result.stderr  # BBPROD01's entries still match


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a bes-logdiag baseline (not JSON"),
        ('{"accepted": []}', "not a bes-logdiag baseline (write one with scan --write-baseline"),
        ('{"bes-logdiag": "baseline", "version": 9, "accepted": []}', "version 9 is not one this tool reads (1)"),
        ('{"bes-logdiag": "baseline", "version": 1, "accepted": [{"status": "stalled", "server": "X"}]}',
         "entry 1: names no user"),
        ('{"bes-logdiag": "baseline", "version": 1, "accepted": [{"status": "late", "email": "a@b"}]}',
         "entry 1: status 'late' is not one of stalled, failed"),
    ],
)  # fmt: skip
def test_a_file_that_is_no_baseline_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    result = run_cli("scan", SAMPLE_LOGS, "--baseline", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: --baseline {bad}: ") and message in result.stderr
    assert result.stdout == ""  # refused before any log is read


def test_a_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--baseline", tmp_path / "none.json")
    assert result.exit_code == 2 and "cannot read it" in result.stderr


def test_write_baseline_refuses_an_input(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS / "BES_EAST_02", logs)
    result = run_cli("scan", logs, "--write-baseline", logs / "baseline.json")
    assert result.exit_code == 2
    assert "--write-baseline" in result.stderr and "inside the input folder" in result.stderr
    assert not (logs / "baseline.json").exists()


def test_the_report_may_not_overwrite_the_baseline(written: Path) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--baseline", written, "-o", written)
    assert result.exit_code == 2 and "the report would overwrite it" in result.stderr


def test_a_baseline_updates_itself(written: Path, tmp_path: Path) -> None:
    copy = tmp_path / "b.json"
    shutil.copy(written, copy)
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "csv", "--baseline", copy, "--write-baseline", copy)
    assert result.exit_code == 0
    assert copy.read_text(encoding="utf-8") == written.read_text(encoding="utf-8")


# --- matching, on values ------------------------------------------------------------------------


def _entry(**kw: object) -> Entry:
    base: dict[str, object] = {
        "server": "BB01",
        "email": None,
        "user_id": None,
        "display_name": None,
        "status": Status.STALLED,
        "kb": "KB13840",
    }
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def test_the_strongest_name_both_know_decides() -> None:
    from builders import scan_report

    report = scan_report(SAMPLE_LOGS)
    tom = next(a for a in report.activations if a.email == "tom.reed@example.com")
    assert _entry(server="bbprod01", email="TOM.REED@example.com").accepts(tom)
    assert not _entry(server="BES_EAST_02", email="tom.reed@example.com").accepts(tom)
    assert not _entry(server="BBPROD01", email="tom.reed@example.com", kb="KB13843").accepts(tom)
    assert not _entry(server="BBPROD01", email="tom.reed@example.com", status=Status.FAILED).accepts(tom)
    pierre = next(a for a in report.activations if a.email == "pierre.dubois@example.com")
    ids = {"server": "BES_EAST_02", "status": Status.STALLED, "kb": "KB03964"}
    assert _entry(**ids, user_id="2007").accepts(pierre)
    assert not _entry(**ids, user_id="2008", display_name="Dubois, Pierre").accepts(pierre)  # the id decides
    assert _entry(**ids, display_name="dubois,  pierre").accepts(pierre)
    gate = Gate(frozenset({Status.STALLED}))
    assert gate.fails(pierre) and not gate.accepted(pierre)


def test_what_is_written_is_read_back(tmp_path: Path) -> None:
    entries = [_entry(email="a@example.com", user_id="17"), _entry(display_name="Müller, Jürgen", kb=None)]
    out = io.StringIO()
    write_baseline(entries, out)
    path = tmp_path / "b.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert list(read_baseline(path).entries) == entries
    assert '"user_id": 17' in out.getvalue() and "Müller" in out.getvalue()
    with pytest.raises(UsageError):
        read_baseline(tmp_path / "missing.json")
