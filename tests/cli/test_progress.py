"""The progress bar: counts every byte and file once, and shows only to a person at a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS

from bes_logdiag.cli.progress import BarProgress, progress_wanted
from bes_logdiag.model import FileStats
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Recorder:
    def __init__(self) -> None:
        self.started: list[tuple[int, int]] = []
        self.done: list[tuple[str, int]] = []

    def start(self, files: int, total_bytes: int) -> None:
        self.started.append((files, total_bytes))

    def advance(self, stats: FileStats, size: int) -> None:
        self.done.append((stats.path, size))


def test_the_scan_reports_every_file_once_and_all_the_bytes() -> None:
    rec = Recorder()
    report = run_scan(ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=2), rec)
    ignored = {i.path for i in report.inputs.ignored}  # other services' logs: never read
    assert ignored and all("_CTRL_" in p or "_DISP_" in p or "_ROUT_" in p for p in ignored)
    files = sorted(p for p in SAMPLE_LOGS.rglob("*") if p.is_file() and str(p) not in ignored)
    assert rec.started == [(len(files), sum(p.stat().st_size for p in files))]
    assert sorted(path for path, _ in rec.done) == sorted(str(p) for p in files)
    assert sum(size for _, size in rec.done) == rec.started[0][1]


@pytest.mark.parametrize(
    ("quiet", "stream", "env", "wanted"),
    [
        (False, Terminal(), {}, True),
        (True, Terminal(), {}, False),
        (False, io.StringIO(), {}, False),
        (False, Terminal(), {"NO_COLOR": "1"}, False),
        (False, Terminal(), {"TERM": "dumb"}, False),
    ],
)
def test_a_bar_only_on_a_terminal(
    quiet: bool, stream: io.StringIO, env: dict[str, str], wanted: bool
) -> None:
    assert progress_wanted(quiet, stream, env) is wanted


def test_the_bar_shows_bytes_and_files_and_clears_itself() -> None:
    out = Terminal()
    bar = BarProgress(out)  # type: ignore[arg-type]
    bar.start(2, 2048)
    bar.advance(FileStats(path="a", info=None), 1024)  # type: ignore[arg-type]
    bar.stop()
    assert "1/2 files" in out.getvalue()


def test_piped_stderr_gets_no_bar(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bes_logdiag",
            "scan",
            str(SAMPLE_LOGS),
            "-f",
            "json",
            "-o",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "scanning" not in result.stderr and "\x1b[" not in result.stderr
