"""The error classes: one base, one subclass per stage; every message starts with the file it concerns."""

from __future__ import annotations


class BesLogdiagError(Exception):
    """Base of every error bes-logdiag reports to a user as one line (exit code 2)."""


class InputError(BesLogdiagError):
    """A path, file or archive that cannot be read at all."""


class PatternError(BesLogdiagError):
    """A pattern file or pattern that cannot be loaded or compiled."""


class UsageError(BesLogdiagError):
    """A command-line value that makes no sense (bad duration, unknown format, ...)."""


class ConfigError(BesLogdiagError):
    """A BEMS configuration file that cannot be parsed."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``timeout``, a service stop, a closed terminal): ended as Ctrl-C ends a
    run (the workers stopped, the live table put away and the cursor shown again), with exit code
    128 plus the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def first_line(e: BaseException) -> str:
    """The first line of an exception's message ("" when it has none): what a one-line message
    quotes of an error from a library (zlib, tarfile, the OS)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def reason_of(e: BaseException) -> str:
    """Why reading broke off, in a line: the error's first line, else its type's name."""
    return first_line(e) or type(e).__name__
