"""Output of ``bes-logdiag timeline``: one user's milestones and errors in order, with the gaps.

A user may have activated on several servers: each server's activation is its own timeline (a
heading naming the server, then its table), and a gap is only measured between two steps of the
same attempt on the same server.

A stalled activation's table ends with a row for the silence that made it a stall: the end of the
server's logs, the time since the last step, and the stage's threshold, so that a timeline that
stops at its last milestone does not read as one that was cut short.

The user's lines outside any activation (a mailbox the service account cannot open, for a user
who never activated) follow, one heading per server saying what they are (`render.outside`), and
a table of the first and last line of each kind.

Names, servers, file names and log lines reach rich as ``Text`` through `terminal`: shown, never
interpreted as escape sequences or rich markup (STYLE.md point 15).  The json format keeps them as
they came.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bes_logdiag.model import Activation, Status, Unattached
from bes_logdiag.render.json import (
    activation_dict,
    activation_names,
    event_dict,
    unattached_dict,
    unattached_items,
    write_document,
)
from bes_logdiag.render.outside import Outside, headline, outside_of
from bes_logdiag.render.safe import terminal, terminal_text
from bes_logdiag.render.table import Screen, console_for
from bes_logdiag.render.text import STATUS_STYLE, server_name, unconfirmed_note
from bes_logdiag.words import duration, human_time, plural, split_path

# The log line's column must keep at least this many characters beside the others, or the table
# puts the file:line and the line under the step's name instead (narrow terminals, long paths).
_MIN_TEXT = 30


def steps(acts: Sequence[Activation]) -> list[dict[str, Any]]:
    """Every milestone and error of every attempt, in time order.

    ``activation`` is the index of the step's activation in ``acts``; ``since_previous_seconds`` is
    the time since the step before in the same attempt of the same activation (``None`` for the
    first step of an attempt): never across servers or attempts.
    """
    rows = []
    for i, act in enumerate(acts):
        for n, attempt in enumerate(act.attempts, 1):
            prev: datetime | None = None
            for e in sorted(attempt.events, key=attrgetter("order")):
                # measured in moments: the night a clock steps back shows no negative gap
                gap = (e.moment - prev).total_seconds() if prev is not None else None
                prev = e.moment
                rows.append((e.moment, e.file, e.line, i, act, n, e, gap))
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return [
        {"server": act.server, "activation": i, "attempt": n, **event_dict(e), "since_previous_seconds": gap}
        for _, _, _, i, act, n, e, gap in rows
    ]


def write_json(
    query: str, acts: Sequence[Activation], out: TextIO, *, outside: Sequence[Unattached] = ()
) -> None:
    """``{"user", "activations", "milestones", "unattached"}``: ``unattached`` the user's groups
    of lines outside any activation (``outside``), as scan's JSON lists them."""
    doc = {
        "user": query,
        "activations": [activation_dict(a) for a in acts],
        "milestones": steps(acts),
        "unattached": unattached_items(outside),
    }
    write_document(doc, out)


def _gap(seconds: float | None) -> str:
    """``+1m38s``: the time since the step before, in two units (none for an attempt's first)."""
    if seconds is None:
        return ""
    return "+" + duration(timedelta(seconds=seconds), units=2, clock=True)


def _time(t: datetime) -> str:
    """Every time of the timeline: `human_time` with milliseconds, which order steps of one second."""
    return human_time(t, ms=True)


def _step_name(s: dict[str, Any]) -> Text:
    if "error" in s:
        return Text(f"ERROR {terminal(s['error'])} ({terminal(str(s['kb']))})", style="red")
    return terminal_text(s.get("milestone") or "")


def _all_names(email: str | None, display_name: str | None, user_id: str | None) -> str:
    """Every name of the user, ``-`` for one not known (the query may have been any of them)."""
    t = terminal
    return f"{t(email or '-')} · {t(display_name or '-')} · UserId={t(user_id or '-')}"


def _heading(act: Activation) -> Text:
    """Every name of the user, the server, then the verdict."""
    last, t = act.last, terminal
    who = _all_names(act.email, act.display_name, act.user_id)
    head = Text(f"{who} on server {t(server_name(act))}", style="bold")
    head.append(": ")
    head.append(last.status.value, style=STATUS_STYLE[last.status])
    head.append(f", stage {last.stage} ({t(last.stage_name)})")
    if last.diagnosis.kb:
        head.append(f", {t(last.diagnosis.kb)} {t(str(last.diagnosis.kb_title))}")
    head.append(f"; {plural(len(act.attempts), 'attempt')}")
    return head


def _wheres(rows: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """How each file is named in the rows, and the folders to name once above the table, both as
    shown on a terminal (`terminal`).

    BES file names carry server, service, date and restart number, so the name alone finds the
    file once its folder is known; a name found in two folders keeps its full path."""
    folders: dict[str, set[str]] = {}
    for r in rows:
        folder, name = split_path(r["file"])
        folders.setdefault(name, set()).add(folder)
    short = {r["file"]: split_path(r["file"])[1] for r in rows if len(folders[split_path(r["file"])[1]]) == 1}
    names = {r["file"]: terminal(short.get(r["file"], r["file"])) for r in rows}
    shown = sorted({split_path(f)[0] for f in short} - {""})
    return names, [terminal(f) for f in shown]


def _fits_wide(rows: list[dict[str, Any]], names: dict[str, str], width: int) -> bool:
    """Whether one line per step fits: time, gap, try, stage, step, file:line unbroken, and the log
    line with at least ``_MIN_TEXT`` characters.  A table of 7 columns adds 22 characters."""
    gap = max([3] + [len(_gap(r["since_previous_seconds"])) for r in rows])
    step = max([4] + [len(w) for r in rows for w in _step_name(r).plain.split()])
    where = max([5] + [len(f"{names[r['file']]}:{r['line']}") for r in rows])
    return len(_time(datetime(2000, 1, 1))) + gap + 3 + 5 + step + where + _MIN_TEXT + 22 <= width


def closing_step(
    act: Activation, log_end: Mapping[str | None, datetime] | None
) -> tuple[datetime, float, str] | None:
    """For a stalled activation: when its server's logs end, the seconds since its last step
    (measured in moments, as the verdict is: a clock set back in between takes nothing off), and
    what the silence until then means (``nothing until the logs end, stage 1 threshold 15m``);
    None for any other verdict, or when the end of the logs is not known."""
    last = act.last
    end = (log_end or {}).get(act.server)
    if last.status is not Status.STALLED or end is None:
        return None
    text = f"nothing until the logs end, stage {last.stage} threshold {duration(last.stall_after)}"
    if last.missing_logs:
        text += f" ({unconfirmed_note(last)})"
    return end, (end - max(e.moment for e in last.events)).total_seconds(), text


def _table(
    rows: list[dict[str, Any]],
    names: dict[str, str],
    wide: bool,
    closing: tuple[datetime, float, str] | None = None,
) -> Table:
    """One line per step when ``wide``; else the step, its file:line and the log line share a cell
    under each other, so time and file:line stay whole on a narrow terminal."""
    table = Table(header_style="bold", show_lines=not wide)
    table.add_column("Time", no_wrap=True)
    table.add_column("Gap", no_wrap=True, justify="right")
    if wide:
        table.add_column("Try", no_wrap=True, justify="right")
        table.add_column("Stage", no_wrap=True, justify="right")
        table.add_column("Step", overflow="fold")
        table.add_column("Where", no_wrap=True)
        table.add_column("Line", overflow="fold")
    else:
        table.add_column("Step · try, stage · where · line", overflow="fold")
    attempt = None
    for s in rows:
        if wide and attempt is not None and s["attempt"] != attempt:
            table.add_section()
        attempt = s["attempt"]
        when = _time(datetime.fromisoformat(s["time"]))
        gap = _gap(s["since_previous_seconds"])
        where = f"{names[s['file']]}:{s['line']}"
        stage = str(s["stage"] or "")
        text = terminal(s["text"])
        if wide:
            row = (when, gap, str(s["attempt"]), stage)
            table.add_row(*map(Text, row), _step_name(s), Text(where), Text(text))
        else:
            cell = _step_name(s)
            cell.append(f"  try {s['attempt']}, stage {stage or '-'}", style="dim")
            cell.append(f"\n{where}", style="dim")
            cell.append(f"\n{text}")
            table.add_row(Text(when), Text(gap), cell)
    if closing is not None and rows:
        end, silence, what = closing
        cells = [Text(_time(end)), Text(_gap(silence))]
        style = STATUS_STYLE[Status.STALLED]
        if wide:  # the step's column stays narrow: the words go where log lines go
            table.add_row(
                *cells,
                Text(""),
                Text(""),
                Text("no progress", style=style),
                Text(""),
                Text(what, style=style),
            )
        else:
            table.add_row(*cells, Text(what, style=style))
    return table


def _outside_table(o: Outside) -> tuple[Table, list[str]]:
    """The first and the last line of each kind of the user's lines outside any activation on
    one server, and the folders of their files (named once above it, as `_wheres` does)."""
    lines = [(p, line, n) for p in o.parts for n, line in enumerate((p.first, p.last)) if line is not None]
    names, folders = _wheres([{"file": line.file} for _, line, _ in lines])
    table = Table(header_style="bold")
    table.add_column("Time", no_wrap=True)
    table.add_column("Step", overflow="fold")
    table.add_column("Where", no_wrap=True)
    table.add_column("Line", overflow="fold")
    for p, line, n in lines:
        step = (
            Text(f"ERROR {terminal(p.step)} ({terminal(str(p.kb))})", style="red")
            if p.error
            else terminal_text(p.step)
        )
        if p.last is not None:
            step.append(f"\n{'first' if n == 0 else 'last'} of {p.count:,}", style="dim")
        where = f"{names[line.file]}:{line.line}"
        table.add_row(Text(_time(line.time)), step, Text(where), Text(terminal(line.text)))
    return table, folders


def write_table(
    query: str,
    acts: Sequence[Activation],
    out: TextIO,
    *,
    log_end: Mapping[str | None, datetime] | None = None,
    screen: Screen | None = None,
    outside: Sequence[Unattached] = (),
) -> None:
    """Each activation's heading and table; ``log_end`` (the report's, per server) adds the
    closing row of a stalled one (`closing_step`); ``outside``, the user's groups of lines
    outside any activation, follows."""
    console: Console = console_for(out, screen)
    everything = steps(acts)
    for i, act in enumerate(acts):
        rows = [s for s in everything if s["activation"] == i]
        if i:
            console.print()
        names, folders = _wheres(rows)
        console.print(_heading(act))
        if folders:
            console.print(Text(f"files in {', '.join(folders)}", style="dim"))  # shown by _wheres
        wide = _fits_wide(rows, names, console.width)
        console.print(_table(rows, names, wide, closing_step(act, log_end)))
    for n, o in enumerate(
        outside_of([unattached_dict(u) for u in outside], [activation_names(a) for a in acts])
    ):
        if acts or n:
            console.print()
        head = Text(
            f"{_all_names(o.email, o.display_name, o.user_id)} on server {terminal(o.server)}", style="bold"
        )
        head.append(f": {terminal(headline(o, ms=True))}")
        console.print(head)
        table, folders = _outside_table(o)
        if folders:
            console.print(Text(f"files in {', '.join(folders)}", style="dim"))
        console.print(table)
