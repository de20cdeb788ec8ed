"""JUnit XML output for CI: a test suite per server, a test case per activation.

Stalled and failed activations are failures, in-progress ones skipped, complete ones pass, so a CI
job (GitLab ``artifacts:reports:junit``, Jenkins, GitHub test reporters) shows each activation as a
test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TextIO

from bes_logdiag.model import Activation, Report, Status
from bes_logdiag.render.text import kb_label, unconfirmed_note, who

UNKNOWN_SERVER = "unknown-server"
# XML 1.0 forbids most C0 controls (and ElementTree writes them unescaped): a stray byte in a log
# line or file name must not make the whole report unparsable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _unique_names(acts: list[Activation]) -> list[str]:
    """Names unique within a suite (GitLab drops duplicate test cases): add the id, then a count."""
    first = Counter(who(a) for a in acts)
    names = [
        f"{who(a)} (UserId={a.user_id})"
        if first[who(a)] > 1 and a.user_id and (a.email or a.display_name)
        else who(a)
        for a in acts
    ]
    total: Counter[str] = Counter(names)
    used: Counter[str] = Counter()
    out: list[str] = []
    for n in names:
        used[n] += 1
        out.append(f"{n} #{used[n]}" if total[n] > 1 else n)
    return out


def _seconds(act: Activation) -> str:
    """How long the last attempt ran: first milestone to last progress."""
    return f"{(act.last.last_progress - act.last.started).total_seconds():.3f}"


def _failure_text(act: Activation) -> str:
    d = act.last.diagnosis
    lines = [
        f"reason: {d.reason}",
        f"last milestone: {d.last_milestone or '-'}",
        f"next expected: {d.next_expected or '-'}",
        *([f"missing logs: {', '.join(act.last.missing_logs)}"] if act.last.missing_logs else []),
        "evidence:",
        *(f"  {w}" for w in d.evidence),
    ]
    lines += [f"also consider {c.kb} ({c.title}): {c.tell}" for c in d.candidates]
    return "\n".join(lines)


def _testcase(suite: ET.Element, act: Activation, name: str, server: str) -> None:
    last, d = act.last, act.last.diagnosis
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_clean(f"bes-logdiag.{server}"),
        name=_clean(name),
        time=_seconds(act),
    )
    if last.status in (Status.STALLED, Status.FAILED):
        kb = " ".join(x for x in (kb_label(last), d.kb_title) if x)
        message = f"{last.status.value}: {kb}" if kb else last.status.value
        if last.missing_logs:
            message += f" ({unconfirmed_note(last)})"
        failure = ET.SubElement(case, "failure", message=_clean(message), type=last.status.value)
        failure.text = _clean(_failure_text(act))
    elif last.status is Status.IN_PROGRESS:
        waiting = f": waiting for {d.next_expected}" if d.next_expected else ""
        note = f" ({unconfirmed_note(last)})" if last.missing_logs else ""
        ET.SubElement(case, "skipped", message=_clean(f"in progress{waiting}{note}"))


def build_tree(report: Report) -> ET.Element:
    """The ``<testsuites>`` element: suites in order of each server's first activation."""
    by_server: dict[str, list[Activation]] = {}
    for act in report.activations:
        by_server.setdefault(act.server or UNKNOWN_SERVER, []).append(act)
    root = ET.Element("testsuites", name="bes-logdiag")
    totals: Counter[str] = Counter()
    for server, acts in by_server.items():
        statuses = Counter(a.last.status for a in acts)
        counts: dict[str, int] = {
            "tests": len(acts),
            "failures": statuses[Status.STALLED] + statuses[Status.FAILED],
            "errors": 0,
            "skipped": statuses[Status.IN_PROGRESS],
        }
        totals.update(counts)
        seconds = sum((a.last.last_progress - a.last.started).total_seconds() for a in acts)
        attrib = {"name": _clean(server), **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(root, "testsuite", attrib, time=f"{seconds:.3f}")
        for act, name in zip(acts, _unique_names(acts)):
            _testcase(suite, act, name, server)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    return root


def write(report: Report, out: TextIO) -> None:
    root = build_tree(report)
    ET.indent(root)
    # Written by hand: ElementTree's own declaration names the locale's encoding when writing text.
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
