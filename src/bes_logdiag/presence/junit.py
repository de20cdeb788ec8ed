"""JUnit XML of a presence check for CI: a test suite per configuration file, a test case per finding.

Shaped like `scan --format junit` (render/junit.py): errors and warnings, the findings that make the
command exit 1, are failures; an info finding is a passing case with its message in ``system-out``,
so a CI dashboard's verdict matches the exit code. A file without findings is one passing case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from typing import TextIO

from bes_logdiag.presence.check import FAILING, Capacity, CheckReport
from bes_logdiag.presence.rules import Finding
from bes_logdiag.render.junit import clean

CLASSNAME = "bes-logdiag.presence"
CLEAN_CASE = "configuration file"
"""The name of the one case of a file without findings."""


def _case_names(findings: list[Finding]) -> list[str]:
    """`KEY (rule)`, which stays the same when lines move (CI tracks a test by its name); the line
    is added only where a file has the same key and rule twice (GitLab drops duplicate names)."""
    names = [f"{f.key} ({f.rule})" for f in findings]
    counts = Counter(names)
    lined = [
        f"{name} line {f.line if f.line is not None else '-'}" if counts[name] > 1 else name
        for name, f in zip(names, findings)
    ]
    # (and a count where the line is the same too: a file written on one line)
    again, seen = Counter(lined), Counter[str]()
    out = []
    for name in lined:
        seen[name] += 1
        out.append(f"{name} #{seen[name]}" if again[name] > 1 else name)
    return out


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else file


def _details(finding: Finding) -> str:
    lines = [
        f"{finding.severity.value} at {_where(finding.file, finding.line)}: {finding.message}",
        f"rule: {finding.rule}",
        f"key: {finding.key}",
    ]
    if finding.other_file is not None:
        lines.append(f"other file: {_where(finding.other_file, finding.other_line)}")
    return "\n".join(lines)


def _suite(root: ET.Element, capacity: Capacity, findings: list[Finding]) -> Counter[str]:
    failures = sum(f.severity in FAILING for f in findings)
    counts: Counter[str] = Counter(tests=max(len(findings), 1), failures=failures, errors=0, skipped=0)
    attrib = {
        "name": clean(capacity.file),
        **{k: str(counts[k]) for k in ("tests", "failures", "errors", "skipped")},
    }
    suite = ET.SubElement(root, "testsuite", attrib)
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("endpoints", capacity.endpoints),
        ("max_subscriptions_per_endpoint", capacity.per_endpoint),
        ("capacity", capacity.total),
    ):
        shown = str(value) if value is not None else "invalid"
        ET.SubElement(properties, "property", name=name, value=shown)
    if not findings:
        ET.SubElement(suite, "testcase", classname=CLASSNAME, name=CLEAN_CASE)
    for finding, name in zip(findings, _case_names(findings)):
        case = ET.SubElement(suite, "testcase", classname=CLASSNAME, name=clean(name))
        if finding.severity in FAILING:
            failure = ET.SubElement(
                case, "failure", message=clean(finding.message), type=finding.severity.value
            )
            failure.text = clean(_details(finding))
        else:
            ET.SubElement(case, "system-out").text = clean(_details(finding))
    return counts


def build_tree(report: CheckReport) -> ET.Element:
    """The ``<testsuites>`` element: one suite per file, in the order the files were given."""
    root = ET.Element("testsuites", name="bes-logdiag presence")
    totals: Counter[str] = Counter()
    for capacity in report.capacity:
        findings = [f for f in report.findings if f.file == capacity.file]
        totals.update(_suite(root, capacity, findings))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    return root


def write(report: CheckReport, out: TextIO) -> None:
    root = build_tree(report)
    ET.indent(root)
    # Written by hand: ElementTree's own declaration names the locale's encoding when writing text.
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
