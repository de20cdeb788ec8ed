"""Table output for people: one row per activation coloured by status, then the details of each problem.

Every piece of data (names, servers, log lines, file names, the library's titles) goes to rich as a
``Text`` through `terminal` (STYLE.md point 15): shown, never interpreted as an escape sequence or
as rich markup.

The table is laid out for the width it has (`Screen`, `console_for`): the richest of `LAYOUTS`
whose columns fit, so that at 160 columns it has borders, stage names and KB titles, at 120 KB
titles and tries under a light rule, and at 80 the user, status, KB id and milestone.  Addresses,
ids and milestones are never wrapped inside a layout that fits; on a terminal too narrow for the
sparest one, a milestone is cut with an ellipsis and an address folds onto the next line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bes_logdiag.baseline import Gate
from bes_logdiag.model import Activation, Report, Status, Unattached
from bes_logdiag.render.safe import is_terminal, terminal, terminal_text
from bes_logdiag.render.text import (
    STATUS_STYLE,
    kb_label,
    other_names,
    server_name,
    summary_line,
    unconfirmed_note,
    who,
)
from bes_logdiag.words import human_time

_PIPE_WIDTH = 160
"""The width of output that goes to no terminal and is given none (``--width``, ``COLUMNS``)."""
WIDE = 140
"""Below this many columns a detail's file:line gets a line of its own."""
MIN_WIDTH = 40
"""The narrowest ``--width``: an address and a verdict side by side."""
_KB_MIN = 24
"""A KB column with titles narrower than this wraps a title into more lines than it is worth."""


@dataclass(frozen=True)
class Screen:
    """What the command line says about the output for people (``--width``, ``--color``)."""

    width: int | None = None
    """Columns to lay out for; None: the terminal's width, ``COLUMNS``, or 160 when piped."""
    color: bool | None = None
    """True: colour even when piped (``--color always``); False: no colour and no style at all
    (``--color never``); None: rich decides (a terminal, FORCE_COLOR, NO_COLOR)."""


def output_width(
    out: TextIO, screen: Screen | None = None, environ: Mapping[str, str] | None = None
) -> int | None:
    """The columns to lay out for: ``--width``, else ``COLUMNS``, else the terminal's own (None:
    rich asks it), else 160 for a pipe or a file (a report read later, in an editor or a CI log)."""
    environ = os.environ if environ is None else environ
    if screen is not None and screen.width:
        return screen.width
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if is_terminal(out) else _PIPE_WIDTH


class _Console(Console):
    """A rich console whose reader stopping early (``| head``) is a `BrokenPipeError`, which the
    output's owner ends quietly (`cli.streams.output_stream`): rich's own ends the program with
    exit code 1, "problems found", after clean logs."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def console_for(out: TextIO, screen: Screen | None = None) -> Console:
    """A console laid out `output_width` wide that colours as `Screen.color` says: by default
    only a terminal, or wherever FORCE_COLOR is set, and never under NO_COLOR."""
    screen = screen or Screen()
    width = output_width(out, screen)
    if screen.color is False:
        return _Console(file=out, width=width, highlight=False, soft_wrap=False, color_system=None)
    if screen.color is True:
        console = _Console(
            file=out, width=width, highlight=False, soft_wrap=False, force_terminal=True, no_color=False
        )
        if console.color_system is None:  # TERM=dumb or unset: the 16 colours every terminal has
            console = _Console(file=out, width=width, highlight=False, soft_wrap=False, force_terminal=True,
                              no_color=False, color_system="standard")  # fmt: skip
        return console
    return _Console(file=out, width=width, highlight=False, soft_wrap=False)


def _status(status: Status) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def write(
    report: Report,
    out: TextIO,
    *,
    screen: Screen | None = None,
    gate: Gate | None = None,
    outside: Sequence[Unattached] | None = None,
) -> None:
    """The table, the summary line, the errors outside any activation, and the details of every
    stalled or failed activation.  ``gate``: which of them fail the run; those a baseline accepts
    are marked ``accepted``.  ``outside``: a report of chosen users (``--user``): their lines
    outside any activation, told last, instead of everyone's errors under the summary."""
    gate = gate or Gate()
    console = console_for(out, screen)
    console.print(activations_table(report.activations, console.width, gate))
    summary = summary_line(report)
    accepted = gate.count_accepted(report.activations)
    if accepted:
        summary += f"; {accepted:,} accepted by the baseline"
    console.print(terminal_text(summary))
    if outside is None:
        _errors_outside(console, report)
    problems = [a for a in report.activations if a.last.status in (Status.STALLED, Status.FAILED)]
    for a in problems:
        _details(console, a, gate)
    if outside:
        _outside(console, report, outside)


def _errors_outside(console: Console, report: Report) -> None:
    """Under the summary: the errors of users with no activation (`render.outside.errors_lines`)."""
    from bes_logdiag.render.outside import ERRORS_HINT, errors_lines

    lines = errors_lines(report.unattached)
    if lines:
        console.print(Text(f"Errors outside any activation ({ERRORS_HINT}):", style="bold"))
    for line in lines:
        console.print(terminal_text(f"  {line}"))


# --- the table: the richest layout that fits -----------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Which columns the table has, and how much each says."""

    boxed: bool
    """Borders around every cell; else a rule under the header and a space between columns."""
    server_column: bool
    """The server in a column of its own; else ``on SERVER`` under the user."""
    stage_names: bool
    """``4 Slow synchronization``; else the stage's number (the details name it)."""
    stage_column: bool
    """The stage in a column of its own; else ``stage 4`` under the status."""
    kb_titles: bool
    """The article's title after its id, wrapped in the column; else the id alone."""
    tries: bool


LAYOUTS = (
    Layout(boxed=True, server_column=True, stage_names=True, stage_column=True, kb_titles=True, tries=True),
    Layout(boxed=True, server_column=True, stage_names=False, stage_column=True, kb_titles=True, tries=True),
    Layout(boxed=False, server_column=True, stage_names=False, stage_column=True, kb_titles=True, tries=True),
    Layout(
        boxed=False, server_column=False, stage_names=False, stage_column=True, kb_titles=True, tries=True
    ),
    Layout(
        boxed=False, server_column=False, stage_names=False, stage_column=True, kb_titles=False, tries=True
    ),
    Layout(
        boxed=False, server_column=False, stage_names=False, stage_column=True, kb_titles=False, tries=False
    ),
    Layout(
        boxed=False, server_column=False, stage_names=False, stage_column=False, kb_titles=False, tries=False
    ),
)
"""From the richest to the sparest: what goes first is what the details below the table repeat
(stage names, then borders, the server's column, KB titles), and tries last but one."""


@dataclass(frozen=True)
class _Cells:
    """One activation's cells as plain text lines (for measuring) with their styles."""

    server: str
    user: list[str]
    status: Status
    accepted: bool
    stage: str
    stage_name: str
    kb: str
    kb_title: str
    unconfirmed: str
    milestone: str
    time: str
    tries: str


def _cells(a: Activation, gate: Gate) -> _Cells:
    last = a.last
    t = terminal
    others = other_names(a)
    return _Cells(
        server=t(server_name(a)),
        user=[t(who(a)), *([t(others)] if others else [])],
        status=last.status,
        accepted=gate.accepted(a),
        stage=str(last.stage),
        stage_name=t(last.stage_name),
        kb=t(kb_label(last)),
        kb_title=t(last.diagnosis.kb_title or ""),
        unconfirmed=t(unconfirmed_note(last)),
        milestone=t(last.last_milestone or "-"),
        time=human_time(last.last_progress),
        tries=str(len(a.attempts)),
    )


def _widest(header: str, lines: Iterable[str]) -> int:
    return max(cell_len(header), max(map(cell_len, lines), default=0))


@dataclass(frozen=True)
class _Widths:
    """The widest text of every column in every form it takes (header included), measured once
    for all the layouts."""

    user: int
    on_server: int
    status: int
    stage_under: int
    milestone: int
    server: int
    stage: int
    stage_named: int
    kb: int
    kb_titled: int
    tries: int


def _measure(rows: Sequence[_Cells]) -> _Widths:
    accepted = ["accepted"] if any(r.accepted for r in rows) else []
    kb = _widest("KB", (r.kb for r in rows))
    titled = _widest(
        "KB", [*(f"{r.kb} {r.kb_title}".strip() for r in rows), *(f"({r.unconfirmed})" for r in rows)]
    )
    return _Widths(
        user=_widest("User", (x for r in rows for x in r.user)),
        on_server=_widest("User", (f"on {r.server}" for r in rows)),
        status=_widest("Status", [*(r.status.value for r in rows), *accepted]),
        stage_under=_widest("Status", (f"stage {r.stage}" for r in rows)),
        milestone=_widest("Last milestone", (x for r in rows for x in (r.milestone, r.time))),
        server=_widest("Server", (r.server for r in rows)),
        stage=_widest("Stage", (r.stage for r in rows)),
        stage_named=_widest("Stage", (f"{r.stage} {r.stage_name}" for r in rows)),
        kb=kb,
        kb_titled=min(titled, max(_KB_MIN, kb)),
        tries=_widest("Tries", (r.tries for r in rows)),
    )


def _needed(layout: Layout, w: _Widths) -> int:
    """The columns ``layout`` takes with every fixed cell whole and KB titles (if any) in a column
    of at least `_KB_MIN`: the width of the text plus the table's padding and rules."""
    widths = [
        w.user if layout.server_column else max(w.user, w.on_server),
        w.status if layout.stage_column else max(w.status, w.stage_under),
        w.milestone,
        w.kb_titled if layout.kb_titles else w.kb,
    ]
    if layout.server_column:
        widths.append(w.server)
    if layout.stage_column:
        widths.append(w.stage_named if layout.stage_names else w.stage)
    if layout.tries:
        widths.append(w.tries)
    n = len(widths)
    # Boxed: a rule on either side of every column and a space of padding on each side of its
    # text.  Light: one space of padding and one of rule between columns, none at the edges.
    return sum(widths) + (3 * n + 1 if layout.boxed else 2 * (n - 1))


def choose_layout(rows: Sequence[_Cells], width: int) -> tuple[Layout, bool]:
    """The richest layout that fits ``width``, and whether it does (else the sparest, cut to fit)."""
    widths = _measure(rows)
    for layout in LAYOUTS:
        if _needed(layout, widths) <= width:
            return layout, True
    return LAYOUTS[-1], False


def activations_table(acts: Sequence[Activation], width: int, gate: Gate | None = None) -> Table:
    """One row per activation, laid out for ``width`` columns (`choose_layout`)."""
    gate = gate or Gate()
    rows = [_cells(a, gate) for a in acts]
    layout, fits = choose_layout(rows, width)
    if layout.boxed:
        table = Table(header_style="bold")
    else:
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False,
                      padding=(0, 1, 0, 0))  # fmt: skip

    # In a layout that fits only the KB titles wrap.  In one that does not, the address and the
    # milestone give up room together (rich narrows only the columns that may wrap): the address
    # folds onto the next line, the milestone and the other cells are cut with an ellipsis.
    def fixed(name: str, *, whole: bool = True) -> None:
        table.add_column(name, no_wrap=whole, overflow="ellipsis")

    if layout.server_column:
        fixed("Server")
    if fits:
        fixed("User")
    else:
        table.add_column("User", overflow="fold")
    fixed("Status")
    if layout.stage_column:
        fixed("Stage")
    if layout.kb_titles:
        table.add_column("KB", overflow="fold")
    else:
        fixed("KB")
    fixed("Last milestone", whole=fits)
    if layout.tries:
        fixed("Tries")
    for r in rows:
        table.add_row(*_row(r, layout))
    return table


def _row(r: _Cells, layout: Layout) -> list[Text]:
    user = Text(r.user[0])
    for extra in r.user[1:]:
        user.append(f"\n{extra}", style="dim")
    if not layout.server_column:
        user.append(f"\non {r.server}", style="dim")
    status = _status(r.status)
    if r.accepted:
        status.append("\naccepted", style="dim")
    if not layout.stage_column:
        status.append(f"\nstage {r.stage}", style="dim")
    kb = Text(r.kb)
    if layout.kb_titles:
        if r.kb_title:
            kb.append(f" {r.kb_title}", style="dim")
        if r.unconfirmed:
            kb.append(f"\n({r.unconfirmed})" if kb.plain else f"({r.unconfirmed})")
    cells = [Text(r.server)] if layout.server_column else []
    cells += [user, status]
    if layout.stage_column:
        cells.append(Text(f"{r.stage} {r.stage_name}" if layout.stage_names else r.stage))
    cells += [kb, Text(f"{r.milestone}\n{r.time}")]
    if layout.tries:
        cells.append(Text(r.tries))
    return cells


# --- the details of each problem -----------------------------------------------------------------


def _details(console: Console, a: Activation, gate: Gate) -> None:
    last, d = a.last, a.last.diagnosis
    t = terminal  # every piece of data below; the "\n" the layout puts between them stays a line break
    head = Text(f"\n{t(who(a))} on {t(server_name(a))}: ", style="bold")
    head.append(_status(last.status))
    head.append(f" at stage {last.stage} ({t(last.stage_name)})")
    if last.missing_logs:
        head.append(f" ({t(unconfirmed_note(last))})")
    if gate.accepted(a):
        head.append(" (accepted by the baseline)")
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
        _item(console, f"{human_time(e.time)} {t(e.where)}{sep}{t(e.text)}", mark="!" if e.error else "-")
    for c in d.candidates:
        _item(console, f"also consider {t(c.kb)} ({t(c.title)}): {t(c.tell)}", style="dim")


def _outside(console: Console, report: Report, groups: Sequence[Unattached]) -> None:
    """Each chosen user's lines outside any activation, as the details of a problem are told:
    what they are, the article, the first and the last line."""
    from bes_logdiag.render.json import activation_names, unattached_dict
    from bes_logdiag.render.outside import headline, last_note, outside_of

    t = terminal
    acts = [activation_names(a) for a in report.activations]
    for o in outside_of([unattached_dict(u) for u in groups], acts):
        console.print(Text(f"\n{t(o.who)} on {t(o.server)}: {t(headline(o))}", style="bold"))
        if o.others:
            _item(console, f"names: {t(o.others)}")
        sep = "\n" if console.width < WIDE else "  "
        for p in o.parts:
            if p.kb:
                _item(console, f"{t(p.kb)}  {t(p.kb_title or '')}".rstrip())
            mark = "!" if p.error else "-"
            first = p.first
            _item(console, f"{human_time(first.time)} {t(first.where)}{sep}{t(first.text)}", mark=mark)
            if p.last is not None:
                _item(console, f"{human_time(p.last.time)} {t(p.last.where)} ({last_note(p)})", mark=mark)


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
