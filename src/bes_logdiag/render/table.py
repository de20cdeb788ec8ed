"""Table output for people: one row per activation coloured by status, then the details of each problem."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bes_logdiag.model import Activation, Report, Status

STYLE = {
    Status.COMPLETE: "green",
    Status.IN_PROGRESS: "cyan",
    Status.STALLED: "yellow",
    Status.FAILED: "bold red",
}
_PIPE_WIDTH = 160


def console_for(out: TextIO) -> Console:
    """A console that colours only a terminal (rich also honours NO_COLOR) and is wide when piped."""
    tty = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, width=None if tty else _PIPE_WIDTH, highlight=False, soft_wrap=False)


def _who(a: Activation) -> Text:
    t = Text(a.email or a.display_name or f"UserId={a.user_id}")
    extra = [x for x in (a.display_name if a.email else None, a.user_id) if x]
    if extra:
        t.append(f"\n{' · '.join(extra)}", style="dim")
    return t


def summary_line(report: Report) -> str:
    inputs = report.inputs
    counts = dict.fromkeys(Status, 0)
    for a in report.activations:
        counts[a.last.status] += 1
    parts = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items())
    skipped = f", {len(inputs.skipped)} skipped" if inputs.skipped else ""
    return (
        f"{len(inputs.read)} files{skipped}, {inputs.lines:,} lines, {inputs.matched:,} matched; "
        f"{len(report.activations)} activations: {parts}"
    )


def write(report: Report, out: TextIO) -> None:
    console = console_for(out)
    table = Table(show_lines=False, header_style="bold")
    for col in ("Server", "User", "Status", "Stage", "KB", "Last milestone", "Tries"):
        table.add_column(col, overflow="fold")
    for a in report.activations:
        last = a.last
        style = STYLE[last.status]
        kb = Text(last.diagnosis.kb or "")
        if last.diagnosis.kb_title:
            kb.append(f" {last.diagnosis.kb_title}", style="dim")
        table.add_row(
            a.server or "-",
            _who(a),
            Text(last.status.value, style=style),
            f"{last.stage} {last.stage_name}",
            kb,
            f"{last.last_milestone or '-'}\n{last.last_progress:%Y-%m-%d %H:%M:%S}",
            str(len(a.attempts)),
        )
    console.print(table)
    console.print(summary_line(report))
    problems = [a for a in report.activations if a.last.status in (Status.STALLED, Status.FAILED)]
    for a in problems:
        _details(console, a)


def _details(console: Console, a: Activation) -> None:
    last, d = a.last, a.last.diagnosis
    head = Text(f"\n{a.email or a.display_name or a.user_id} on {a.server or '-'}: ", style="bold")
    head.append(last.status.value, style=STYLE[last.status])
    head.append(f" at stage {last.stage} ({last.stage_name})")
    console.print(head)
    if d.kb:
        console.print(f"  {d.kb}  {d.kb_title}")
    console.print(f"  why: {d.reason}")
    if d.next_expected:
        console.print(f"  expected next: {d.next_expected}")
    for e in last.events:
        mark = "!" if e.error else "-"
        console.print(f"  {mark} {e.time:%m/%d %H:%M:%S} {e.where}  {e.text}", overflow="fold")
    for c in d.candidates:
        console.print(f"  also consider {c.kb} ({c.title}): {c.tell}", style="dim")
