"""The program's entry point (``python -m bes_logdiag`` and the ``bes-logdiag`` script).

Ctrl-C while the command line is still being imported (typer, the core: a few tenths of a
second, longer on a loaded host) must end the run as Ctrl-C does later, with exit code 130 and
one line, not a traceback, nor be swallowed by a destructor that happened to be running (which
let the run go on).  Until the imports are done an interrupt is only noted; from then on the
command line says it (`cli.main`, `cli.common.Group`, `cli.common.handle_errors`).  One raised
while a destructor runs, where Python only prints it and goes on, is raised again
(`_raise_again`)."""

from __future__ import annotations

import _thread
import signal
import sys


def _raise_again(unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook``: a Ctrl-C that came while an object was freed (a compiled pattern,
    as a module is imported) was raised inside its destructor, which cannot pass it on.  It is
    signalled again, from another thread, to be raised where the run is once this has returned,
    not printed as a traceback.  (Signalled from here, the handler would run at once, in here.)"""
    if issubclass(unraisable.exc_type, KeyboardInterrupt) and not sys.is_finalizing():
        _thread.start_new_thread(_thread.interrupt_main, (signal.SIGINT,))
        return
    sys.__unraisablehook__(unraisable)


def main() -> None:
    sys.unraisablehook = _raise_again
    pending: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # (a shell's background job ignores Ctrl-C: so do we)
        signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        from bes_logdiag.cli import main as run_cli
    finally:
        signal.signal(signal.SIGINT, previous)
    _end_on(TERMINATING)
    try:
        if pending:
            raise KeyboardInterrupt
        run_cli()  # (which says "interrupted" itself from the moment it runs)
    except KeyboardInterrupt as e:
        from bes_logdiag.cli.common import interrupted  # (imported above: the command line's own)

        raise SystemExit(interrupted(e).exit_code) from None
    finally:
        _keep_the_exit_code()


TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that end a run as Ctrl-C does (`Terminated`): ``timeout``, a service manager, a
terminal closed.  Left to kill at once, they left the live table's terminal without its cursor."""


def _end_on(signals: tuple[int, ...]) -> None:
    from bes_logdiag.errors import Terminated

    def terminate(signum: int, frame: object) -> None:
        raise Terminated(signum)

    for signum in signals:
        if signal.getsignal(signum) is signal.SIG_DFL:  # (one ignored, nohup's SIGHUP, stays so)
            signal.signal(signum, terminate)


def _keep_the_exit_code() -> None:
    """The exit code is the one the run chose (130 after Ctrl-C).  CPython notes a Ctrl-C that
    left code it ran from a string (a dataclass or named tuple being made as a module is imported
    runs such code), and at the end of ``python -m bes_logdiag`` kills the process with SIGINT for
    it, though it was handled: the caller saw -2, not 130 (a shell shows 130 for both).  Running
    an empty string clears that note."""
    exec("")


if __name__ == "__main__":
    main()
