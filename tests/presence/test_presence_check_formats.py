"""`presence check --format junit|markdown`, shaped like scan's: exact text for one hand-built report,
and every format through the CLI."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from builders import host, presence_cli, swap
from guide_keys import host_text

from bes_logdiag.presence import junit, markdown
from bes_logdiag.presence.check import Capacity, CheckReport
from bes_logdiag.presence.formats import CHECK_WRITERS, CheckFormat
from bes_logdiag.presence.rules import ChecklistItem, Finding, Severity

ONE, TWO, THREE = r"C:\BEMS\bems1.config", "bems2.config", "bems3.config"
REPORT = CheckReport(
    findings=(
        Finding(
            ONE,
            "MAX_SUBSCRIPTION_PER_ENDPOINT",
            Severity.WARNING,
            "setting-misspelt",
            "did you mean MAX?",
            11,
        ),
        Finding(ONE, "ucmaEndpointSips", Severity.INFO, "endpoints-fill-in-order", "2 | *not* balanced", 17),
        Finding(TWO, "LYNC_SERVER", Severity.ERROR, "hosts-setting-differs", 'is "a" here', 7, ONE, 7),
        Finding(TWO, "LYNC_SERVER", Severity.ERROR, "hosts-setting-differs", 'is "b" here', 9, ONE, 7),
    ),
    capacity=(Capacity(ONE, 2, 1000, 2000), Capacity(TWO, 1, None, None), Capacity(THREE, 0, 1000, 0)),
    checklist=(ChecklistItem("Certificates", "friendly name <exact>"),),
)

EXPECTED_MARKDOWN = r"""| File | Line | Severity | Key | Rule | Message |
| --- | --- | --- | --- | --- | --- |
| `C:\BEMS\bems1.config` | 11 | warning | `MAX_SUBSCRIPTION_PER_ENDPOINT` | `setting-misspelt` | did you mean MAX? |
| `C:\BEMS\bems1.config` | 17 | info | `ucmaEndpointSips` | `endpoints-fill-in-order` | 2 \| \*not\* balanced |
| `bems2.config` | 7 | error | `LYNC_SERVER` | `hosts-setting-differs` | is "a" here |
| `bems2.config` | 9 | error | `LYNC_SERVER` | `hosts-setting-differs` | is "b" here |

| File | Endpoints | Per endpoint | Capacity |
| --- | --- | --- | --- |
| `C:\BEMS\bems1.config` | 2 | 1000 | 2000 |
| `bems2.config` | 1 | invalid | invalid |
| `bems3.config` | 0 | 1000 | 0 |

2 errors, 1 warning, 1 info in 3 files

**Also check, outside the configuration files:**

- **Certificates**: friendly name \<exact\>
"""


def test_markdown_of_the_hand_built_report() -> None:
    out = io.StringIO()
    markdown.write(REPORT, out)
    assert out.getvalue() == EXPECTED_MARKDOWN


def test_markdown_without_findings_says_so() -> None:
    out = io.StringIO()
    markdown.write(CheckReport(findings=(), capacity=(Capacity(THREE, 0, 1000, 0),)), out)
    assert out.getvalue().startswith("No findings.\n\n| File | Endpoints |")
    assert "Also check" not in out.getvalue()


def _junit(report: CheckReport) -> ET.Element:
    out = io.StringIO()
    junit.write(report, out)
    text = out.getvalue()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_suite_per_file_and_failures_only_for_errors_and_warnings() -> None:
    root = _junit(REPORT)
    assert root.attrib == {
        "name": "bes-logdiag presence",
        "tests": "5",
        "failures": "3",
        "errors": "0",
        "skipped": "0",
    }
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [ONE, TWO, THREE]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("2", "1"), ("2", "2"), ("1", "0")]
    one, two, three = suites
    warning, info = one.findall("testcase")
    assert warning.get("name") == "MAX_SUBSCRIPTION_PER_ENDPOINT (setting-misspelt)"
    failure = warning.find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == ("warning", "did you mean MAX?")
    assert failure.text is not None and failure.text.startswith(rf"warning at {ONE}:11: did you mean MAX?")
    # an info finding passes, its message kept for whoever reads the case
    assert info.find("failure") is None
    out = info.find("system-out")
    assert out is not None and out.text is not None and "2 | *not* balanced" in out.text
    # the same key and rule twice in a file: told apart by line, so CI keeps both
    assert [c.get("name") for c in two.findall("testcase")] == [
        "LYNC_SERVER (hosts-setting-differs) line 7",
        "LYNC_SERVER (hosts-setting-differs) line 9",
    ]
    first = two.find("testcase/failure")
    assert first is not None and first.text is not None and f"other file: {ONE}:7" in first.text
    # a file without findings is one passing case, with its capacity as properties
    [clean] = three.findall("testcase")
    assert (clean.get("name"), list(clean)) == ("configuration file", [])
    props = {p.get("name"): p.get("value") for p in three.iter("property")}
    assert props == {"endpoints": "0", "max_subscriptions_per_endpoint": "1000", "capacity": "0"}
    assert all(c.get("time") is None for c in root.iter("testcase"))


def test_junit_survives_control_characters() -> None:
    hostile = CheckReport(
        findings=(Finding("a\x1b.config", "K\x00", Severity.ERROR, "setting-unknown", "bad \x07 value", 1),),
        capacity=(Capacity("a\x1b.config", 0, 1000, 0),),
    )
    root = _junit(hostile)
    assert root.find("testsuite/testcase/failure") is not None


def test_junit_steers_no_terminal_and_reorders_no_ci_page() -> None:
    """U+009B (a terminal's CSI in one character) and a right-to-left override are legal XML, but
    the report may be printed on a terminal or shown on a CI page: they are replaced."""
    hostile = CheckReport(
        findings=(
            Finding("a.config", "K\u202e", Severity.ERROR, "setting-unknown", "bad \x9b31m value \u2066", 1),
        ),
        capacity=(Capacity("a.config", 0, 1000, 0),),
    )
    out = io.StringIO()
    junit.write(hostile, out)
    text = out.getvalue()
    assert not any(c in text for c in "\x9b\u202e\u2066")
    assert "bad \ufffd31m value" in text


def test_every_format_has_a_writer() -> None:
    assert list(CHECK_WRITERS) == list(CheckFormat)


@pytest.fixture
def two_hosts(tmp_path: Path) -> tuple[Path, Path]:
    two = swap(host_text(2), 'key="LYNC_SERVER"', 'key="LYNC_SEVER"')
    return host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", two)


@pytest.mark.parametrize("fmt", list(CheckFormat), ids=lambda f: f.value)
def test_every_format_through_the_cli(two_hosts: tuple[Path, Path], fmt: CheckFormat) -> None:
    one, two = two_hosts
    result = presence_cli("check", one, two, "--format", fmt.value)
    assert result.exit_code == 1
    assert "\x1b[" not in result.stdout
    assert "LYNC_SEVER" in result.stdout
    if fmt is CheckFormat.JSON:
        assert json.loads(result.stdout)["findings"]
    if fmt is CheckFormat.JUNIT:
        root = ET.fromstring(result.stdout.encode("utf-8"))
        assert [s.get("name") for s in root.findall("testsuite")] == [str(one), str(two)]
        assert int(root.get("failures", "0")) >= 2  # the misspelt key, and LYNC_SERVER not set there
    if fmt is CheckFormat.MARKDOWN:
        assert result.stdout.startswith("| File | Line | Severity | Key | Rule | Message |\n")


def test_junit_of_clean_hosts_has_no_failure_and_exits_0(tmp_path: Path) -> None:
    one, two = host(tmp_path, "bems01", host_text(1)), host(tmp_path, "bems02", host_text(2))
    result = presence_cli("check", one, two, "-f", "junit")
    assert result.exit_code == 0
    root = ET.fromstring(result.stdout.encode("utf-8"))
    assert root.get("failures") == "0"
    assert root.find(".//failure") is None


def test_junit_names_stay_unique_in_a_file_written_on_one_line() -> None:
    """A minified config: the same key and rule twice on one line got one name twice (GitLab keeps
    one of them)."""
    twice = CheckReport(
        findings=tuple(
            Finding(
                ONE, "ucmaEndpointSips", Severity.WARNING, "endpoint-sip-duplicate", f"listed again ({n})", 1
            )
            for n in (1, 2)
        ),
        capacity=(Capacity(ONE, 2, 1000, 2000),),
        checklist=(),
    )
    names = [case.get("name") for case in _junit(twice).iter("testcase")]
    assert len(names) == len(set(names)) == 2
