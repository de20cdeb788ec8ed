"""JUnit follows the exit code: only what ``--fail-on`` (less the baseline) fails is a failure, the
others pass with their verdict in system-out; ``--strict`` makes each skipped input an errored
case; ``time`` is no activation's duration."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], str]:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "json", "--jobs", "1")
    return {(a["server"], a["email"]): a["status"] for a in json.loads(result.stdout)["activations"]}


def junit(*args: str) -> tuple[int, ET.Element]:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "junit", "--jobs", "1", *args)
    return result.exit_code, ET.fromstring(result.stdout.encode("utf-8"))


def cases(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {
        (s.get("name", ""), c.get("name", "")): c for s in root.iter("testsuite") for c in s.iter("testcase")
    }


@pytest.mark.parametrize(
    ("fail_on", "failing", "code"),
    [
        ("never", set(), 0),
        ("stalled", {"stalled"}, 1),
        ("failed", {"failed"}, 1),
        ("any", {"stalled", "failed"}, 1),
    ],
)
def test_failures_are_what_fail_on_names(
    verdicts: dict[tuple[str, str], str], fail_on: str, failing: set[str], code: int
) -> None:
    exit_code, root = junit("--fail-on", fail_on)
    assert exit_code == code
    got = cases(root)
    assert sorted(got) == sorted(verdicts)
    expected = sorted(k for k, v in verdicts.items() if v in failing)
    assert sorted(k for k, c in got.items() if c.find("failure") is not None) == expected
    assert root.get("failures") == str(len(expected))
    for s in root.iter("testsuite"):
        assert s.get("failures") == str(len(s.findall("testcase/failure")))
    for key, case in got.items():
        if case.find("failure") is None:
            out = case.findtext("system-out") or ""
            assert out.startswith(verdicts[key]), (key, out)  # the verdict, even of a passing stall
            if verdicts[key] in ("stalled", "failed"):
                assert "not failing the run (--fail-on)" in out.splitlines()[0]
                assert "reason: " in out and "evidence:" in out


def test_a_passing_stall_keeps_its_article_in_system_out() -> None:
    _, root = junit("--fail-on", "never")
    tom = cases(root)[("BBPROD01", "tom.reed@example.com")]
    assert (tom.findtext("system-out") or "").startswith(
        "stalled: KB13840 Activation stops responding at the Activating stage; not failing the run (--fail-on)"
    )


def test_time_is_not_the_activations_duration() -> None:
    _, root = junit()
    assert root.get("time") == "0"
    assert {s.get("time") for s in root.iter("testsuite")} == {"0"}
    assert {c.get("time") for c in root.iter("testcase")} == {"0"}
    tom = cases(root)[("BBPROD01", "tom.reed@example.com")]
    assert "first step to last: 0s" in (tom.findtext("failure") or "")


def test_strict_makes_each_skipped_input_an_errored_case(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLE_LOGS / "BES_EAST_02", logs)
    (logs / "empty.txt").write_bytes(b"")
    report = tmp_path / "report.xml"
    result = run_cli("scan", logs, "-f", "junit", "-o", report, "--strict", "-q", "--jobs", "1")
    assert result.exit_code == 2
    root = ET.parse(report).getroot()
    (suite,) = [s for s in root.iter("testsuite") if s.get("name") == "inputs"]
    (case,) = suite.findall("testcase")
    assert case.get("name") == str(logs / "empty.txt")
    error = case.find("error")
    assert error is not None and error.get("message") == "skipped: empty file"
    assert root.get("errors") == "1" and suite.get("errors") == "1"
    without = run_cli("scan", logs, "-f", "junit", "-q", "--jobs", "1")
    assert "inputs" not in {s.get("name") for s in ET.fromstring(without.stdout.encode()).iter("testsuite")}


def test_fail_if_none_with_no_activation_is_a_failed_case(tmp_path: Path) -> None:
    """The run exits 1 with --fail-if-none and no activation, and the report said tests="0"
    failures="0": CI showed green tests on a red job."""
    logs = tmp_path / "BB01_MAGT_01_20240101_0001.txt"
    logs.write_text("[30085] (01/01 10:00:00.000):{0x1} {a@b.example} New mail has arrived, EntryId=1\n")
    result = run_cli("scan", tmp_path, "--format", "junit", "--fail-if-none", "-q")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert (root.get("tests"), root.get("failures")) == ("1", "1")
    (case,) = root.iter("testcase")
    assert (
        case.find("failure") is not None
        and case.find("failure").get("message") == "no activation in these logs"
    )  # type: ignore[union-attr]
    # without --fail-if-none the run passes, and so does the report
    passing = run_cli("scan", tmp_path, "--format", "junit", "-q")
    assert passing.exit_code == 0 and ET.fromstring(passing.stdout).get("failures") == "0"
