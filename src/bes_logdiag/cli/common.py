"""What every command shares: the error handler, warnings on stderr, exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from bes_logdiag.errors import BesLogdiagError

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2


def warn(message: str) -> None:
    """One line on stderr, prefixed with the tool's name."""
    sys.stderr.write(f"bes-logdiag: {message}\n")


@contextmanager
def handle_errors(debug: bool = False) -> Iterator[None]:
    """Turn any error into one line on stderr and exit code 2; ``--debug`` shows the traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
        raise
    except BesLogdiagError as e:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"bes-logdiag: error: {e}\n")
        raise typer.Exit(EXIT_UNUSABLE) from None
    except Exception as e:  # the one top-level handler: no traceback reaches a user
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"bes-logdiag: error: internal error: {type(e).__name__}: {e} (run with --debug for details)\n"
        )
        raise typer.Exit(EXIT_UNUSABLE) from None


def exit_code_for(report: object) -> int:
    """0 when no activation is stalled or failed, 1 when any is."""
    from bes_logdiag.model import Report, Status

    assert isinstance(report, Report)
    bad = any(a.last.status in (Status.STALLED, Status.FAILED) for a in report.activations)
    return EXIT_PROBLEMS if bad else EXIT_CLEAN
