"""JUnit XML output for CI: a test suite per server, a test case per activation.

The cases follow the run's exit code (`baseline.Gate`: ``--fail-on`` and ``--baseline``): an
activation that fails the run is a ``<failure>``, an in-progress one is skipped, and every other
one passes, with its verdict in ``<system-out>`` (a stall that ``--fail-on failed`` or the baseline
lets pass is still said there).  So a CI job (GitLab ``artifacts:reports:junit``, Jenkins, GitHub
test reporters) marks the build exactly when the exit code fails it.  With ``--strict`` each
skipped input is an errored case in a suite of its own, ``inputs``; with ``--fail-if-none`` and no
activation, one failed case says so, in a suite ``activations``.

``time`` is 0: a case is a verdict read from logs, and the activation's own duration (minutes to
days) is no test's running time; dashboards that add times up would show hours.  The duration is
in ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import TextIO

from bes_logdiag.baseline import Gate
from bes_logdiag.model import Activation, Report, Skipped, Status
from bes_logdiag.render.safe import INVISIBLE, terminal
from bes_logdiag.render.text import kb_label, unconfirmed_note, who
from bes_logdiag.words import duration

UNKNOWN_SERVER = "unknown-server"
INPUTS_SUITE = "inputs"
NONE_SUITE = "activations"
"""The suite of ``--fail-if-none`` when there is no activation: one failed case."""
NO_TIME = "0"
# XML 1.0 forbids most C0 controls (and ElementTree writes them unescaped): a stray byte in a log
# line or file name must not make the whole report unparsable.  C1 controls (U+009B is a terminal's
# CSI), the bidirectional overrides and the other invisible characters (`safe.INVISIBLE`) are allowed
# in XML but would steer a terminal the report is printed on, or hide or reorder what a CI page
# shows: they go too.
_NOT_XML = re.compile(f"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[{INVISIBLE}]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _unique_names(acts: list[Activation]) -> list[str]:
    """Names unique within a suite (GitLab drops duplicate test cases): add the id, then a count.
    A control character in a name is shown as its escape (``\\x07``), as the other formats show
    it: two names that differ by one stay two (replaced by U+FFFD, they were one)."""
    shown = [terminal(who(a)) for a in acts]
    first = Counter(shown)
    names = [
        f"{name} (UserId={a.user_id})" if first[name] > 1 and a.user_id and (a.email or a.display_name)
        else name
        for a, name in zip(acts, shown)
    ]  # fmt: skip
    total: Counter[str] = Counter(names)
    used: Counter[str] = Counter()
    out: list[str] = []
    for n in names:
        used[n] += 1
        out.append(f"{n} #{used[n]}" if total[n] > 1 else n)
    return out


def _verdict(act: Activation) -> str:
    """``stalled: KB13840 Activation stops responding ... (unconfirmed: no POLC log)``."""
    last, d = act.last, act.last.diagnosis
    kb = " ".join(x for x in (kb_label(last), d.kb_title) if x)
    message = f"{last.status.value}: {kb}" if kb else last.status.value
    return f"{message} ({unconfirmed_note(last)})" if last.missing_logs else message


def _failure_text(act: Activation) -> str:
    d = act.last.diagnosis
    span = duration(act.last.last_progress - act.last.started)
    lines = [
        f"reason: {d.reason}",
        f"last milestone: {d.last_milestone or '-'}",
        f"next expected: {d.next_expected or '-'}",
        *([f"missing logs: {', '.join(act.last.missing_logs)}"] if act.last.missing_logs else []),
        "evidence:",
        *(f"  {w}" for w in d.evidence),
        f"first step to last: {span}",
    ]
    lines += [f"also consider {c.kb} ({c.title}): {c.tell}" for c in d.candidates]
    return "\n".join(lines)


def _passing_text(act: Activation, gate: Gate) -> str:
    """The verdict of a case that passes, and why a stall or failure does not fail the run."""
    last = act.last
    if gate.accepted(act):
        why = "accepted by the baseline"
        if gate.baseline is not None:
            why += f" {gate.baseline.path}"
    elif last.status in (Status.STALLED, Status.FAILED):
        why = "not failing the run (--fail-on)"
    else:
        why = ""
    head = f"{_verdict(act)}; {why}" if why else _verdict(act)
    return f"{head}\n{_failure_text(act)}"


def _testcase(suite: ET.Element, act: Activation, name: str, server: str, gate: Gate) -> None:
    last, d = act.last, act.last.diagnosis
    case = ET.SubElement(
        suite, "testcase", classname=clean(f"bes-logdiag.{server}"), name=clean(name), time=NO_TIME
    )
    if gate.fails(act):
        failure = ET.SubElement(case, "failure", message=clean(_verdict(act)), type=last.status.value)
        failure.text = clean(_failure_text(act))
        return
    if last.status is Status.IN_PROGRESS:
        waiting = f": waiting for {d.next_expected}" if d.next_expected else ""
        note = f" ({unconfirmed_note(last)})" if last.missing_logs else ""
        ET.SubElement(case, "skipped", message=clean(f"in progress{waiting}{note}"))
    ET.SubElement(case, "system-out").text = clean(_passing_text(act, gate))


def _inputs_suite(root: ET.Element, skipped: tuple[Skipped, ...]) -> Counter[str]:
    """``--strict``: every input that could not be read (in whole or in part) as an errored case."""
    counts: Counter[str] = Counter(tests=len(skipped), failures=0, errors=len(skipped), skipped=0)
    attrib = {"name": INPUTS_SUITE, **{k: str(counts[k]) for k in ("tests", "failures", "errors", "skipped")}}
    suite = ET.SubElement(root, "testsuite", attrib, time=NO_TIME)
    for s in skipped:
        case = ET.SubElement(
            suite, "testcase", classname=f"bes-logdiag.{INPUTS_SUITE}", name=clean(s.path), time=NO_TIME
        )
        error = ET.SubElement(case, "error", message=clean(f"{s.what}: {s.reason}"), type="skipped-input")
        error.text = clean(f"{s.path}: {s.what}: {s.reason}\n--strict fails the run on any input not read")
    return counts


def build_tree(report: Report, gate: Gate | None = None, *, strict: bool = False) -> ET.Element:
    """The ``<testsuites>`` element: suites in order of each server's first activation, then,
    with ``strict``, the inputs that were skipped."""
    gate = gate or Gate()
    by_server: dict[str, list[Activation]] = {}
    for act in report.activations:
        by_server.setdefault(act.server or UNKNOWN_SERVER, []).append(act)
    root = ET.Element("testsuites", name="bes-logdiag")
    totals: Counter[str] = Counter()
    for server, acts in by_server.items():
        counts: dict[str, int] = {
            "tests": len(acts),
            "failures": sum(gate.fails(a) for a in acts),
            "errors": 0,
            "skipped": sum(a.last.status is Status.IN_PROGRESS and not gate.fails(a) for a in acts),
        }
        totals.update(counts)
        attrib = {"name": clean(server), **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(root, "testsuite", attrib, time=NO_TIME)
        for act, name in zip(acts, _unique_names(acts)):
            _testcase(suite, act, name, server, gate)
    if gate.fail_if_none and not report.activations:
        # (the exit code fails the run: so does a case, or CI shows green tests on a red job)
        totals.update(tests=1, failures=1)
        suite = ET.SubElement(root, "testsuite", name=NONE_SUITE, tests="1", failures="1", errors="0",
                              skipped="0", time=NO_TIME)  # fmt: skip
        case = ET.SubElement(suite, "testcase", classname=f"bes-logdiag.{NONE_SUITE}", name=NONE_SUITE,
                             time=NO_TIME)  # fmt: skip
        ET.SubElement(
            case, "failure", message="no activation in these logs", type="none"
        ).text = "--fail-if-none fails the run when the logs hold no activation"
    if strict and report.inputs.skipped:
        totals.update(_inputs_suite(root, report.inputs.skipped))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    root.set("time", NO_TIME)
    return root


def write(report: Report, out: TextIO, *, gate: Gate | None = None, strict: bool = False) -> None:
    """The JUnit report; ``gate`` says which activations fail the run (default: every stalled
    or failed one), ``strict`` adds the skipped inputs as errors."""
    root = build_tree(report, gate, strict=strict)
    ET.indent(root)
    # Written by hand: ElementTree's own declaration names the locale's encoding when writing text.
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
