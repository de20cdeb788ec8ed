"""``bes-logdiag timeline``: one user's activation, step by step."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_PROBLEMS,
    JOBS,
    OUTPUT,
    PATHS,
    PATTERNS,
    QUIET,
    STALL_AFTER,
    USERS,
    YEAR,
    handle_errors,
    make_config,
    output_stream,
    run_report,
    warn,
)  # fmt: skip
from bes_logdiag.cli.scan import MAX_EXPAND
from bes_logdiag.render import TimelineFormat, writer_for


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
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Every milestone and error line of one user's attempts, in order, with the time between steps.

    Each server the user activated on gets its own timeline; a gap is measured only between steps
    of the same attempt on the same server.

    Exit code 0 when the user was found, 1 when no activation of theirs is in the logs.

    Example: bes-logdiag timeline ian.dundas@example.net Logs/ --format json
    """
    with handle_errors(debug):
        from bes_logdiag.select import user_matches

        config = make_config(paths, users, year, patterns, stall_after, jobs, output=output)
        config = replace(config, max_expand=max_expand)
        report = run_report(config, quiet=quiet)
        acts = [a for a in report.activations if user_matches(user, a)]
        if not acts:
            warn(f"no activation of {user!r} in these logs")
            raise typer.Exit(EXIT_PROBLEMS)
        with output_stream(output) as out:
            writer_for(fmt)(user, acts, out)
