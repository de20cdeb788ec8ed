"""The progress bar: on stderr, and only when a person is watching it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bes_logdiag.model import FileStats
    from bes_logdiag.parallel import Progress


def progress_wanted(
    quiet: bool, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """A bar only on a terminal: never with ``--quiet``, when stderr is piped, or with NO_COLOR set."""
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    if quiet or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class BarProgress:
    """Bytes read of the total, files done, rate and time left, drawn by rich on stderr."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._bar = Progress(
            # No data in the bar today (counts only); markup off all the same, so that a file
            # name added to a column later is not read as markup (it would also need `terminal`).
            TextColumn("scanning", markup=False),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[done]}/{task.fields[files]} files", markup=False),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task = self._bar.add_task("scan", total=None, files=0, done=0)
        self._done = 0

    def start(self, files: int, total_bytes: int) -> None:
        self._bar.update(self._task, total=total_bytes or None, files=files)
        self._bar.start()

    def advance(self, stats: FileStats, size: int) -> None:
        self._done += 1
        self._bar.update(self._task, advance=size, done=self._done)

    def stop(self) -> None:
        self._bar.stop()


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Progress | None]:
    """The bar when `progress_wanted`, else None; the bar is cleared when the scan ends or fails."""
    if not progress_wanted(quiet):
        yield None
        return
    bar = BarProgress(sys.stderr)
    try:
        yield bar
    finally:
        bar.stop()
