"""What every command shares: options, exit codes, the error handler, running the scan; warnings,
stdout and ``-o`` files are `cli.streams`'s, typer's words `cli.wording`'s (both re-exported here)."""

from __future__ import annotations

import enum
import io
import signal
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from bes_logdiag.cli.streams import (
    NO_STDOUT,
    STDOUT_CLOSED,
    _guarded_stderr,
    check_output,
    output_errors,
    output_stream,
    warn,
)
from bes_logdiag.cli.wording import Command, Group, plain_message, typer_app
from bes_logdiag.errors import BesLogdiagError, Terminated

if TYPE_CHECKING:
    from bes_logdiag.model import Report, Skipped
    from bes_logdiag.render.table import Screen
    from bes_logdiag.select import Selection
    from bes_logdiag.settings import ScanConfig
    from bes_logdiag.when import When

EXIT_CLEAN = 0


EXIT_PROBLEMS = 1


EXIT_UNUSABLE = 2


EXIT_NO_MATCH = 4
"""A ``--user`` or ``--server`` value names no one and nothing in the logs: a typo, or the wrong
logs.  Not 1 (nothing is known to be stalled) nor 2 (the logs were read): a CI job must not pass
for a clean run, and a script can tell it apart.  (3 is ``watch``'s timeout.)"""


EXIT_INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as a shell reports a command the signal ended."""

# Options shared by the commands that scan logs (scan, timeline, events); OUTPUT, QUIET and DEBUG
# by presence too.


PATHS = typer.Argument(
    ...,
    metavar="PATH",
    help="Log files, folders (searched recursively), .gz files, .zip and tar archives, glob patterns, or - for stdin.",
)


USERS = typer.Option(
    [],
    "--users",
    metavar="[SERVER=]FILE",
    help=(
        "CSV user map (columns email/Email Address/MailboxSMTPAddr, user_id/UserId/Id/UserConfigId, "
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


RAW = typer.Option(
    False,
    "--raw",
    help="With --format csv: cells exactly as found, for scripts. Without it a cell starting with "
    "=, +, -, @, tab or CR gets a ' before it, so that a spreadsheet shows it instead of running it.",
)


DEBUG = typer.Option(False, "--debug", help="Show the full traceback of an error.")


SINCE = typer.Option(
    None,
    "--since",
    metavar="TIME",
    help="From this time on (scan: activations with progress since then): 2024-01-01 09:00, "
    "01/01 09:00 (the year taken from the logs), or 7d, 2h (back from the end of the logs).",
)


UNTIL = typer.Option(
    None,
    "--until",
    metavar="TIME",
    help="Up to this time (scan: activations started by then), written as for --since; a date "
    "alone keeps that whole day.",
)


SERVER = typer.Option([], "--server", "-s", metavar="SERVER", help="Only this server (repeatable).")


WIDTH = typer.Option(
    None,
    "--width",
    metavar="N",
    help="Lay tables out N columns wide (default: the terminal's width, else $COLUMNS, else 160).",
)


class Color(str, enum.Enum):
    """``--color``: when output for people is coloured."""

    auto = "auto"
    always = "always"
    never = "never"


COLOR_CHOICE: dict[Color, bool | None] = {Color.auto: None, Color.always: True, Color.never: False}
"""What each ``--color`` asks of the console (`render.table.Screen.color`)."""


COLOR = typer.Option(
    Color.auto,
    "--color",
    help="Colour the output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR colours a pipe "
    "too), always, or never (no colour, no progress bar).",
)


def screen_of(width: Optional[int], color: Color) -> Screen:
    """``--width`` and ``--color`` for the renderers; a width too narrow for a table is a usage error."""
    from bes_logdiag.render.table import MIN_WIDTH, Screen

    if width is not None and width < MIN_WIDTH:
        raise typer.BadParameter(f"give {MIN_WIDTH} columns or more", param_hint="--width")
    return Screen(width=width, color=COLOR_CHOICE[color])


def interrupted(e: KeyboardInterrupt | None = None) -> typer.Exit:
    """Ctrl-C: say so on one line (a closed stderr drops it) and end with `EXIT_INTERRUPTED`; a
    SIGTERM or SIGHUP (`Terminated`) with 128 plus its number."""
    with _guarded_stderr():
        warn(terminated_words(e) if isinstance(e, Terminated) else "interrupted")
    return typer.Exit(128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED)


def terminated_words(e: Terminated) -> str:
    with suppress(ValueError):
        return f"terminated ({signal.Signals(e.signum).name})"
    return "terminated"


@contextmanager
def handle_errors(debug: bool = False) -> Iterator[None]:
    """Turn any error into one line on stderr and exit code 2; ``--debug`` shows the traceback.
    Ctrl-C is one line, "interrupted", and exit code 130.

    While the command runs, stderr that cannot be written is dropped (`_DroppingStderr`): a closed
    or broken stderr never changes the exit code nor loses the report.
    """
    with _guarded_stderr():
        try:
            yield
        except KeyboardInterrupt as e:
            # Nothing is left half-written: the report goes out whole or not at all (`output_stream`).
            raise interrupted(e) from None
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except BesLogdiagError as e:
            if debug:
                traceback.print_exc()
            warn(f"error: {e}")
            raise typer.Exit(EXIT_UNUSABLE) from None
        except Exception as e:  # the one top-level handler: no traceback reaches a user
            if debug:
                traceback.print_exc()
            warn(f"error: internal error: {type(e).__name__}: {e} (run with --debug for details)")
            raise typer.Exit(EXIT_UNUSABLE) from None


def make_config(
    paths: list[str],
    users: list[str],
    year: Optional[int],
    patterns: list[Path],
    stall_after: list[str],
    jobs: int,
    *,
    output: Optional[Path],
    protect: Sequence[Path] = (),
    max_expand: float | None = None,
) -> ScanConfig:
    """Check the shared options and build the core's config; bad values are usage errors.  The
    output (``-o`` FILE, or stdout when None) is checked here, before any log is read
    (`check_output`); ``protect``: other files it must not overwrite (a ``--baseline``);
    ``max_expand``: ``--max-expand`` (None: the core's default)."""
    from bes_logdiag.inflate import DEFAULT_MAX_EXPAND
    from bes_logdiag.settings import ScanConfig, parse_stall_after

    try:
        thresholds = parse_stall_after(stall_after)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--stall-after") from e
    user_maps = user_maps_of(users)
    if year is not None and not 1990 <= year <= 2100:
        raise typer.BadParameter("give a four-digit year such as 2010", param_hint="--year")
    check_jobs(jobs)
    check_output(
        output,
        [*paths, *(str(p) for _, p in user_maps), *(str(p) for p in patterns), *(str(p) for p in protect)],
    )
    return ScanConfig(
        paths=tuple(paths),
        users=user_maps,
        year=year,
        patterns=tuple(patterns),
        stall_after=thresholds,
        jobs=jobs,
        max_expand=DEFAULT_MAX_EXPAND if max_expand is None else max_expand,
    )


def user_maps_of(users: list[str]) -> tuple[tuple[str | None, Path], ...]:
    """``--users`` as the (server, file) pairs of `settings.parse_user_maps`; a bad value is a usage error."""
    from bes_logdiag.settings import parse_user_maps

    try:
        return parse_user_maps(users)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--users") from e


def check_jobs(jobs: int) -> None:
    """``--jobs``: 0 (one per core) or more."""
    if jobs < 0:
        raise typer.BadParameter("must be 0 (one per core) or more", param_hint="--jobs")


PASTE_HINT = (
    "reading log lines from the terminal: paste them, then press "
    + ("Ctrl-Z and Enter" if sys.platform == "win32" else "Ctrl-D")
    + " on a line of its own"
)


def typing_in(paths: Sequence[str]) -> bool:
    """Whether ``-`` is read from a terminal: someone is about to paste."""
    try:
        return "-" in paths and sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


@contextmanager
def _typed_stdin(pasting: bool) -> Iterator[None]:
    """While the scan runs, stdin typed or pasted on a terminal is what was read from it up to the
    first Ctrl-D on a line of its own.  The scan reads stdin in large blocks; on a terminal a
    Ctrl-D only ends the block being read, so the next block would wait for a second Ctrl-D."""
    if not pasting:
        yield
        return

    # The unbuffered stream: a read returns each line as it is entered, and b"" at the Ctrl-D
    # (on Windows the console's own stream, which ends at Ctrl-Z and Enter).
    raw = sys.stdin.buffer.raw  # type: ignore[union-attr]
    chunks = []
    while chunk := raw.read(65536):
        chunks.append(chunk)
    original = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(b"".join(chunks)))
    try:
        yield
    finally:
        sys.stdin = original


def run_report(
    config: ScanConfig, *, quiet: bool = False, unattached_lines: bool = False, bar: bool = True
) -> Report:
    """Run the scan and say on stderr what was skipped or assumed; ``unattached_lines`` keeps
    every line that joined no activation, not only their groups (``events``).

    Standard input from a terminal gets a hint to paste and end with Ctrl-D, and no progress bar
    (it would redraw over the pasted lines); ``bar=False`` (``--color never``) drops it too."""
    from bes_logdiag.cli.progress import progress_bar
    from bes_logdiag.scan import run_scan

    pasting = typing_in(config.paths)
    if pasting and not quiet:
        warn(PASTE_HINT)
        sys.stderr.flush()
    with _typed_stdin(pasting), progress_bar(quiet or pasting or not bar) as progress:
        report = run_scan(config, progress, unattached_lines=unattached_lines)
    if not quiet:
        for s in report.inputs.skipped:
            warn(skipped_note(s))
        for note in said_notes(report.notes):
            warn(note)
    return report


NOTES_OF_A_KIND = 10
"""Notes of one kind (`model.Note`) said one by one on stderr; the rest are counted in one line."""


class NoteFolder:
    """What stderr says of the report's notes: each, except that of a kind that comes once per
    user (a join refused for each of a mass activation's users) only the first `NOTES_OF_A_KIND`
    are said, then one line for the rest (JSON keeps every note).  ``totals``: how many of each
    kind there are, when all are known (a scan) and the line can count them; a live session says
    once that the rest are not said."""

    def __init__(self, totals: Mapping[str, int] | None = None) -> None:
        self._totals = totals
        self._said: dict[str, int] = {}

    def say(self, note: str) -> str | None:
        """The line to say for this note, or None."""
        kind = getattr(note, "kind", "")  # (`model.Note`; a plain note has none)
        if not kind:
            return note
        said = self._said[kind] = self._said.get(kind, 0) + 1
        if said <= NOTES_OF_A_KIND:
            return note
        if said > NOTES_OF_A_KIND + 1:
            return None
        if self._totals is None:
            return f"more {kind} are not said one by one ({_ALL_NOTES})"
        return f"{self._totals[kind] - NOTES_OF_A_KIND:,} more {kind} ({_ALL_NOTES})"


_ALL_NOTES = "scan --format json lists every one under notes"
"""Where the notes not said are (``events`` and ``timeline`` write no ``notes``)."""


def said_notes(notes: Sequence[str]) -> list[str]:
    """The lines stderr says of all a report's notes (`NoteFolder`)."""
    from collections import Counter

    folder = NoteFolder(Counter(getattr(n, "kind", "") for n in notes))
    return [line for line in map(folder.say, notes) if line is not None]


def skipped_note(s: Skipped) -> str:
    """What is said on stderr of an input that was skipped, or partly."""
    return f"{s.path}: {s.what}: {s.reason}"


def parse_times(since: Optional[str], until: Optional[str]) -> tuple[When | None, When | None]:
    """``--since`` and ``--until`` checked before any log is read; placed in time by `place_times`."""
    from bes_logdiag.when import parse_when, resolve

    parsed: list[When | None] = []
    for text, option in ((since, "--since"), (until, "--until")):
        try:
            parsed.append(None if text is None else parse_when(text, option, end=option == "--until"))
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint=option) from e
    start, end = parsed
    # Two whole dates, or two spans back from the logs' end, are placed without the logs: a window
    # that ends before it begins is said before a single log is read (`place_times` says it of
    # the others, once the logs are read).
    if start is not None and end is not None:
        absolute = all(w.back is None and w.year and w.date for w in (start, end))
        if (absolute and resolve(start, None)[0] > resolve(end, None)[0]) or (
            start.back is not None and end.back is not None and start.back < end.back
        ):
            raise typer.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    return start, end


def place_times(
    report: Report, since: When | None, until: When | None
) -> tuple[datetime | None, datetime | None, list[str]]:
    """The times ``--since`` and ``--until`` name in these logs, and a note for each thing taken
    from them (a year, a day, the end of the logs for ``7d``)."""
    from bes_logdiag.errors import UsageError
    from bes_logdiag.when import logs_span, resolve

    span = logs_span(report)
    times: list[datetime | None] = []
    notes: list[str] = []
    for when in (since, until):
        if when is None:
            times.append(None)
            continue
        try:
            moment, note = resolve(when, span)
        except ValueError as e:
            raise UsageError(str(e)) from e
        times.append(moment)
        notes += [note] if note else []
    start, end = times
    if start is not None and end is not None and start > end:
        raise UsageError(f"--since ({start:%Y-%m-%d %H:%M:%S}) is after --until ({end:%Y-%m-%d %H:%M:%S})")
    # (a window the logs do not reach selects nothing: say why, rather than leave a report empty)
    if span is not None and start is not None and start > span.last:
        notes.append(
            f"--since {start:%Y-%m-%d %H:%M:%S} is after the logs end ({span.last:%Y-%m-%d %H:%M:%S})"
        )
    if span is not None and end is not None and end < span.first:
        notes.append(
            f"--until {end:%Y-%m-%d %H:%M:%S} is before the logs begin ({span.first:%Y-%m-%d %H:%M:%S})"
        )
    return start, end, notes


def tell_unmatched(report: Report, selection: Selection, *, quiet: bool) -> bool:
    """Say which --user and --server values selected nothing; True when one of them names no one
    in the logs at all (exit code `EXIT_NO_MATCH`), which is said even with --quiet."""
    from bes_logdiag.select import unmatched

    missing = False
    for u in unmatched(report, selection):
        missing |= not u.in_logs
        if not (quiet and u.in_logs):
            warn(u.note)
    return missing


def with_notes(report: Report, notes: Sequence[str], *, quiet: bool) -> Report:
    """The report with more notes (JSON ``notes``), each said on stderr unless ``quiet``."""
    from dataclasses import replace

    if not quiet:
        for note in notes:
            warn(note)
    return replace(report, notes=(*report.notes, *notes)) if notes else report


def check_strict(report: Report) -> None:
    """``--strict``: any skipped input makes exit code 2, once the report has been written."""
    from bes_logdiag.errors import InputError

    skipped = report.inputs.skipped
    if skipped:
        inputs = "1 input was" if len(skipped) == 1 else f"{len(skipped)} inputs were"
        raise InputError(f"--strict: {inputs} skipped, the first {skipped[0].path}: {skipped[0].reason}")


__all__ = [
    "NO_STDOUT", "STDOUT_CLOSED", "Command", "Group", "output_errors", "check_output", "output_stream",
    "plain_message", "typer_app", "warn",
]  # fmt: skip
