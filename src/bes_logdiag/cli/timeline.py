"""``bes-logdiag timeline``: one user's activation, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    COLOR,
    DEBUG,
    EXIT_PROBLEMS,
    JOBS,
    OUTPUT,
    PATHS,
    PATTERNS,
    QUIET,
    STALL_AFTER,
    USERS,
    WIDTH,
    YEAR,
    Color,
    handle_errors,
    make_config,
    output_stream,
    run_report,
    screen_of,
    warn,
)  # fmt: skip
from bes_logdiag.cli.scan import MAX_EXPAND
from bes_logdiag.cli.watch import DEFAULT_INTERVAL, EXIT_TIMEOUT, FOLLOW_TIMEOUT, Teller, parse_seconds
from bes_logdiag.render import TimelineFormat

if TYPE_CHECKING:
    from bes_logdiag.live import Tick, Watch


@app.command()
def timeline(
    user: str = typer.Argument(
        ..., metavar="USER", help="The user: address, numeric user id or display name."
    ),
    paths: list[str] = PATHS,
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    stall_after: list[str] = STALL_AFTER,
    fmt: TimelineFormat = typer.Option(TimelineFormat.table, "--format", "-f", help="Output format."),
    output: Optional[Path] = OUTPUT,
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    follow: bool = typer.Option(
        False,
        "--follow",
        help="Keep following the logs: the user's new steps are printed as the BES writes them (Ctrl-C to stop).",
    ),
    interval: Optional[str] = typer.Option(
        None,
        "--interval",
        metavar="DURATION",
        help="With --follow: how often the logs are looked at (default 1s).",
    ),
    timeout: Optional[str] = FOLLOW_TIMEOUT,
    width: Optional[int] = WIDTH,
    color: Color = COLOR,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Every milestone and error line of one user's attempts, in order, with the time between steps.

    Each server the user activated on gets its own timeline; a gap is measured only between steps
    of the same attempt on the same server.

    Lines of the user outside any activation follow (a mailbox the service account cannot
    open: "no activation, but 14 mailbox_not_reachable errors (KB02276) from ... to ...").

    Exit code 0 when the user was found, 1 when no activation of theirs is in the logs.  With
    --follow the timeline grows as the logs do (--format json: one step per line) until Ctrl-C
    (exit code 130) or --timeout passes with no new step (3).

    A stalled activation's table ends with a row for the silence until the logs end.

    Example: bes-logdiag timeline ian.dundas@example.com sample_logs/
    """
    if not follow and (interval is not None or timeout is not None):
        raise typer.BadParameter("goes with --follow", param_hint="--interval" if interval else "--timeout")
    if follow and output is not None:
        raise typer.BadParameter(
            "--follow prints the steps as they come; -o is for a finished timeline", param_hint="-o"
        )
    every = parse_seconds(interval or DEFAULT_INTERVAL, "--interval")
    limit = parse_seconds(timeout, "--timeout") if timeout is not None else None
    screen = screen_of(width, color)
    with handle_errors(debug):
        from bes_logdiag.select import Selection, group_selected, near_users, user_matches
        from bes_logdiag.words import plural

        config = make_config(
            paths, users, year, patterns, stall_after, jobs, output=output, max_expand=max_expand
        )
        if follow:
            from bes_logdiag.live import Watch

            w = Watch(config, interval=every)
            code = 0  # (a reader gone, `output_stream` ends the output quietly)
            with output_stream(None) as out:
                code = _follow(user, w, fmt, out, Teller(quiet), timeout=limit)
            if code == EXIT_TIMEOUT:
                warn(f"no new step for {timeout}: stopping (exit code 3)")
            raise typer.Exit(code)
        report = run_report(config, quiet=quiet, bar=color is not Color.never)
        acts = [a for a in report.activations if user_matches(user, a)]
        only = Selection(users=(user,))
        outside = [u for u in report.unattached if group_selected(u, only)]
        if not acts and not outside:
            near = near_users(report, user)
            warn(
                f"no activation of {user!r} in these logs"
                + (f"; did you mean {' or '.join(near)}?" if near else "")
            )
            if fmt is not TimelineFormat.table:  # (JSON of no one is still JSON: jq reads it)
                from bes_logdiag.render.timeline import write_json

                with output_stream(output) as out:
                    write_json(user, [], out, outside=[])
            raise typer.Exit(EXIT_PROBLEMS)
        with output_stream(output) as out:
            if fmt is TimelineFormat.table:
                from bes_logdiag.render.timeline import write_table

                write_table(user, acts, out, log_end=report.log_end, screen=screen, outside=outside)
            else:
                from bes_logdiag.render.timeline import write_json

                write_json(user, acts, out, outside=outside)
        if not acts:
            lines = plural(sum(u.count for u in outside), "line")
            warn(f"no activation of {user!r} in these logs, only {lines} outside any activation (shown)")
            raise typer.Exit(EXIT_PROBLEMS)


def _follow(
    user: str, w: Watch, fmt: TimelineFormat, out: TextIO, tell: Teller, *, timeout: float | None
) -> int:
    """The timeline as it stands, then each new step as the logs grow; a change of verdict on a
    line of its own.  Returns the exit code: 3 when --timeout passed with no new step."""
    from rich.text import Text

    from bes_logdiag.changes import ChangeKind
    from bes_logdiag.render.json import dumps
    from bes_logdiag.render.live import change_line, step_line
    from bes_logdiag.render.table import console_for
    from bes_logdiag.render.text import STATUS_STYLE
    from bes_logdiag.render.timeline import steps, write_table
    from bes_logdiag.select import user_matches
    from bes_logdiag.words import split_path

    console = console_for(out)
    printed: set[tuple[object, ...]] = set()

    def key(s: dict[str, object]) -> tuple[object, ...]:
        return (s["server"], s["file"], s["line"], s["pattern"])

    def show(t: Tick) -> bool:
        """Print the user's steps not printed yet; a new activation's as a whole timeline."""
        acts = [a for a in t.report.activations if user_matches(user, a)]
        rows = [s for s in steps(acts) if key(s) not in printed]
        if fmt is TimelineFormat.json:
            out.write("".join(dumps(s) + "\n" for s in rows))
        else:
            for act in acts:
                mine = steps([act])
                if not any(key(s) in printed for s in mine):
                    write_table(user, [act], out)
                    printed.update(key(s) for s in mine)
            for s in rows:
                if key(s) not in printed:
                    # (one line each, however long: the terminal wraps it, a pipe keeps it whole)
                    console.print(step_line(s, split_path(str(s["file"]))[1]), soft_wrap=True)
        printed.update(key(s) for s in rows)
        out.flush()
        return bool(rows)

    tick = w.start()
    tell.tick(tick)
    if not show(tick):
        tell.say(f"no activation of {user!r} in these logs yet; waiting for one")
    quiet_since = tick.now
    while True:
        tick = w.next()
        tell.tick(tick)
        grew = show(tick)
        verdicts = [
            c
            for c in tick.changes
            if user_matches(user, c.activation) and c.kind not in (ChangeKind.STARTED, ChangeKind.MILESTONE)
        ]
        if fmt is TimelineFormat.table:
            for c in verdicts:
                status = c.activation.attempts[c.attempt - 1].status
                console.print(Text(change_line(c), style=STATUS_STYLE[status]), soft_wrap=True)
        if grew or verdicts:
            quiet_since = tick.now
        elif timeout is not None and tick.now - quiet_since >= timeout:
            return EXIT_TIMEOUT
