"""``bes-logdiag patterns list|check``: the pattern library, and a check an admin runs after editing it."""

from __future__ import annotations

from pathlib import Path

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import DEBUG, PATTERNS, handle_errors

patterns_app = typer.Typer(
    help="List or check the pattern library (built-in plus --patterns folders).\n\n"
    "Example: bes-logdiag patterns check --patterns ./site-patterns",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(patterns_app, name="patterns")


@patterns_app.command("list")
def list_patterns(patterns: list[Path] = PATTERNS, debug: bool = DEBUG) -> None:
    """One line per pattern: id, service, stage, milestone or error, KB, prefilter, file.

    Example: bes-logdiag patterns list --patterns ./site-patterns
    """
    with handle_errors(debug):
        import sys

        from rich.table import Table

        from bes_logdiag.patterns import load_library
        from bes_logdiag.render.table import console_for

        lib = load_library(patterns)
        table = Table(header_style="bold")
        for col in ("Id", "Service", "Stage", "Milestone / error", "KB", "Prefilter", "File"):
            table.add_column(col, overflow="fold")
        for p in lib.patterns:
            table.add_row(
                p.id, p.service or "", str(p.stage or ""), p.milestone or p.error or p.role or "",
                p.kb or "", " | ".join(x.decode("utf-8", "replace") for x in p.prefilter),
                Path(p.source).name,
            )  # fmt: skip
        console_for(sys.stdout).print(table)


@patterns_app.command("check")
def check_patterns(patterns: list[Path] = PATTERNS, debug: bool = DEBUG) -> None:
    """Compile every pattern, run its examples and counter-examples, reject duplicate ids, and
    check that the scan's prefilter lets every example line through.

    Exit code 0 when all is well, 1 on any problem (one line each on stdout).

    Example: bes-logdiag patterns check --patterns ./site-patterns
    """
    with handle_errors(debug):
        from bes_logdiag.match import check_prefilter
        from bes_logdiag.patterns import check_files

        lib, problems = check_files(patterns)
        if lib is not None:
            problems = check_prefilter(lib)
        for msg in problems:
            typer.echo(msg)
        if problems:
            typer.echo(f"bes-logdiag: {len(problems)} problem(s) in the pattern library", err=True)
            raise typer.Exit(1)
        assert lib is not None
        examples = sum(len(p.examples) + len(p.counter_examples) for p in lib.patterns)
        typer.echo(f"{len(lib.patterns)} patterns, {examples} examples: all pass")
