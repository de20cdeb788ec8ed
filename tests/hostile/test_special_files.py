"""Named pipes, process substitutions and devices (issue 15): a pipe given by name is read as a
stream (``bes-logdiag scan <(zcat x.gz)``); one found in a folder is skipped with a reason, never
opened (it would wait for a writer); a device given by name (/dev/zero never ends) is refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and /dev are POSIX")

LOG = SAMPLE_LOGS / "BBPROD01" / "20231230" / "BBPROD01_MAGT_01_20231230_0001.txt"
USER = "anna.berg@example.com"
"""A user whose activation that MAGT log holds."""


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe that a thread fills with the sample log once a reader opens it."""
    path = tmp_path / "BBPROD01_MAGT_01_20231230_0001.txt"
    os.mkfifo(path)

    def write() -> None:
        with open(path, "wb") as f:  # (blocks until the scan opens the pipe)
            f.write(LOG.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield path
    # Release a writer the scan never read to the end.  Opened without waiting: the writer may
    # close the pipe between is_alive() and this open, and a blocking open would then wait for
    # a writer forever (it hung a loaded CI run).
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as f:
        deadline = time.monotonic() + 5
        while writer.is_alive() and time.monotonic() < deadline:
            try:
                f.read(1 << 16)
            except BlockingIOError:
                time.sleep(0.01)
    writer.join(5)


def test_a_named_pipe_given_by_name_is_read(fifo: Path) -> None:
    result = run_cli("scan", fifo, "--format", "json", "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"]["skipped"] == []
    assert [a["email"] for a in report["activations"]] == [USER]
    assert report["activations"][0]["server"] == "BBPROD01"  # its name is a BES name


def test_a_process_substitution_is_read(tmp_path: Path) -> None:
    shutil.copy(LOG, tmp_path / "log.txt")
    subprocess.run(["gzip", str(tmp_path / "log.txt")], check=True)
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    cmd = f'"{sys.executable}" -m bes_logdiag scan <(cat log.txt.gz) --year 2023 --format json'
    done = subprocess.run([bash, "-c", cmd], cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr.decode()
    report = json.loads(done.stdout)
    assert [a["email"] for a in report["activations"]] == [USER]
    assert b"no such file" not in done.stderr


def test_a_named_pipe_in_a_folder_is_skipped_unopened(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(LOG, logs / LOG.name)
    os.mkfifo(logs / "pipe")  # no writer: opening it would hang the scan
    result = run_cli("scan", logs, "--format", "json", "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"]["skipped"] == [
        {"path": str(logs / "pipe"), "reason": "a named pipe, not a file", "partial": False}
    ]
    assert [a["email"] for a in report["activations"]] == [USER]
    assert f"bes-logdiag: {logs / 'pipe'}: skipped: a named pipe, not a file\n" in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_given_by_name_is_refused() -> None:
    result = run_cli("scan", "/dev/zero")
    assert result.exit_code == 2
    assert result.stderr == (
        "bes-logdiag: error: nothing could be read "
        "(/dev/zero: a device, not a file (give - to read standard input))\n"
    )
