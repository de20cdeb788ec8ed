"""What every command shares: options, the error handler, warnings on stderr, exit codes."""

from __future__ import annotations

import codecs
import enum
import io
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

import typer
from typer.core import TyperCommand, TyperGroup

from bes_logdiag.errors import BesLogdiagError

if TYPE_CHECKING:
    from bes_logdiag.model import Report
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


# --- help and messages in the tool's words --------------------------------------------------------

# Typer's own notation: ``{PATH}...`` for a required argument in the usage line, ``<list[str]>``
# after an argument, ``<a|b>`` and ``<list[a|b]>`` after a choice.
_REQUIRED = re.compile(r"^\{(.*)\}")
_ARGUMENT_TYPE = re.compile(r"\s+<[^<>]*>$")
_LIST_CHOICE = re.compile(r"<list\[([^\]]*)\]>")
_CHOICE = re.compile(r"<([^<>]*\|[^<>]*)>")
# Pydantic's wording, which typer passes on when it converts a value.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Value error, "), ""),
    (re.compile(r"^Input should be a valid integer.*$"), "give a whole number"),
    (re.compile(r"^Input should be a valid number.*$"), "give a number"),
    (re.compile(r"^Input should be a valid boolean.*$"), "give true or false"),
    (re.compile(r"^Input should be "), "must be "),
)


def plain_message(message: str) -> str:
    """A value error as this tool says it: no "Value error," or "Input should be a valid
    integer, unable to parse string as an integer" from the library underneath."""
    for pattern, replacement in _MESSAGES:
        message = pattern.sub(replacement, message)
    return message


class Command(TyperCommand):
    """A typer command whose help and errors speak the tool's language: ``PATH...`` rather than
    ``{PATH}...`` and ``PATH <list[str]>``, ``[a|b]`` for a choice, and no "Value error,"."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [_REQUIRED.sub(r"\1", piece) for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            if param.param_type_name == "argument":
                name = _ARGUMENT_TYPE.sub("", name).removesuffix("...")
                arguments.append((name + ("..." if param.nargs != 1 else ""), text))
            else:
                options.append((_CHOICE.sub(r"[\1]", _LIST_CHOICE.sub(r"[\1]...", name)), text))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[no-any-return]
        except typer.BadParameter as e:
            e.message = plain_message(e.message)
            raise


def _shown_lines(text: str) -> str:
    """`terminal` on each line of `text`, its line ends kept."""
    from bes_logdiag.render.safe import terminal

    return "\n".join(terminal(line) for line in text.split("\n"))


def _show_safely(error: Exception) -> None:
    """Make typer print a usage error (`error` is click's ClickException, which typer prints with
    its ``show`` method) with every line passed through `terminal`: click quotes the user's value
    as typed in "Invalid value ...", "No such option: ..." or "Got unexpected extra argument(s)",
    so ``--format $'\\x1b[2J'`` or a path holding a right-to-left override would reach the terminal
    raw.  The usage line and the help that ``no_args_is_help`` prints go through too, unchanged:
    they hold no control character.  The message itself is escaped before click formats it: click
    deletes the ``ESC [ ... m`` parts of what it prints anywhere but on a terminal whose colour is
    on, and the user is to see the whole value they typed."""
    show = getattr(error, "show", None)
    if not callable(show) or getattr(error, "_shown_safely", False):
        return
    message = getattr(error, "message", None)
    if isinstance(message, str):  # (line by line: no_args_is_help's message is the help)
        error.message = _shown_lines(message)  # type: ignore[attr-defined]

    def show_safely(file: TextIO | None = None) -> None:
        held = io.StringIO()
        show(held)
        out = sys.stderr if file is None else file
        if out is not None:  # (None: started with stderr closed)
            with suppress(OSError, ValueError):  # a broken stderr leaves the exit code 2
                typer.echo(_shown_lines(held.getvalue()), file=out, nl=False)

    setattr(error, "show", show_safely)  # noqa: B010 (mypy refuses to assign to a method)
    setattr(error, "_shown_safely", True)  # noqa: B010 (a nested group's error is seen again)


def interrupted() -> typer.Exit:
    """Ctrl-C: say so on one line (a closed stderr drops it) and end with `EXIT_INTERRUPTED`."""
    with _guarded_stderr():
        warn("interrupted")
    return typer.Exit(EXIT_INTERRUPTED)


class Group(TyperGroup):
    """A typer command group whose errors reach the user as the rest of the tool's output does.

    Typer parses the command line and shows usage errors outside any command's `handle_errors`:
    here they are shown through `terminal` (`_show_safely`), and Ctrl-C while the arguments are
    parsed (typer would exit 130 without a word) says "interrupted" as it does everywhere else.
    Parsing the group's own options is `make_context`; finding the command, parsing its arguments
    and running it is `invoke`, so a nested group is covered by the outermost one."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt:
            raise interrupted() from None
        except Exception as e:
            _show_safely(e)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # the command's handle_errors had not started (or had ended)
            raise interrupted() from None
        except Exception as e:
            _show_safely(e)
            raise


class _App(typer.Typer):
    """typer.Typer whose commands are `Command`s unless they ask for another class."""

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kw: Any) -> Any:
        return super().command(name, cls=cls or Command, **kw)


def typer_app(**settings: Any) -> typer.Typer:
    """A typer app or command group with the settings all of ours share: help when run bare,
    -h as well as --help, no Rich markup in help texts, no pretty exception panels (errors
    reach the user through `handle_errors`), help and value errors in the tool's words
    (`Command`), usage errors shown safely and Ctrl-C said while parsing (`Group`).  `settings`:
    the rest of typer.Typer's arguments."""
    settings.setdefault("cls", Group)
    return _App(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the final flush at exit meets no closed pipe."""
    _silence(sys.stdout)


def _silence(stream: TextIO | None) -> None:
    """Point a standard stream's file descriptor at the null device: what is still buffered, and
    the interpreter's last flush at exit, go nowhere instead of failing (Python exits 120 when
    that flush fails)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())  # type: ignore[union-attr]
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests, embedding)
        pass


class _DroppingStderr:
    """``sys.stderr`` while a command runs: a line that cannot be written (stderr closed with
    ``2>&-``, a reader gone: EPIPE, a full disk) is dropped, and so is every later one.  Warnings
    are a courtesy: losing them must change neither the exit code nor the report."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is not None:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._drop()
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._drop()

    def isatty(self) -> bool:
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        # No ``buffer``: a writer that finds it (click's echo) would go round this guard.
        if self._stream is None or name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _drop(self) -> None:
        _silence(self._stream)
        self._stream = None


@contextmanager
def _guarded_stderr() -> Iterator[None]:
    if isinstance(sys.stderr, _DroppingStderr):
        yield
        return
    original = sys.stderr
    sys.stderr = _DroppingStderr(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stderr = original


def warn(message: str) -> None:
    """One line on stderr, prefixed with the tool's name; the file names and log text the message
    quotes are shown, never interpreted by the terminal (`render.safe.terminal`), and a newline
    in them cannot break the line."""
    from bes_logdiag.render.safe import terminal

    sys.stderr.write(f"bes-logdiag: {terminal(message)}\n")


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
        except KeyboardInterrupt:
            # Nothing is left half-written: the report goes out whole or not at all (`output_stream`).
            raise interrupted() from None
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
) -> ScanConfig:
    """Check the shared options and build the core's config; bad values are usage errors.  The
    output (``-o`` FILE, or stdout when None) is checked here, before any log is read
    (`check_output`); ``protect``: other files it must not overwrite (a ``--baseline``)."""
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
    )


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
    import io

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
            warn(f"{s.path}: {'partly skipped' if s.partial else 'skipped'}: {s.reason}")
        for note in report.notes:
            warn(note)
    return report


def parse_times(since: Optional[str], until: Optional[str]) -> tuple[When | None, When | None]:
    """``--since`` and ``--until`` checked before any log is read; placed in time by `place_times`."""
    from bes_logdiag.when import parse_when

    parsed: list[When | None] = []
    for text, option in ((since, "--since"), (until, "--until")):
        try:
            parsed.append(None if text is None else parse_when(text, option, end=option == "--until"))
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint=option) from e
    return parsed[0], parsed[1]


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
    return times[0], times[1], notes


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


STDOUT_CLOSED = "standard output is closed: give -o FILE to write the report to a file"


def check_output(output: Optional[Path], inputs: list[str]) -> None:
    """Before anything is read: stdout is open, or the ``-o`` file can be written and is no input
    (`settings.check_output_path`).  A refusal is a UsageError (one line, exit 2)."""
    from bes_logdiag.errors import UsageError
    from bes_logdiag.settings import check_output_path

    if output is None:
        if sys.stdout is None:  # started with stdout closed (``>&-``)
            raise UsageError(STDOUT_CLOSED)
        return
    try:
        check_output_path(output, inputs)
    except ValueError as e:
        raise UsageError(f"-o {output}: {e}") from e


OUTPUT_ERRORS = "bes-logdiag-replace"
"""The encoding error handler of every output: what cannot be encoded becomes U+FFFD (or ``?``
where the encoding lacks it).  A file name that is not valid UTF-8 reaches Python as lone
surrogates (PEP 383, ``os.fsdecode``); they cannot be encoded, and the report shows the name with
U+FFFD where its bad bytes were, as valid UTF-8 (JSON included) rather than an error."""


def _replace_unencodable(e: UnicodeError) -> tuple[bytes, int]:
    # Bytes, not text: the UTF-8 encoder takes only ASCII text back from an error handler.
    if not isinstance(e, UnicodeEncodeError):
        raise e
    try:
        mark = "\ufffd".encode(e.encoding)
    except (UnicodeError, LookupError):
        mark = "?".encode(e.encoding)
    return mark * (e.end - e.start), e.end


def _output_errors() -> str:
    try:
        codecs.lookup_error(OUTPUT_ERRORS)
    except LookupError:
        codecs.register_error(OUTPUT_ERRORS, _replace_unencodable)
    return OUTPUT_ERRORS


@contextmanager
def output_stream(path: Optional[Path]) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file (UTF-8); see `check_output` for what is refused up front.

    The file is written whole or not at all: into a temporary file in the same folder, flushed to
    disk, then renamed over the target (``os.replace``: atomic on POSIX and Windows).  An error or
    Ctrl-C removes the temporary and leaves the target as it was; two runs writing the same file
    never mix, the last to finish wins.  A device or pipe (``-o /dev/null``) is written directly.

    A reader that stops early (``| head``) ends the output quietly; the exit code still says
    what was found.
    """
    from bes_logdiag.errors import UsageError

    if path is None:
        if sys.stdout is None:
            raise UsageError(STDOUT_CLOSED)
        with suppress(AttributeError, ValueError, OSError):  # not a TextIOWrapper (embedding)
            sys.stdout.reconfigure(errors=_output_errors())  # type: ignore[union-attr]
        try:
            yield sys.stdout
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as e:  # a full disk behind a redirect, a closed terminal
            _silence_stdout()
            raise UsageError(f"cannot write the output: {e.strerror or e}") from e
        return
    target = os.path.realpath(path)  # -o a link: its target gets the report, the link stays
    try:
        if os.path.exists(target) and not os.path.isfile(target):
            with open(target, "w", encoding="utf-8", errors=_output_errors(), newline="") as f:
                yield f
            return
        with _replacing(target) as f:
            yield f
    except OSError as e:
        raise UsageError(f"{path}: cannot write the output: {e.strerror or e}") from e


@contextmanager
def _replacing(target: str) -> Iterator[TextIO]:
    """A temporary file beside `target`, renamed over it once written and flushed to disk."""
    folder, name = os.path.split(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    try:
        with open(fd, "w", encoding="utf-8", errors=_output_errors(), newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, _new_file_mode(target))
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _new_file_mode(target: str) -> int:
    """The permissions the report gets: the replaced file's, else a new file's (0o666 less the
    umask; mkstemp's temporary is 0o600)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
