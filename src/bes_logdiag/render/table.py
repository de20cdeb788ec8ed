"""Table output for people: one row per activation coloured by status, then the details of each problem.

Every piece of data (names, servers, log lines, file names, the library's titles) goes to rich as a
``Text`` through `terminal` (STYLE.md point 15): shown, never interpreted as an escape sequence or
as rich markup.
"""

from __future__ import annotations

from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bes_logdiag.model import Activation, Report, Status
from bes_logdiag.render.safe import terminal, terminal_text
from bes_logdiag.render.text import (
    STATUS_STYLE,
    kb_label,
    other_names,
    server_name,
    summary_line,
    unconfirmed_note,
    who,
)

_PIPE_WIDTH = 160
WIDE = 140
"""Below this many columns the table drops its borders, stage names and KB titles."""


def console_for(out: TextIO) -> Console:
    """A console that colours only a terminal (rich also honours NO_COLOR) and is wide when piped."""
    tty = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, width=None if tty else _PIPE_WIDTH, highlight=False, soft_wrap=False)


def _who(a: Activation) -> Text:
    """The name, and the other names dimmed on a line of their own."""
    t = terminal_text(who(a))
    others = other_names(a)
    if others:
        t.append(f"\n{terminal(others)}", style="dim")
    return t


def _status(status: Status) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def write(report: Report, out: TextIO) -> None:
    console = console_for(out)
    console.print(_compact_table(report) if console.width < WIDE else _table(report))
    console.print(terminal_text(summary_line(report)))
    problems = [a for a in report.activations if a.last.status in (Status.STALLED, Status.FAILED)]
    for a in problems:
        _details(console, a)


def _table(report: Report) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for col in ("Server", "User", "Status", "Stage", "KB", "Last milestone", "Tries"):
        table.add_column(col, overflow="fold")
    for a in report.activations:
        last = a.last
        kb = terminal_text(kb_label(last))
        if last.diagnosis.kb_title:
            kb.append(f" {terminal(last.diagnosis.kb_title)}", style="dim")
        if last.missing_logs:
            note = terminal(unconfirmed_note(last))
            kb.append(f"\n({note})" if kb.plain else f"({note})")
        table.add_row(
            terminal_text(server_name(a)),
            _who(a),
            _status(last.status),
            terminal_text(f"{last.stage} {last.stage_name}"),
            kb,
            _milestone(a, "%Y-%m-%d %H:%M:%S"),
            Text(str(len(a.attempts))),
        )
    return table


def _compact_table(report: Report) -> Table:
    """For a terminal narrower than `WIDE`: no borders, the server under the user, the stage as
    its number and the KB as its id (the details below name both), so that addresses, ids and
    milestones are not cut mid-word."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, 1, 0, 0))
    longest = max((len(terminal(who(a))) for a in report.activations), default=4)
    table.add_column("User", overflow="fold", min_width=min(longest, 30))
    for col in ("Status", "Stage", "KB"):
        table.add_column(col, no_wrap=True)
    table.add_column("Last milestone", overflow="fold")
    for a in report.activations:
        last = a.last
        cell = _who(a)
        cell.append(f"\non {terminal(server_name(a))}", style="dim")
        table.add_row(
            cell,
            _status(last.status),
            Text(str(last.stage)),
            terminal_text(kb_label(last)),
            _milestone(a, "%m-%d %H:%M"),
        )
    return table


def _milestone(a: Activation, time_format: str) -> Text:
    """The last milestone, and under it when the attempt last moved."""
    last = a.last
    return Text(f"{terminal(last.last_milestone or '-')}\n{last.last_progress:{time_format}}")


def _details(console: Console, a: Activation) -> None:
    last, d = a.last, a.last.diagnosis
    t = terminal  # every piece of data below; the "\n" the layout puts between them stays a line break
    head = Text(f"\n{t(who(a))} on {t(server_name(a))}: ", style="bold")
    head.append(_status(last.status))
    head.append(f" at stage {last.stage} ({t(last.stage_name)})")
    if last.missing_logs:
        head.append(f" ({t(unconfirmed_note(last))})")
    console.print(head)
    if d.kb:
        _item(console, f"{t(kb_label(last))}  {t(str(d.kb_title))}")
    _item(console, f"why: {t(d.reason)}")
    if d.next_expected:
        _item(console, f"expected next: {t(d.next_expected)}")
    narrow = console.width < WIDE
    for e in last.events:
        # On a narrow terminal the file:line gets a line of its own, so it is never cut.
        sep = "\n" if narrow else "  "
        _item(console, f"{e.time:%m/%d %H:%M:%S} {t(e.where)}{sep}{t(e.text)}", mark="!" if e.error else "-")
    for c in d.candidates:
        _item(console, f"also consider {t(c.kb)} ({t(c.title)}): {t(c.tell)}", style="dim")


def _item(console: Console, text: str, style: str = "", mark: str | None = None) -> None:
    """A detail line, indented by two, wrapped at spaces with its wrapped lines indented too (after
    the `mark`); a path longer than the line is never cut, and no line gets trailing spaces."""
    import textwrap

    first = f"  {mark} " if mark else "  "
    rest = " " * len(first)
    wrap = textwrap.TextWrapper(width=max(console.width, 40), subsequent_indent=rest,
                                break_long_words=False, break_on_hyphens=False)  # fmt: skip
    lines = []
    for n, part in enumerate(text.split("\n")):
        wrap.initial_indent = rest if n else first
        lines += wrap.wrap(part)
    console.print(Text("\n".join(lines), style=style), soft_wrap=True)
