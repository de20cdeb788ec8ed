"""Markdown of a presence check to paste into a ticket: the findings, the capacity, the count, the checklist.

Escaped as `scan --format markdown` escapes (render/markdown.py): text cells get a backslash before
``\\ | * _ ` < > [ ]``; file names, keys and rule ids are code spans, where only the pipe is escaped,
so Windows paths keep their backslashes; runs of white space become one space, and control, escape
and bidi characters are shown as escapes (`terminal`), since the file is often read in a terminal
before it is pasted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from bes_logdiag.presence.check import Capacity, CheckReport
from bes_logdiag.presence.render import CHECKLIST_TITLE, summary_line
from bes_logdiag.presence.rules import Finding
from bes_logdiag.render.markdown import code, row, text

FINDINGS_HEADER = ("File", "Line", "Severity", "Key", "Rule", "Message")
CAPACITY_HEADER = ("File", "Endpoints", "Per endpoint", "Capacity")
NO_FINDINGS = "No findings."


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows)]


def _finding_cells(f: Finding) -> list[str]:
    return [
        code(f.file),
        str(f.line) if f.line is not None else "-",
        f.severity.value,
        code(f.key),
        code(f.rule),
        text(f.message),
    ]


def _capacity_cells(c: Capacity) -> list[str]:
    def number(n: int | None) -> str:
        return str(n) if n is not None else "invalid"

    return [code(c.file), str(c.endpoints), number(c.per_endpoint), number(c.total)]


def write(report: CheckReport, out: TextIO) -> None:
    if report.findings:
        lines = _table(FINDINGS_HEADER, [_finding_cells(f) for f in report.findings])
    else:
        lines = [NO_FINDINGS]
    # Each blank line ends a table: GFM would take a following plain line as one more row.
    lines += ["", *_table(CAPACITY_HEADER, [_capacity_cells(c) for c in report.capacity])]
    lines += ["", text(summary_line(report.findings, len(report.capacity)))]
    if report.checklist:
        lines += ["", f"**{text(CHECKLIST_TITLE)}**", ""]
        lines += [f"- **{text(item.topic)}**: {text(item.text)}" for item in report.checklist]
    out.write("\n".join(lines) + "\n")
