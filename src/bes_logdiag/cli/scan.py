"""``bes-logdiag scan``: the whole diagnosis of a set of logs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import EXIT_PROBLEMS, exit_code_for, handle_errors, warn
from bes_logdiag.render import Format


@app.command()
def scan(
    paths: list[str] = typer.Argument(..., help="Log files, folders (searched recursively), or - for stdin."),
    users: Optional[Path] = typer.Option(None, "--users", help="CSV user map: email, user id, display name."),
    year: Optional[int] = typer.Option(None, "--year", help="Year of input whose name carries no date."),
    patterns: list[Path] = typer.Option([], "--patterns", help="Folder of extra pattern .toml files (repeatable)."),
    stall_after: list[str] = typer.Option([], "--stall-after", help="Stall threshold: 30m for every stage, or 4=2h for one stage (repeatable)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Files read in parallel (0: one per core)."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
) -> None:
    """Diagnose every wireless enterprise activation in BES logs.

    Example: bes-logdiag scan Logs/20240311 --format json > report.json
    """
    with handle_errors(debug):
        from bes_logdiag.render import writer_for
        from bes_logdiag.scan import run_scan
        from bes_logdiag.settings import ScanConfig, default_jobs, parse_stall_after

        try:
            thresholds = parse_stall_after(stall_after)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--stall-after") from e
        if year is not None and not 1990 <= year <= 2100:
            raise typer.BadParameter("give a four-digit year such as 2010", param_hint="--year")
        config = ScanConfig(
            paths=tuple(paths),
            users=users,
            year=year,
            patterns=tuple(patterns),
            stall_after=thresholds,
            jobs=jobs or default_jobs(),
        )
        report = run_scan(config)
        for s in report.inputs.skipped:
            warn(f"{s.path}: skipped: {s.reason}")
        for f in report.inputs.files:
            for w in f.warnings:
                warn(w)
        for note in report.notes:
            warn(note)
        writer_for(fmt)(report, sys.stdout)
        code = exit_code_for(report)
    if code:
        raise typer.Exit(code)
    _ = EXIT_PROBLEMS
