"""``bes-logdiag events``: every matched line as a record."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    JOBS,
    OUTPUT,
    PATHS,
    PATTERNS,
    QUIET,
    USERS,
    YEAR,
    handle_errors,
    make_config,
    output_stream,
    run_report,
)  # fmt: skip
from bes_logdiag.render import EventFormat, writer_for


@app.command()
def events(
    paths: list[str] = PATHS,
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    fmt: EventFormat = typer.Option(EventFormat.ndjson, "--format", "-f", help="Output format."),
    output: Optional[Path] = OUTPUT,
    jobs: int = JOBS,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Every line a pattern matched: time, server, service, file, line, pattern id, milestone,
    stage and the (joined) identities, in time order.

    Example: bes-logdiag events Logs/ | jq 'select(.milestone == "slowsync_started")'
    """
    with handle_errors(debug):
        config = make_config(paths, users, year, patterns, [], jobs)
        report = run_report(config, quiet=quiet, unattached_lines=True)
        with output_stream(output) as out:
            writer_for(fmt)(report, out)
