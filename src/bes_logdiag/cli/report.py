"""``bes-logdiag merge`` and ``bes-logdiag report``: saved scan reports of several hosts, combined
into one JSON report or drawn as one HTML page, with no log copied anywhere."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import DEBUG, OUTPUT, check_output, handle_errors, output_stream

if TYPE_CHECKING:
    from bes_logdiag.merge import Saved

REPORTS = typer.Argument(
    ...,
    metavar="REPORT.json",
    help="Reports written by scan --format json (one per host), or - for one on standard input.",
)


def _load(reports: list[str]) -> list[Saved]:
    from bes_logdiag.errors import UsageError
    from bes_logdiag.merge import load_report

    if reports.count("-") > 1:
        raise UsageError("- (standard input) can be given once")
    return [load_report("<stdin>", sys.stdin.read()) if r == "-" else load_report(r) for r in reports]


@app.command()
def merge(reports: list[str] = REPORTS, output: Optional[Path] = OUTPUT, debug: bool = DEBUG) -> None:
    """Combine the JSON reports of several servers into one, with the same fields as scan's.

    Run one scan per BES host, where its logs are, then merge the reports.  A server in two
    reports for overlapping times is refused, unless both say exactly the same; reports of
    another schema_version too (exit code 2, naming the file).  Summary, totals and stats are
    counted again.

    Example: bes-logdiag merge prod01.json east02.json -o fleet.json
    """
    with handle_errors(debug):
        from bes_logdiag.merge import merge_reports
        from bes_logdiag.render.json import write_document

        check_output(output, reports)
        doc = merge_reports(_load(reports))
        with output_stream(output) as out:
            write_document(doc, out)


@app.command()
def report(reports: list[str] = REPORTS, output: Optional[Path] = OUTPUT, debug: bool = DEBUG) -> None:
    """Draw the HTML report of saved JSON reports, merged as merge does.

    One self-contained page (no request of any kind, works without JavaScript, prints cleanly):
    what was read, the summary and statistics, the activations table, and a card with a
    timeline for every stalled, failed or in-progress activation.

    Example: bes-logdiag report prod01.json east02.json -o fleet.html
    """
    with handle_errors(debug):
        from bes_logdiag.merge import merge_reports
        from bes_logdiag.render.html import write_html

        check_output(output, reports)
        saved = _load(reports)
        doc = merge_reports(saved)
        with output_stream(output) as out:
            write_html(doc, out, sources=[s.name for s in saved])
