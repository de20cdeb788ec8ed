"""What every command shares: options, the error handler, warnings on stderr, exit codes."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

import typer

from bes_logdiag.errors import BesLogdiagError

if TYPE_CHECKING:
    from bes_logdiag.model import Report
    from bes_logdiag.settings import ScanConfig

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2

# Options shared by the commands that scan logs (scan, timeline, events); OUTPUT, QUIET and DEBUG
# by presence too.
PATHS = typer.Argument(
    ...,
    metavar="PATH",
    help="Log files, folders (searched recursively), .gz files, .zip archives, glob patterns, or - for stdin.",
)
USERS = typer.Option(
    [],
    "--users",
    metavar="[SERVER=]FILE",
    help=(
        "CSV user map (columns email/MailboxSMTPAddr, user_id/UserId/Id/UserConfigId, "
        "display_name/DisplayName, optional ServerName); SERVER=FILE makes every row that server's "
        "(repeatable: --users BBPROD01=prod01.csv --users BES_EAST_02=east.csv). A value that is an "
        "existing file is always a file; otherwise '=' splits it when the part before it has no "
        "path separator, colon or space."
    ),
)
YEAR = typer.Option(
    None, "--year", metavar="YEAR", help="Year of input whose name carries no date (stdin, excerpts)."
)
PATTERNS = typer.Option(
    [],
    "--patterns",
    metavar="DIR",
    help="Folder of your own pattern .toml files, added to the built-in ones (repeatable).",
)
STALL_AFTER = typer.Option(
    [],
    "--stall-after",
    metavar="[STAGE=]DURATION",
    help="Stall threshold: 30m for every stage, or 4=2h for one stage (repeatable; a bare number is minutes).",
)
OUTPUT = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file instead of stdout.")
JOBS = typer.Option(0, "--jobs", "-j", metavar="N", help="Files read in parallel (0: one per core).")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar and no warnings on stderr.")
STRICT = typer.Option(
    False, "--strict", help="Exit 2 when any input had to be skipped (the report is still written)."
)
DEBUG = typer.Option(False, "--debug", help="Show the full traceback of an error.")


def typer_app(**settings: Any) -> typer.Typer:
    """A typer app or command group with the settings all of ours share: help when run bare,
    -h as well as --help, no Rich markup in help texts, and no pretty exception panels (errors
    reach the user through `handle_errors`). `settings`: the rest of typer.Typer's arguments."""
    return typer.Typer(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the final flush at exit meets no closed pipe."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests, embedding)
        pass


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


def make_config(
    paths: list[str],
    users: list[str],
    year: Optional[int],
    patterns: list[Path],
    stall_after: list[str],
    jobs: int,
) -> ScanConfig:
    """Check the shared options and build the core's config; bad values are usage errors."""
    from bes_logdiag.settings import ScanConfig, parse_stall_after, parse_user_maps

    try:
        thresholds = parse_stall_after(stall_after)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--stall-after") from e
    try:
        user_maps = parse_user_maps(users)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--users") from e
    if year is not None and not 1990 <= year <= 2100:
        raise typer.BadParameter("give a four-digit year such as 2010", param_hint="--year")
    if jobs < 0:
        raise typer.BadParameter("must be 0 (one per core) or more", param_hint="--jobs")
    return ScanConfig(
        paths=tuple(paths),
        users=user_maps,
        year=year,
        patterns=tuple(patterns),
        stall_after=thresholds,
        jobs=jobs,
    )


def run_report(config: ScanConfig, *, quiet: bool = False, unattached_lines: bool = False) -> Report:
    """Run the scan and say on stderr what was skipped or assumed; ``unattached_lines`` keeps
    every line that joined no activation, not only their groups (``events``)."""
    from bes_logdiag.cli.progress import progress_bar
    from bes_logdiag.scan import run_scan

    with progress_bar(quiet) as progress:
        report = run_scan(config, progress, unattached_lines=unattached_lines)
    if not quiet:
        for s in report.inputs.skipped:
            warn(f"{s.path}: {'partly skipped' if s.partial else 'skipped'}: {s.reason}")
        for note in report.notes:
            warn(note)
    return report


def check_strict(report: Report) -> None:
    """``--strict``: any skipped input makes exit code 2, once the report has been written."""
    from bes_logdiag.errors import InputError

    skipped = report.inputs.skipped
    if skipped:
        inputs = "1 input was" if len(skipped) == 1 else f"{len(skipped)} inputs were"
        raise InputError(f"--strict: {inputs} skipped, the first {skipped[0].path}: {skipped[0].reason}")


@contextmanager
def output_stream(path: Optional[Path]) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file (UTF-8, written only when the command succeeds).

    A reader that stops early (``| head``) ends the output quietly; the exit code still says
    what was found.
    """
    if path is None:
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as e:  # a full disk behind a redirect, a closed terminal
            from bes_logdiag.errors import UsageError

            _silence_stdout()
            raise UsageError(f"cannot write the output: {e.strerror or e}") from e
        return
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            yield f
    except OSError as e:
        from bes_logdiag.errors import UsageError

        raise UsageError(f"{path}: cannot write the output: {e.strerror or e}") from e
