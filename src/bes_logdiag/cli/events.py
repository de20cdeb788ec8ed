"""``bes-logdiag events``: every matched line as a record."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_NO_MATCH,
    JOBS,
    OUTPUT,
    PATHS,
    PATTERNS,
    QUIET,
    RAW,
    SERVER,
    SINCE,
    UNTIL,
    USERS,
    YEAR,
    handle_errors,
    make_config,
    output_stream,
    parse_times,
    place_times,
    run_report,
    tell_unmatched,
    with_notes,
)  # fmt: skip
from bes_logdiag.cli.scan import MAX_EXPAND
from bes_logdiag.render import EventFormat, writer_for


@app.command()
def events(
    paths: list[str] = PATHS,
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    fmt: EventFormat = typer.Option(EventFormat.ndjson, "--format", "-f", help="Output format."),
    output: Optional[Path] = OUTPUT,
    user: list[str] = typer.Option(
        [],
        "--user",
        "-u",
        metavar="USER",
        help="Only this user's lines: address, user id or display name (repeatable).",
    ),
    server: list[str] = SERVER,
    since: Optional[str] = SINCE,
    until: Optional[str] = UNTIL,
    raw: bool = RAW,
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Every line a pattern matched: time, server, service, file, line, pattern id, milestone,
    stage and the (joined) identities, in time order.

    --user keeps the lines of the user's activations and those that name them outside any;
    --since and --until go by each line's own time.  Exit code 0, or 4 when a --user or
    --server names no one in the logs (2 on a usage error or unreadable input).

    Example: bes-logdiag events Logs/ --user ian.dundas@example.com --since 2h | jq .milestone
    """
    if raw and fmt is not EventFormat.csv:
        raise typer.BadParameter("applies to --format csv only", param_hint="--raw")
    when = parse_times(since, until)
    with handle_errors(debug):
        from bes_logdiag.select import Selection, select_lines

        config = make_config(paths, users, year, patterns, [], jobs, output=output, max_expand=max_expand)
        everything = run_report(config, quiet=quiet, unattached_lines=True)
        start, end, notes = place_times(everything, *when)
        selection = Selection(tuple(user), tuple(server), start, end)
        nobody = tell_unmatched(everything, selection, quiet=quiet)
        report = with_notes(select_lines(everything, selection), notes, quiet=quiet)
        with output_stream(output) as out:
            if raw:  # (only with --format csv: checked first)
                from bes_logdiag.render.events import write_csv as write_raw

                write_raw(report, out, raw=True)
            else:
                writer_for(fmt)(report, out)
    if nobody:
        raise typer.Exit(EXIT_NO_MATCH)
