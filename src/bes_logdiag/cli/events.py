"""``bes-logdiag events``: every matched line as a record."""

from __future__ import annotations

from dataclasses import replace
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
    RAW,
    USERS,
    YEAR,
    handle_errors,
    make_config,
    output_stream,
    run_report,
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
    raw: bool = RAW,
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    quiet: bool = QUIET,
    debug: bool = DEBUG,
) -> None:
    """Every line a pattern matched: time, server, service, file, line, pattern id, milestone,
    stage and the (joined) identities, in time order.

    Example: bes-logdiag events Logs/ | jq 'select(.milestone == "slowsync_started")'
    """
    if raw and fmt is not EventFormat.csv:
        raise typer.BadParameter("applies to --format csv only", param_hint="--raw")
    with handle_errors(debug):
        config = make_config(paths, users, year, patterns, [], jobs, output=output)
        config = replace(config, max_expand=max_expand)
        report = run_report(config, quiet=quiet, unattached_lines=True)
        with output_stream(output) as out:
            if raw:  # (only with --format csv: checked first)
                from bes_logdiag.render.events import write_csv as write_raw

                write_raw(report, out, raw=True)
            else:
                writer_for(fmt)(report, out)
