"""``bes-logdiag watch``: follow activations live while the BES writes its logs."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_CLEAN,
    EXIT_PROBLEMS,
    PATTERNS,
    QUIET,
    SERVER,
    STALL_AFTER,
    USERS,
    YEAR,
    NoteFolder,
    handle_errors,
    make_config,
    output_errors,
    output_stream,
    skipped_note,
    warn,
)  # fmt: skip

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from bes_logdiag.changes import Change
    from bes_logdiag.live import Tick, Watch
    from bes_logdiag.model import Activation
    from bes_logdiag.select import Selection
    from bes_logdiag.when import When

EXIT_TIMEOUT = 3
"""``--timeout``: nothing changed for that long."""


class WatchFormat(str, enum.Enum):
    """``watch --format``."""

    table = "table"
    lines = "lines"
    ndjson = "ndjson"


PATHS = typer.Argument(
    ...,
    metavar="PATH",
    help="Log folders (searched recursively, new files and folders included), files or glob patterns "
    "to follow; .gz files and .zip or tar archives are read once.",
)
DEFAULT_INTERVAL = "1s"
INTERVAL = typer.Option(
    DEFAULT_INTERVAL,
    "--interval",
    metavar="DURATION",
    help="How often the logs are looked at (e.g. 1s, 0.5s, 5s).",
)
TIMEOUT = typer.Option(
    None,
    "--timeout",
    metavar="DURATION",
    help="Exit with code 3 when nothing has changed for this long, from the start or from the last change.",
)
FOLLOW_TIMEOUT = typer.Option(
    None,
    "--timeout",
    metavar="DURATION",
    help="With --follow: exit with code 3 when no step has come for this long (from the start or the last step).",
)


@app.command()
def watch(
    paths: list[str] = PATHS,
    user: list[str] = typer.Option(
        [],
        "--user",
        "-u",
        metavar="USER",
        help="Follow only this user: address, user id or display name (repeatable).",
    ),
    server: list[str] = SERVER,
    since: Optional[str] = typer.Option(
        None,
        "--since",
        metavar="TIME",
        help="Read the logs from this time on, in their own time as scan reads it (09:00, 2h, "
        "05/14 09:00; default: the 24 hours before their newest line).",
    ),
    until_done: bool = typer.Option(
        False,
        "--until-done",
        help="With --user: exit 0 when the activation completes, 1 when it stalls or fails (with its KB).",
    ),
    timeout: Optional[str] = TIMEOUT,
    fmt: Optional[WatchFormat] = typer.Option(
        None,
        "--format",
        "-f",
        help="table: live, on a terminal; lines: one line per change; ndjson: one JSON object per change. "
        "Default: table on a terminal, ndjson when piped.",
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Append the changes to this file (ndjson, or --format lines).",
    ),
    interval: str = INTERVAL,
    silent_after: str = typer.Option(
        "5m",
        "--silent-after",
        metavar="DURATION",
        help="A server whose logs have not grown for this long is told as silent: stalls there wait for its logs.",
    ),
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    stall_after: list[str] = STALL_AFTER,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Follow activations live as the BES writes its logs.

    Reads the last 24 hours of the logs (or from --since), then follows them: lines appended,
    new iterations (_0002) and day folders, new servers' folders, files rotated, truncated or
    deleted.  On a terminal a table of the activations under way is kept up to date; piped (or
    with --format ndjson) each change is one JSON object: started, milestone, stalled, failed,
    completed, resumed, with the activation's fields as in scan's JSON.

    Exit code 0 when --until-done sees the activation complete, 1 when it stalls or fails, 2 on a
    usage error or when nothing can be read, 3 when --timeout passes with no change, 130 on Ctrl-C.

    Example: bes-logdiag watch Logs/ --user ian.dundas@example.net --until-done --timeout 30m
    """
    if "-" in paths:
        raise typer.BadParameter(
            "standard input cannot be followed: give files or folders (scan reads -)", param_hint="PATH"
        )
    if until_done and not user:
        raise typer.BadParameter("give --user to say whose activation to wait for", param_hint="--until-done")
    if output is not None and fmt is WatchFormat.table:
        raise typer.BadParameter(
            "a file gets lines or ndjson, the live table needs a terminal", param_hint="--format"
        )
    every = parse_seconds(interval, "--interval")
    limit = parse_seconds(timeout, "--timeout") if timeout is not None else None
    quiet_after = parse_seconds(silent_after, "--silent-after")
    with handle_errors(debug):
        from datetime import timedelta

        from bes_logdiag.live import Watch
        from bes_logdiag.select import Selection

        config = make_config(paths, users, year, patterns, stall_after, 0, output=output)
        w = Watch(
            config,
            since=parse_when(since, "--since"),
            interval=every,
            silent_after=timedelta(seconds=quiet_after),
        )
        selection = Selection(users=tuple(user), servers=tuple(server))
        tell = Teller(quiet)
        code = EXIT_CLEAN  # (a reader gone, `output_stream` ends the output quietly: nothing more to say)
        with _output(output) as out:
            code = _watch(w, selection, out, _mode(fmt, output), tell, until_done=until_done, timeout=limit)
        if code == EXIT_TIMEOUT:
            tell.say(f"nothing changed for {timeout}: stopping (exit code 3)")
    if code != EXIT_CLEAN:
        raise typer.Exit(code)


def parse_when(text: str | None, option: str) -> When | None:
    """A date or time from the command line, checked: the watch places it in the logs' time as
    ``scan`` does (`bes_logdiag.when.resolve`), what it leaves out taken from the logs."""
    if text is None:
        return None
    from bes_logdiag.when import parse_when as parse

    try:
        return parse(text, option)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=option) from e


def parse_seconds(text: str, option: str) -> float:
    """A duration option in seconds (``1s``, ``0.5s``, ``30m``; a bare number is minutes)."""
    from bes_logdiag.settings import parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=option) from e
    if seconds <= 0:
        raise typer.BadParameter(f"{text!r}: must be longer than zero", param_hint=option)
    return seconds


class Teller:
    """Warnings on stderr (none with --quiet): a file, a note or a silent server is told once."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._told: set[str] = set()
        self._silent: set[str | None] = set()
        self._notes = NoteFolder()

    def say(self, text: str) -> None:
        if not self.quiet:
            warn(text)

    def once(self, text: str) -> None:
        """Say ``text`` the first time only; a note of a kind that comes by the hundred only as
        far as `NoteFolder` says it."""
        if text not in self._told:
            self._told.add(text)
            line = self._notes.say(text)
            if line is not None:
                self.say(line)

    def tick(self, tick: Tick) -> None:
        for note in tick.notes:
            self.say(note)
        for s in tick.report.inputs.skipped:
            self.once(skipped_note(s))
        for note in tick.report.notes:
            self.once(note)
        from bes_logdiag.words import duration

        for server, (last, quiet) in tick.silent.items():
            if server not in self._silent:
                self.say(
                    f"{server or 'input with no server name'}: silent, no new log line for "
                    f"{duration(quiet, units=2)} (the newest at {last:%Y-%m-%d %H:%M:%S}); stalls there "
                    "wait for its logs"
                )
        for server in self._silent - set(tick.silent):
            self.say(f"{server or 'input with no server name'}: its logs grow again")
        self._silent = set(tick.silent)


def _mode(fmt: WatchFormat | None, output: Path | None) -> WatchFormat:
    """The table only on a terminal, never with NO_COLOR; a terminal without it gets lines."""
    from bes_logdiag.cli.progress import progress_wanted

    if output is not None:
        return fmt or WatchFormat.ndjson
    from bes_logdiag.render.safe import is_terminal

    live_ok = progress_wanted(False, sys.stdout)
    if fmt is None:
        if live_ok:
            return WatchFormat.table
        return WatchFormat.lines if is_terminal(sys.stdout) else WatchFormat.ndjson
    if fmt is WatchFormat.table and not live_ok:
        warn("--format table: a live table needs a terminal (and no NO_COLOR); one line per change instead")
        return WatchFormat.lines
    return fmt


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """stdout (a reader that goes away ends the watch quietly), or the -o file, appended to: a
    stream of changes is written as they come, never replaced whole as scan's report is."""
    if path is None:
        with output_stream(None) as out:
            yield out
        return
    from bes_logdiag.errors import UsageError

    try:
        with open(path, "a", encoding="utf-8", errors=output_errors(), newline="") as f:
            yield f
    except OSError as e:  # a full disk, a share gone
        raise UsageError(f"-o {path}: cannot write: {e.strerror or e}") from e


def _watch(
    w: Watch,
    selection: Selection,
    out: TextIO,
    mode: WatchFormat,
    tell: Teller,
    *,
    until_done: bool,
    timeout: float | None,
) -> int:
    """The loop: read, tell, show, until --until-done's verdict, --timeout or Ctrl-C."""
    from bes_logdiag.changes import ChangeKind
    from bes_logdiag.render.live import Board, LiveBoard, Recent, verdict_text, write_lines, write_ndjson
    from bes_logdiag.select import selected, user_matches

    tick = w.start()
    tell.tick(tick)
    for u in selection.users:
        if not any(user_matches(u, a) for a in tick.report.activations):
            tell.say(f"--user {u!r}: no activation of this user in the logs yet; waiting for one")
    recent = Recent()

    def mine(acts: Iterable[Activation]) -> list[Activation]:
        """The activations selected, in the window (which moves on with the logs)."""
        window = replace(selection, since=w.since)
        return [a for a in acts if selected(a, window)]

    def board(t: Tick) -> Board:
        return Board(
            mine(t.report.activations), t.ends, t.silent, t.now, recent, w.follower.following, w.since
        )

    def follow() -> tuple[Change | None, int]:
        nonlocal tick
        quiet_since = tick.now
        while True:
            tick = w.next()
            tell.tick(tick)
            changes = [c for c in tick.changes if mine([c.activation])]
            recent.saw(changes, tick.now)
            if display is not None:
                display.show(board(tick), force=bool(changes))
            elif mode is WatchFormat.lines:
                write_lines(changes, out)
            else:
                write_ndjson(changes, out)
            if changes:
                quiet_since = tick.now
            for c in changes if until_done else ():
                if c.kind is ChangeKind.COMPLETED:
                    return c, EXIT_CLEAN
                if c.kind in (ChangeKind.STALLED, ChangeKind.FAILED):
                    return c, EXIT_PROBLEMS
            if timeout is not None and tick.now - quiet_since >= timeout:
                return None, EXIT_TIMEOUT

    display: LiveBoard | None = None
    if mode is not WatchFormat.table:
        if mode is WatchFormat.lines:
            _under_way(tick, selection, w.since, out)
        return follow()[1]
    from bes_logdiag.render.safe import is_terminal

    display = LiveBoard(out, stderr_too=is_terminal(sys.stderr))
    with display:
        display.show(board(tick), force=True)
        verdict, code = follow()
        display.show(board(tick), force=True)
    if verdict is not None:
        display.console.print(verdict_text(verdict))
    return code


def _under_way(tick: Tick, selection: Selection, since: datetime | None, out: TextIO) -> None:
    """For --format lines: where each selected activation under way stands when the watch starts."""
    from bes_logdiag.model import Status
    from bes_logdiag.render.safe import terminal
    from bes_logdiag.render.text import server_name, who
    from bes_logdiag.select import selected
    from bes_logdiag.words import human_time

    window = replace(selection, since=since)
    for a in tick.report.activations:
        last = a.last
        if last.status is Status.IN_PROGRESS and selected(a, window):
            when = human_time(last.last_progress, ms=True)
            out.write(
                terminal(
                    f"{when} {server_name(a)} {who(a)}: under way at stage "
                    f"{last.stage} ({last.stage_name}), last {last.last_milestone or '-'}, next "
                    f"{last.diagnosis.next_expected or '-'}"
                )
                + "\n"
            )
    out.flush()
