"""Where the command line's output goes: warnings on stderr that never break a run (a closed or
broken stderr drops them), stdout, and ``-o`` files written whole or not at all."""

from __future__ import annotations

import codecs
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Optional, TextIO


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


STDOUT_CLOSED = "standard output is closed: give -o FILE to write the report to a file"
NO_STDOUT = "standard output is closed: nowhere to write"
"""(for the commands that write only to stdout)"""


def check_output(output: Optional[Path], inputs: list[str], option: str = "-o") -> None:
    """Before anything is read: stdout is open, or the ``-o`` file (or ``option``'s) can be
    written and is no input (`settings.check_output_path`).  A refusal is a UsageError (one
    line, exit 2)."""
    from bes_logdiag.errors import UsageError
    from bes_logdiag.settings import check_output_path

    if output is None:
        if sys.stdout is None:  # started with stdout closed (``>&-``)
            raise UsageError(STDOUT_CLOSED)
        return
    try:
        check_output_path(output, inputs)
    except ValueError as e:
        raise UsageError(f"{option} {output}: {e}") from e


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


def output_errors() -> str:
    try:
        codecs.lookup_error(OUTPUT_ERRORS)
    except LookupError:
        codecs.register_error(OUTPUT_ERRORS, _replace_unencodable)
    return OUTPUT_ERRORS


@contextmanager
def output_stream(path: Optional[Path], *, closed: str = STDOUT_CLOSED) -> Iterator[TextIO]:
    """stdout, or the ``--output`` file (UTF-8); see `check_output` for what is refused up front.

    The file is written whole or not at all: into a temporary file in the same folder, flushed to
    disk, then renamed over the target (``os.replace``: atomic on POSIX and Windows).  An error or
    Ctrl-C removes the temporary and leaves the target as it was; two runs writing the same file
    never mix, the last to finish wins.  A device or pipe (``-o /dev/null``) is written directly.

    A reader that stops early (``| head``) ends the output quietly; the exit code still says
    what was found.  ``closed``: what to say when there is no stdout (a command without ``-o``
    says so without pointing to it).
    """
    from bes_logdiag.errors import UsageError

    if path is None:
        if sys.stdout is None:
            raise UsageError(closed)
        with suppress(AttributeError, ValueError, OSError):  # not a TextIOWrapper (embedding)
            sys.stdout.reconfigure(errors=output_errors())  # type: ignore[union-attr]
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
            with open(target, "w", encoding="utf-8", errors=output_errors(), newline="") as f:
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
        with open(fd, "w", encoding="utf-8", errors=output_errors(), newline="") as f:
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
