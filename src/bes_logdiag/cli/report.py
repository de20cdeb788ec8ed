"""``bes-logdiag merge`` and ``bes-logdiag report``: saved scan reports of several hosts, combined
into one JSON report or drawn as one HTML page, with no log copied anywhere."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TypeVar

import typer

from bes_logdiag.cli import app
from bes_logdiag.cli.common import DEBUG, OUTPUT, check_output, handle_errors, output_stream

if TYPE_CHECKING:
    from bes_logdiag.merge import Saved

T = TypeVar("T")

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


_EDITED = (KeyError, TypeError, ValueError, AttributeError, IndexError)
"""What a report with a field of the wrong type or missing (edited by hand, or cut) raises deep in
merging or drawing."""


def _named(work: Callable[[Sequence[Saved]], T], saved: Sequence[Saved]) -> T:
    """``work`` done on the reports; where a report's fields are not what scan writes, an
    `InputError` naming that report, found by doing the work on each alone (only then: a failure
    costs a second pass, a success none)."""
    from bes_logdiag.errors import InputError

    try:
        return work(saved)
    except _EDITED as e:
        for s in saved:
            try:
                work([s])
            except _EDITED as one:
                what = f"{type(one).__name__}: {one}"
                raise InputError(
                    f"{s.name}: not a report as scan --format json writes it ({what}); was it edited?"
                ) from one
        raise InputError(f"these reports do not go together ({type(e).__name__}: {e})") from e


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
        doc = _named(merge_reports, _load(reports))
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

        def page(reports: Sequence[Saved]) -> str:
            text = io.StringIO()
            write_html(merge_reports(reports), text, sources=[s.name for s in reports])
            return text.getvalue()

        html = _named(page, saved)
        with output_stream(output) as out:
            out.write(html)
