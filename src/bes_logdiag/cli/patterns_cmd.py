"""``bes-logdiag patterns list|check``: the pattern library, and a check an admin runs after editing it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import (
    DEBUG,
    EXIT_PROBLEMS,
    NO_STDOUT,
    PATTERNS,
    handle_errors,
    output_stream,
    typer_app,
)

if TYPE_CHECKING:
    from rich.table import Table

    from bes_logdiag.library import Library

patterns_app = typer_app(
    help="List or check the pattern library (built-in plus --patterns folders).\n\n"
    "Example: bes-logdiag patterns check --patterns ./site-patterns",
)
app.add_typer(patterns_app, name="patterns")

FULL_WIDTH = 120
"""Below this many columns `patterns list` drops the prefilter and file columns and its borders."""
NARROW_WIDTH = 90
"""Below this many it also drops the service (the id's prefix names it)."""


@patterns_app.command("list")
def list_patterns(patterns: list[Path] = PATTERNS, debug: bool = DEBUG) -> None:
    """One line per pattern: id, service, stage, milestone or error, KB, prefilter, file.

    Example: bes-logdiag patterns list --patterns ./site-patterns
    """
    with handle_errors(debug):
        from bes_logdiag.pattern_check import load_checked_library
        from bes_logdiag.render.table import console_for

        lib = load_checked_library(patterns)
        with output_stream(None, closed=NO_STDOUT) as out:
            console = console_for(out)
            console.print(patterns_table(lib, console.width))


def patterns_table(lib: Library, width: int) -> Table:
    """The table of `patterns list` for a terminal `width` columns wide: ids are never cut; a
    narrow terminal gets fewer columns rather than words broken across lines."""
    from rich import box
    from rich.table import Table

    from bes_logdiag.render.safe import terminal_text

    full, narrow = width >= FULL_WIDTH, width < NARROW_WIDTH
    if full:
        table = Table(header_style="bold")
    else:
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("Id", no_wrap=True)
    if not narrow:
        table.add_column("Service", no_wrap=True)
    table.add_column("Stage", no_wrap=True)
    table.add_column("Milestone / error", overflow="fold")
    table.add_column("KB", no_wrap=True)
    if full:
        table.add_column("Prefilter", overflow="fold")
        table.add_column("File", overflow="fold")
    for p in lib.patterns:
        row = [p.id]
        if not narrow:
            row.append(p.service or "")
        row += [str(p.stage or ""), p.milestone or p.error or p.role or "", p.kb or ""]
        if full:
            row += [" | ".join(x.decode("utf-8", "replace") for x in p.prefilter), Path(p.source).name]
        # Pattern files are TOML an admin edits: every cell is data, shown and never read as markup.
        table.add_row(*map(terminal_text, row))
    return table


@patterns_app.command("check")
def check_patterns(patterns: list[Path] = PATTERNS, debug: bool = DEBUG) -> None:
    """Compile every pattern, run its examples and counter-examples, reject duplicate ids, and
    check that the scan's prefilter lets every example line through, that every example names a
    user, and that every pattern means something (a milestone, or an error and its KB article).

    Exit code 0 when all is well, 1 on any problem (one line each on stdout).  `scan --patterns`
    refuses the same problems in your own files.

    Example: bes-logdiag patterns check --patterns ./site-patterns
    """
    with handle_errors(debug):
        from bes_logdiag.pattern_check import check_files
        from bes_logdiag.render.safe import terminal

        lib, problems = check_files(patterns)
        for msg in problems:  # they quote the files' ids, titles and example lines
            typer.echo(terminal(msg))
        if problems or lib is None:
            from bes_logdiag.words import plural

            typer.echo(f"bes-logdiag: {plural(len(problems), 'problem')} in the pattern library", err=True)
            raise typer.Exit(EXIT_PROBLEMS)
        examples = sum(len(p.examples) + len(p.counter_examples) for p in lib.patterns)
        typer.echo(f"{len(lib.patterns)} patterns, {examples} examples: all pass")
