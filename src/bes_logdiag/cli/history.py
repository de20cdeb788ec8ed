"""``bes-logdiag history``: the trend in a history file that ``scan --history`` keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_NO_MATCH,
    OUTPUT,
    RAW,
    SERVER,
    check_output,
    handle_errors,
    output_stream,
    warn,
)
from bes_logdiag.history.choices import HistoryFormat, Period


@app.command()
def history(
    file: Path = typer.Argument(..., metavar="FILE", help="The history file that scan --history writes."),
    since: Optional[str] = typer.Option(
        None,
        "--since",
        metavar="WHEN",
        help="Only attempts started in the last 30d, 12w or 6h (counted back from the newest "
        "attempt in the file), or since a date such as 2024-03-01.",
    ),
    server: list[str] = SERVER,
    per: Period = typer.Option(Period.day, "--per", help="One row per day or per ISO week."),
    fmt: HistoryFormat = typer.Option(HistoryFormat.table, "--format", "-f", help="Output format."),
    output: Optional[Path] = OUTPUT,
    raw: bool = RAW,
    debug: bool = DEBUG,
) -> None:
    """How activations went over time, from the scans recorded with scan --history.

    Per day (or week) the attempts started, and how many are complete, in progress, stalled
    and failed now; the median and 90th percentile time of each stage, over the attempts that
    left it; and the KB articles the stalls and failures point to most.

    Example: bes-logdiag history activations.sqlite --since 30d --per week
    """
    if raw and fmt is not HistoryFormat.csv:
        raise typer.BadParameter("applies to --format csv only", param_hint="--raw")
    with handle_errors(debug):
        from bes_logdiag.history.render import WRITERS, write_csv
        from bes_logdiag.history.trend import parse_since, read_trend

        try:
            when = parse_since(since) if since is not None else None
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--since") from e
        check_output(output, [str(file)])
        trend = read_trend(file, per=per, since=when, servers=server)
        with output_stream(output) as out:
            if raw:
                write_csv(trend, out, raw=True)
            else:
                WRITERS[fmt](trend, out)
    # (as scan's --server: a typo must not pass for a quiet history in a script)
    for name in trend.unknown_servers:
        theirs = ", ".join(trend.known_servers) or "none"
        warn(f"--server {name!r}: no attempt on this server in {file} (servers in it: {theirs})")
    if trend.unknown_servers:
        raise typer.Exit(EXIT_NO_MATCH)
