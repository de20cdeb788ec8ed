"""What the formats for people say the same way: who an activation is, where, each status's colour,
and the summary line of a report.

No rich here: the json and ndjson formats count statuses with `status_counts` and should not pay for
importing it.
"""

from __future__ import annotations

from bes_logdiag.model import Activation, Attempt, Report, Status
from bes_logdiag.words import plural

STATUS_STYLE = {
    Status.COMPLETE: "green",
    Status.IN_PROGRESS: "cyan",
    Status.STALLED: "yellow",
    Status.FAILED: "bold red",
}
"""The rich style of each verdict, wherever one is shown on a terminal (scan's table and details,
the timeline's headings)."""


def who(act: Activation) -> str:
    """The name an activation goes by: its address, else its display name, else ``UserId=N``."""
    return act.email or act.display_name or f"UserId={act.user_id}"


def other_names(act: Activation) -> str:
    """Its names beside `who`, ``Dubois, Pierre · 2007``: the display name when the address is the
    name, and the user id unless it is the name itself (``""`` when there are none)."""
    if not (act.email or act.display_name):
        return ""
    return " · ".join(x for x in (act.display_name if act.email else None, act.user_id) if x)


def server_name(act: Activation) -> str:
    """The server it activated on, ``-`` when no file name or folder told it."""
    return act.server or "-"


def kb_label(attempt: Attempt) -> str:
    """The article's id, with ``?`` when the stall it names is unconfirmed (``KB03410?``)."""
    kb = attempt.diagnosis.kb or ""
    return f"{kb}?" if kb and attempt.unconfirmed else kb


def unconfirmed_note(attempt: Attempt) -> str:
    """``unconfirmed: no POLC or SYNC log`` when the verdict lacked the logs of the service that
    writes the step expected next (``missing_logs``), else ``""``."""
    if not attempt.missing_logs:
        return ""
    return f"unconfirmed: no {' or '.join(attempt.missing_logs)} log"


def missing_summary(report: Report) -> str:
    """``; 5 verdicts unconfirmed: missing POLC and SYNC logs on BBPROD01``, or ``""``."""
    by_server: dict[str | None, set[str]] = {}
    for a in report.activations:
        if a.last.missing_logs:
            by_server.setdefault(a.server, set()).update(a.last.missing_logs)
    if not by_server:
        return ""
    count = sum(1 for a in report.activations if a.last.missing_logs)
    where = ", ".join(
        f"{' and '.join(sorted(services))} logs on {server or 'input with no server name'}"
        for server, services in by_server.items()
    )
    return f"; {plural(count, 'verdict')} unconfirmed: missing {where}"


def status_counts(report: Report) -> dict[Status, int]:
    """How many activations end in each status (their last attempt's), every status in order."""
    counts = dict.fromkeys(Status, 0)
    for a in report.activations:
        counts[a.last.status] += 1
    return counts


def summary_line(report: Report) -> str:
    """``46 files, 27,456 lines, 125 matched; 19 activations: 6 complete, 1 in progress, ...``."""
    inputs = report.inputs
    parts = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in status_counts(report).items())
    partly = sum(s.partial for s in inputs.skipped)
    whole = len(inputs.skipped) - partly
    files = plural(len(inputs.read), "file")
    read = f"{files} read ({partly} of them in part)" if partly else files
    skipped = f", {whole} skipped" if whole else ""
    skipped += f", {len(inputs.ignored)} ignored" if inputs.ignored else ""
    skipped += f", {plural(len(inputs.duplicates), 'duplicate')}" if inputs.duplicates else ""
    # (lines that hold a pattern's words but not the BES grammar: wrapped or reformatted logs)
    unparsed = f", {inputs.unparsed:,} unparsed" if inputs.unparsed else ""
    return (
        f"{read}{skipped}, {plural(inputs.lines, 'line')}, {inputs.matched:,} matched{unparsed}; "
        f"{plural(len(report.activations), 'activation')}: {parts}{missing_summary(report)}"
    )
