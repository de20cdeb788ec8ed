"""Ctrl-C (issue 15): reading stops within a second on either engine, the CLI says "interrupted"
on one line and exits 130, and no ``-o`` report, whole or partial, nor its temporary is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, bes_line, ctrl_c_as_in_a_terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")

FILES = 8
FILE_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several ~20 MB BES logs, written fast: a sample log repeated."""
    folder = tmp_path_factory.mktemp("big")
    block = (SAMPLE_LOGS / "BBPROD01" / "20231230" / "BBPROD01_MAGT_01_20231230_0001.txt").read_bytes()
    body = block * (FILE_BYTES // len(block))
    for n in range(FILES):
        # (a first line of its own: files with the same bytes would count once)
        first = bes_line(f"12/30 00:00:{n:02d}.000", f"file {n}") + "\n"
        (folder / f"BBPROD01_MAGT_01_20231230_000{n + 1}.txt").write_bytes(first.encode() + body)
    return folder


@pytest.mark.parametrize("to_group", [False, True], ids=["kill-INT", "terminal"])
@pytest.mark.parametrize("engine", ["hyperscan", "python"])
def test_ctrl_c_stops_reading_at_once(big_folder: Path, tmp_path: Path, engine: str, to_group: bool) -> None:
    """``to_group``: Ctrl-C at a terminal signals the whole process group, worker processes too."""
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    report = tmp_path / "report.json"
    env = {**os.environ, "BES_LOGDIAG_ENGINE": engine}
    cmd = [sys.executable, "-m", "bes_logdiag", "scan", str(big_folder), "--jobs", "2", "-q"]
    child = subprocess.Popen(
        [*cmd, "--format", "json", "-o", str(report)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    time.sleep(1.0 if engine == "python" else 0.5)  # (spawned workers take a moment to start)
    assert child.poll() is None, child.communicate()
    if to_group:
        os.killpg(child.pid, signal.SIGINT)
    else:
        child.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    elapsed = time.monotonic() - sent
    assert child.returncode == 130, err.decode()
    assert err.decode() == "bes-logdiag: interrupted\n"
    assert out == b""
    assert elapsed < 2, f"{elapsed:.1f} s from Ctrl-C to exit"
    assert list(tmp_path.iterdir()) == []  # neither the report nor its temporary
