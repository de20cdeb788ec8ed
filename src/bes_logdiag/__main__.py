"""The program's entry point (``python -m bes_logdiag`` and the ``bes-logdiag`` script).

Ctrl-C while the command line is still being imported (typer, the core: a few tenths of a
second, longer on a loaded host) must end the run as Ctrl-C does later, with exit code 130 and
one line, not a traceback, nor be swallowed by a destructor that happened to be running (which
let the run go on).  Until the imports are done an interrupt is only noted."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    interrupted: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # (a shell's background job ignores Ctrl-C: so do we)
        signal.signal(signal.SIGINT, lambda signum, frame: interrupted.append(signum))
    try:
        from bes_logdiag.cli import main as run_cli
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        sys.stderr.write("bes-logdiag: interrupted\n")
        raise SystemExit(130)
    run_cli()


if __name__ == "__main__":
    main()
