"""``bes-logdiag scan``: the whole diagnosis of a set of logs."""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_PROBLEMS,
    JOBS,
    PATHS,
    PATTERNS,
    QUIET,
    RAW,
    STALL_AFTER,
    STRICT,
    USERS,
    YEAR,
    check_strict,
    handle_errors,
    make_config,
    output_stream,
    run_report,
    warn,
)  # fmt: skip
from bes_logdiag.model import Status
from bes_logdiag.render import Format, writer_for

MAX_EXPAND = typer.Option(
    1000.0,  # (read.DEFAULT_MAX_EXPAND: the core is imported when a command runs)
    "--max-expand",
    metavar="RATIO",
    min=0,
    help="Stop reading a gzip file or archive member that inflates to over RATIO times its size "
    "and over 1 GiB (a decompression bomb?): it is listed as skipped, or partial. 0: no limit.",
)


class FailOn(str, enum.Enum):
    """Which verdicts make ``scan`` exit 1."""

    stalled = "stalled"
    failed = "failed"
    any = "any"
    never = "never"


FAILING: dict[FailOn, set[Status]] = {
    FailOn.stalled: {Status.STALLED},
    FailOn.failed: {Status.FAILED},
    FailOn.any: {Status.STALLED, Status.FAILED},
    FailOn.never: set(),
}


def parse_when(text: str | None, option: str, *, end: bool = False) -> datetime | None:
    """A date or time from the command line.  What it leaves out is taken from today, and from
    the start of the day, or (``end``, for --until) its end: ``--until 2023-12-31`` keeps that
    day.  A zone is dropped: BES logs carry the server's local time with none."""
    if text is None:
        return None
    from dateutil import parser

    now = datetime.now()
    default = (
        now.replace(hour=23, minute=59, second=59, microsecond=999999)
        if end
        else now.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    try:
        when: datetime = parser.parse(text, default=default)
    except (ValueError, OverflowError) as e:
        raise typer.BadParameter(f"{text!r} is not a date or time", param_hint=option) from e
    return when.replace(tzinfo=None)


@app.command()
def scan(
    paths: list[str] = PATHS,
    users: list[str] = USERS,
    year: Optional[int] = YEAR,
    patterns: list[Path] = PATTERNS,
    stall_after: list[str] = STALL_AFTER,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.any, "--fail-on", help="Which verdicts give exit code 1: stalled, failed, any (either), never."
    ),
    fail_if_none: bool = typer.Option(
        False, "--fail-if-none", help="Exit 1 when no activation is found at all."
    ),
    user: list[str] = typer.Option(
        [],
        "--user",
        "-u",
        metavar="USER",
        help="Only this user: address, user id or display name (repeatable).",
    ),
    server: list[str] = typer.Option(
        [], "--server", "-s", metavar="SERVER", help="Only this server (repeatable)."
    ),
    since: Optional[str] = typer.Option(
        None,
        "--since",
        metavar="TIME",
        help="Only activations with progress at or after this time (e.g. 2024-03-11 08:00).",
    ),
    until: Optional[str] = typer.Option(
        None, "--until", metavar="TIME", help="Only activations started at or before this time."
    ),
    status: list[Status] = typer.Option(
        [], "--status", help="Only activations with this status (repeatable)."
    ),
    raw: bool = RAW,
    jobs: int = JOBS,
    max_expand: float = MAX_EXPAND,
    quiet: bool = QUIET,
    strict: bool = STRICT,
    debug: bool = DEBUG,
) -> None:
    """Diagnose every wireless enterprise activation in BES logs.

    For each user on each server: complete, in_progress, stalled or failed; the stage (1-4);
    the KB article to read; the evidence lines.  Exit code 0 when nothing is stalled or
    failed, 1 when something is (see --fail-on), 2 on a usage error or unreadable input.

    Example: bes-logdiag scan Logs/ --format junit -o report.xml
    """
    if raw and fmt is not Format.csv:
        raise typer.BadParameter("applies to --format csv only", param_hint="--raw")
    with handle_errors(debug):
        from bes_logdiag.select import Selection, select, unmatched

        config = make_config(paths, users, year, patterns, stall_after, jobs, output=output)
        config = replace(config, max_expand=max_expand)
        selection = Selection(
            users=tuple(user),
            servers=tuple(server),
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until", end=True),
            statuses=tuple(status),
        )
        everything = run_report(config, quiet=quiet)
        if not quiet:
            for note in unmatched(everything, selection):
                warn(note)
        report = select(everything, selection)
        with output_stream(output) as out:
            if raw:  # (only with --format csv: checked first)
                from bes_logdiag.render.csv import write as write_raw

                write_raw(report, out, raw=True)
            else:
                writer_for(fmt)(report, out)
        if strict:
            check_strict(report)
        verdicts = {a.last.status for a in report.activations}
        bad = bool(verdicts & FAILING[fail_on]) or (fail_if_none and not report.activations)
    if bad:
        raise typer.Exit(EXIT_PROBLEMS)
