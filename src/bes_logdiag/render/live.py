"""Output of ``bes-logdiag watch``: the live table on a terminal, one line or one JSON object per change
elsewhere, and the growing timeline of ``timeline --follow``.

The JSON object of a change carries the activation's fields exactly as ``scan``'s JSON does
(`render.json.activation_dict`), plus ``change``, ``attempt`` and the ``event`` that made it.
Everything for people goes through `render.safe` (STYLE.md point 15): names, servers, file names
and log lines are shown, never interpreted as escape sequences or rich markup.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bes_logdiag.changes import Change, ChangeKind, names_of
from bes_logdiag.model import Activation, Status
from bes_logdiag.render.json import activation_dict, dumps, event_dict
from bes_logdiag.render.safe import terminal, terminal_text
from bes_logdiag.render.text import STATUS_STYLE, kb_label, other_names, server_name, unconfirmed_note, who
from bes_logdiag.words import duration, human_time, plural

WIDE = 140
"""From this many columns the table has a column for the server and one for the next milestone."""
NAMED_STAGES = 180
"""From this many columns the stage is named, not only numbered."""
_GAP = 2
"""Spaces between two columns of the table."""
KEEP = 600.0
"""Seconds an activation that changed stays in the table once it is no longer under way."""
RECENT = timedelta(hours=1)
"""A stall or failure this close to its server's newest line is shown when the watch starts."""
_MIN_WHY = 20
"""Columns the KB and why need, at least, to have a column of their own."""
FPS = 4.0
"""Redraws of the table a second, at most."""

CHANGE_STYLE = {
    ChangeKind.STARTED: "cyan",
    ChangeKind.MILESTONE: "",
    ChangeKind.RESUMED: "cyan",
    ChangeKind.COMPLETED: "green",
    ChangeKind.STALLED: "yellow",
    ChangeKind.FAILED: "bold red",
}


# -- one change: a JSON object, a line --------------------------------------------------------------


def change_dict(c: Change) -> dict[str, Any]:
    """``{"change": "milestone", <the activation as scan's JSON has it>, "attempt": 1, "event": {...}}``."""
    return {
        "change": c.kind.value,
        **activation_dict(c.activation),
        "attempt": c.attempt,
        "event": event_dict(c.event) if c.event is not None else None,
    }


def write_ndjson(changes: Iterable[Change], out: TextIO) -> None:
    """One JSON object per line (`render.json.dumps` escapes a newline, and what a terminal would
    obey, inside a value), flushed at once:
    a hook reading the stream sees each change as it is told."""
    _write_now((dumps(change_dict(c)) for c in changes), out)


def _write_now(lines: Iterable[str], out: TextIO) -> None:
    """Write the lines, if any, at once and flush them."""
    text = "".join(line + "\n" for line in lines)
    if text:
        out.write(text)
        out.flush()


def _names(a: Activation) -> str:
    others = other_names(a)
    return f"{who(a)} ({others})" if others else who(a)


def change_line(c: Change) -> str:
    """``2024-03-11 09:00:02.000 BES_EU_01 ian.dundas@example.eu (Dundas, Ian · 1002): milestone
    key_generated (stage 2)`` on one line, shown safe for a terminal."""
    a = c.activation
    attempt = a.attempts[c.attempt - 1]
    when = c.time
    head = f"{human_time(when, ms=True)} {server_name(a)} {_names(a)}: {c.kind.value}"
    if c.kind in (ChangeKind.STALLED, ChangeKind.FAILED):
        d = attempt.diagnosis
        kb = f" {kb_label(attempt)} {d.kb_title}" if d.kb else ""
        note = f" ({unconfirmed_note(attempt)})" if attempt.missing_logs else ""
        text = f"{head} at stage {attempt.stage} ({attempt.stage_name}){kb}{note}; why: {d.reason}"
    else:
        e = c.event
        step = (e.milestone or e.error or e.pattern_id) if e is not None else ""
        again = f", attempt {c.attempt}" if c.kind is ChangeKind.STARTED and c.attempt > 1 else ""
        stage = f" (stage {e.stage}{again})" if e is not None and e.stage else ""
        text = f"{head} {step}{stage}".rstrip()
    return terminal(text)


def write_lines(changes: Iterable[Change], out: TextIO) -> None:
    _write_now((change_line(c) for c in changes), out)


def verdict_text(c: Change) -> Text:
    """The verdict ``--until-done`` ends on, under the live table: status, KB and why."""
    a = c.activation
    attempt = a.attempts[c.attempt - 1]
    d = attempt.diagnosis
    t = terminal
    line = Text(f"{t(who(a))} on {t(server_name(a))}: ", style="bold")
    line.append(attempt.status.value, style=STATUS_STYLE[attempt.status])
    line.append(f" at stage {attempt.stage} ({t(attempt.stage_name)})")
    if d.kb:
        line.append(f"\n  {t(kb_label(attempt))}  {t(str(d.kb_title))}")
    line.append(f"\n  why: {t(d.reason)}")
    if d.next_expected and attempt.status is not Status.COMPLETE:
        line.append(f"\n  expected next: {t(d.next_expected)}")
    return line


# -- the live table ----------------------------------------------------------------------------------


@dataclass
class Recent:
    """When each activation last changed during the watch (wall seconds), found by any of its names."""

    _at: dict[tuple[str | None, str, str], float] = field(default_factory=dict)

    def saw(self, changes: Iterable[Change], now: float) -> None:
        for c in changes:
            for k in names_of(c.activation):
                self._at[k] = now

    def changed_at(self, a: Activation) -> float | None:
        times = [self._at[k] for k in names_of(a) if k in self._at]
        return max(times) if times else None


@dataclass(frozen=True)
class Board:
    """What the live table shows."""

    activations: Sequence[Activation]
    """The activations selected (``--user``, ``--server``, the window)."""
    ends: Mapping[str | None, datetime]
    """Per server, the time it is there (`live.LiveScan.ends`)."""
    silent: Mapping[str | None, tuple[datetime, timedelta]]
    now: float
    recent: Recent
    files: int
    """Files followed."""
    since: datetime | None = None


def _visible(a: Activation, b: Board) -> bool:
    status = a.last.status
    if status is Status.IN_PROGRESS:
        return True
    changed = b.recent.changed_at(a)
    if changed is not None and b.now - changed <= KEEP:
        return True
    end = b.ends.get(a.server)
    return (
        status in (Status.STALLED, Status.FAILED) and end is not None and end - a.last.last_progress <= RECENT
    )


_ORDER = {Status.FAILED: 0, Status.STALLED: 1, Status.IN_PROGRESS: 2, Status.COMPLETE: 3}


def board_view(b: Board, width: int) -> RenderableType:
    """The header, the table of activations under way or changed lately, the summary of the others."""
    shown: list[Activation] = []
    rest: list[Activation] = []
    for a in b.activations:
        (shown if _visible(a, b) else rest).append(a)
    shown.sort(key=lambda a: (_ORDER[a.last.status], -a.last.last_progress.timestamp()))
    parts: list[RenderableType] = [_header(b, shown)]
    for server, (last, quiet) in sorted(b.silent.items(), key=lambda kv: kv[0] or ""):
        parts.append(
            Text(
                f"{terminal(server or 'input with no server name')}: silent, no new line for "
                f"{duration(quiet, units=2)} (the newest at {human_time(last)}); stalls there "
                "wait for its logs",
                style="yellow",
            )
        )
    if shown:
        parts.append(_table(shown, b, width))
    else:
        parts.append(Text("no activation under way; waiting for the logs to show one", style="dim"))
    if rest:
        counts = {s: sum(1 for a in rest if a.last.status is s) for s in Status}
        said = ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items() if n)
        parts.append(Text(f"earlier in the window: {said}", style="dim"))
    parts.append(Text("Ctrl-C to stop", style="dim"))
    return Group(*parts)


def _header(b: Board, shown: Sequence[Activation]) -> Text:
    under_way = sum(1 for a in b.activations if a.last.status is Status.IN_PROGRESS)
    servers = len({a.server for a in b.activations} | set(b.ends))
    head = Text("bes-logdiag watch", style="bold")
    head.append(f" · {plural(b.files, 'file')} followed on {plural(servers, 'server')}")
    if b.since is not None:
        head.append(f" · since {human_time(b.since)}")
    head.append(f" · {under_way} under way")
    problems = sum(1 for a in shown if a.last.status in (Status.STALLED, Status.FAILED))
    if problems:
        head.append(f" · {problems} stalled or failed", style="yellow")
    return head


def _table(acts: Sequence[Activation], b: Board, width: int) -> Table:
    """One row per activation.  On a terminal narrower than `WIDE` the server goes under the
    user, the stage (its number) under the status and the next milestone under the last.  The KB
    and why are cut to the width left (one line each): the table never wraps them into the other
    columns."""
    wide = width >= WIDE
    named = width >= NAMED_STAGES
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, _GAP, 0, 0))
    table.add_column("User", overflow="fold", min_width=min(30, max(len(terminal(who(a))) for a in acts)))
    names = ("Server", "Status", "Stage", "Last milestone", "Next") if wide else ("Status", "Last milestone")
    for name in names:
        table.add_column(name, no_wrap=True)
    table.add_column("Left", no_wrap=True, justify="right")
    budget = width - _others_width(acts, wide, named)
    # Too narrow for a line of why: the KB goes under the status.
    why = budget >= _MIN_WHY
    if why:
        table.add_column("KB · why", no_wrap=True, overflow="ellipsis")
    for a in acts:
        last = a.last
        end = b.ends.get(a.server, last.last_progress)
        user = terminal_text(who(a))
        others = other_names(a)
        if others:
            user.append(f"\n{terminal(others)}", style="dim")
        status = Text(last.status.value, style=STATUS_STYLE[last.status])
        milestone = terminal_text(last.last_milestone or "-")
        milestone.append(f"\n{duration(end - last.last_progress, units=2)} ago", style="dim")
        following = terminal(last.diagnosis.next_expected or "-")
        row: list[RenderableType] = [user]
        if wide:
            stage = terminal_text(f"{last.stage} {last.stage_name}" if named else str(last.stage))
            row += [terminal_text(server_name(a)), status, stage, milestone, Text(following)]
        else:
            user.append(f"\non {terminal(server_name(a))}", style="dim")
            status.append(f"\nstage {last.stage}", style="")
            if last.diagnosis.next_expected:
                milestone.append(f"\nnext {following}", style="dim")
            row += [status, milestone]
        if not why and last.diagnosis.kb:  # (no room for its column, wide or narrow: under the status)
            status.append(f"\n{terminal(kb_label(last))}", style=STATUS_STYLE[last.status])
        row.append(_left(a, end))
        if why:
            row.append(_why(a, end, budget))
        table.add_row(*row)
    return table


def _others_width(acts: Sequence[Activation], wide: bool, named: bool) -> int:
    """The width the columns before the KB and why take, with their padding and rules."""

    def longest(texts: Iterable[str], least: int) -> int:
        return max([least, *(len(terminal(t)) for t in texts)])

    users = [who(a) for a in acts] + [other_names(a) for a in acts]
    milestones = [a.last.last_milestone or "-" for a in acts]
    following = [a.last.diagnosis.next_expected or "-" for a in acts]
    columns = [min(longest(users, 4), 30), len("in_progress"), 6]
    if wide:
        columns += [
            longest([server_name(a) for a in acts], len("Server")),
            longest([f"{a.last.stage} {a.last.stage_name}" for a in acts] if named else [], len("Stage")),
            longest(milestones, len("Last milestone")),
            longest(following, len("Next")),
        ]
    else:
        columns.append(longest(milestones + [f"next {n}" for n in following], len("Last milestone")))
    return sum(w + _GAP + 1 for w in columns) + 2  # (a rule of spaces between columns, and the edges)


def _left(a: Activation, end: datetime) -> Text:
    """The time before the stage's stall threshold passes, for an activation under way."""
    last = a.last
    if last.status is not Status.IN_PROGRESS:
        return Text("")
    left = last.last_progress + last.stall_after - end
    if left <= timedelta(0):
        return Text("due", style="yellow")
    return Text(duration(left, units=2))


def _why(a: Activation, end: datetime, budget: int) -> Text:
    """For a stall or failure its KB (and title) and the why, each on one line cut to `budget`."""
    last = a.last
    d = last.diagnosis
    if last.status is Status.COMPLETE:
        done = last.completed or last.last_progress
        return Text(f"done {duration(end - done, units=2)} ago", style="dim")
    if last.status is Status.IN_PROGRESS:
        return Text("")
    kb = Text(terminal(kb_label(last)), style=STATUS_STYLE[last.status])
    if d.kb_title:
        kb.append(f" {terminal(d.kb_title)}")
    if last.missing_logs:
        kb.append(f" ({terminal(unconfirmed_note(last))})", style="dim")
    why = Text(terminal(d.reason), style="dim")
    for line in (kb, why):
        line.truncate(budget, overflow="ellipsis")
    return Text("\n").join((kb, why))


class LiveBoard:
    """The live table on a terminal (rich's ``Live``): drawn in place, at most `FPS` times a
    second, cut to the terminal's height rather than scrolled; the cursor comes back on exit,
    Ctrl-C included."""

    def __init__(self, out: TextIO, *, stderr_too: bool = False) -> None:
        self.console = Console(file=out, highlight=False)
        # Lines written to stderr while the table is up would be drawn over: when stderr is the
        # same terminal, rich prints them above the table instead.
        self._live = Live(
            console=self.console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=stderr_too,
            vertical_overflow="ellipsis",
        )
        self._drawn = 0.0

    def __enter__(self) -> LiveBoard:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def show(self, b: Board, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 1 / FPS:
            return
        self._drawn = now
        self._live.update(board_view(b, self.console.width), refresh=True)


# -- timeline --follow --------------------------------------------------------------------------------


def step_line(s: Mapping[str, Any], file_name: str) -> Text:
    """One step of a growing timeline on a line: time, gap, try, stage, step, file:line, the log line."""
    when = datetime.fromisoformat(s["time"])
    gap = s["since_previous_seconds"]
    line = Text(human_time(when, ms=True))
    since = "+" + duration(timedelta(seconds=gap), units=2, clock=True) if gap is not None else ""
    line.append(f" {since:>8}")
    line.append(f"  try {s['attempt']}  stage {s['stage'] or '-'}  ")
    if "error" in s:
        line.append(f"ERROR {terminal(s['error'])} ({terminal(str(s['kb']))})", style="red")
    else:
        line.append(terminal(s.get("milestone") or ""), style="bold")
    line.append(f"  {terminal(file_name)}:{s['line']}  ", style="dim")
    line.append(terminal(s["text"]))
    return line
