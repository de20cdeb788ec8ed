"""Render Presence check and whitelist reports as rich tables, plain lines or JSON (the check's
JUnit and Markdown have modules of their own; `formats` maps each --format to its writer)."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bes_logdiag.presence.check import Capacity, CheckReport
from bes_logdiag.presence.rules import ChecklistItem, Finding, Severity
from bes_logdiag.presence.whitelist import WhitelistReport
from bes_logdiag.render.safe import terminal, terminal_text
from bes_logdiag.render.table import console_for
from bes_logdiag.words import plural

# console_for is the console every table command uses (scan, timeline, kb, patterns list): it
# colours only a terminal and has the fixed pipe width (render.table._PIPE_WIDTH) when piped or
# written with --output. Everything printed here is a Text object, so [brackets] in paths and
# values are never read as markup, and every path, key and message (they quote the config's
# values) goes through `terminal`, so no escape sequence or bidi control in them reaches a
# terminal (STYLE.md point 15). The JSON keeps them as they are.


class OutputFormat(str, enum.Enum):
    """`presence whitelist --format` choices: one domain per line, or JSON."""

    TABLE = "table"
    JSON = "json"


CHECKLIST_TITLE = "Also check, outside the configuration files:"


SEVERITY_STYLES = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "file": finding.file,
        "line": finding.line,
        "key": finding.key,
        "severity": finding.severity.value,
        "rule": finding.rule,
        "message": finding.message,
        "other_file": finding.other_file,
        "other_line": finding.other_line,
    }


def capacity_to_dict(capacity: Capacity) -> dict[str, Any]:
    return {
        "file": capacity.file,
        "endpoints": capacity.endpoints,
        "max_subscriptions_per_endpoint": capacity.per_endpoint,
        "total": capacity.total,
    }


def checklist_to_dict(item: ChecklistItem) -> dict[str, Any]:
    return {"topic": item.topic, "text": item.text}


def check_to_json(report: CheckReport) -> str:
    """`{"findings": [...], "capacity": [...]}`; capacity holds one object per file, in order.
    With --checklist, `"checklist": [{"topic": ..., "text": ...}, ...]` as well."""
    data: dict[str, Any] = {
        "findings": [finding_to_dict(f) for f in report.findings],
        "capacity": [capacity_to_dict(c) for c in report.capacity],
    }
    if report.checklist:
        data["checklist"] = [checklist_to_dict(item) for item in report.checklist]
    return json.dumps(data, indent=2)


def write_check_json(report: CheckReport, out: TextIO) -> None:
    out.write(check_to_json(report) + "\n")


def whitelist_to_json(report: WhitelistReport) -> str:
    data = {
        "domains": list(report.domains),
        "findings": [finding_to_dict(f) for f in report.findings],
    }
    return json.dumps(data, indent=2)


def summary_line(findings: Sequence[Finding], files: int | None = None) -> str:
    """E.g. `2 errors, 1 warning, 3 info in 2 files`."""
    counts = {s: sum(f.severity is s for f in findings) for s in Severity}
    parts = [
        plural(counts[Severity.ERROR], "error"),
        plural(counts[Severity.WARNING], "warning"),
        f"{counts[Severity.INFO]} info",
    ]
    tail = f" in {plural(files, 'file')}" if files is not None else ""
    return ", ".join(parts) + tail


def findings_table(findings: Iterable[Finding]) -> Table:
    table = Table(expand=False)
    table.add_column("Line", justify="right", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    # Keys and rule ids are never wrapped, so they stay whole (and greppable) even on an
    # 80-column terminal: only the message column gives way (at spaces; a word longer than the
    # column is folded). A key too long for the whole line (a stray whitelist entry) is folded.
    table.add_column("Key / rule", no_wrap=True, overflow="fold")
    table.add_column("Message", overflow="fold")
    for finding in findings:
        # Key and rule share a cell so a narrow table keeps room for the message.
        key_rule = terminal_text(finding.key)
        key_rule.append("\n" + terminal(finding.rule), style="dim")
        table.add_row(
            Text(str(finding.line) if finding.line is not None else "-"),
            Text(finding.severity.value, style=SEVERITY_STYLES[finding.severity]),
            key_rule,
            terminal_text(finding.message),
        )
    return table


def capacity_table(capacity: Iterable[Capacity]) -> Table:
    table = Table(title=Text("Subscription capacity"), title_justify="left")
    table.add_column("File", overflow="fold")
    table.add_column("Endpoints", justify="right", no_wrap=True)
    table.add_column("Per endpoint", justify="right", no_wrap=True)
    table.add_column("Capacity", justify="right", no_wrap=True)
    for row in capacity:
        table.add_row(
            terminal_text(row.file),
            Text(str(row.endpoints)),
            Text(_or_invalid(row.per_endpoint)),
            Text(_or_invalid(row.total)),
        )
    return table


def _or_invalid(number: int | None) -> str:
    return str(number) if number is not None else "invalid"


def write_check_table(report: CheckReport, out: TextIO) -> None:
    """Per file, its name and a findings table (or one line), then the capacity table, then the
    checklist when asked for."""
    console = console_for(out)
    for capacity in report.capacity:
        findings = [f for f in report.findings if f.file == capacity.file]
        # File names are printed unwrapped so a long path stays whole (and greppable).
        if findings:
            console.print(terminal_text(capacity.file, style="bold"), soft_wrap=True)
            console.print(findings_table(findings))
        else:
            console.print(Text(f"{terminal(capacity.file)}: no findings"), soft_wrap=True)
    console.print(capacity_table(report.capacity))
    if report.checklist:
        write_checklist(report.checklist, console)


def write_checklist(items: Iterable[ChecklistItem], console: Console) -> None:
    """The checklist under its title, one item a bullet; a long item wraps under its own text
    (wrapped here, not by a rich grid, which would pad every line with spaces to the width)."""
    console.print(Text(CHECKLIST_TITLE, style="bold"))
    for item in items:
        text = Text(item.topic, style="bold")
        text.append(f": {item.text}")
        for n, line in enumerate(text.wrap(console, max(console.width - 2, 20))):
            line.rstrip()
            console.print(Text("- " if n == 0 else "  ") + line, soft_wrap=True)


def write_domains(report: WhitelistReport, out: TextIO) -> None:
    """The normalised whitelist, one domain per line (plain text, ready to paste)."""
    for domain in report.domains:
        out.write(domain + "\n")


def write_findings(findings: Sequence[Finding], out: TextIO) -> None:
    if findings:
        console_for(out).print(findings_table(findings))
