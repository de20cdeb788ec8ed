"""``scan -`` on a terminal: a hint to paste and end with Ctrl-D, and no progress bar drawn over the
pasted lines.  Run on a real pseudo-terminal: only there is stdin a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from builders import data_file

from bes_logdiag.cli.common import PASTE_HINT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def _read_until(fd: int, needle: bytes, received: bytearray, timeout: float = 30) -> None:
    import select

    deadline = time.monotonic() + timeout
    while needle not in received:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"{needle!r} never came: {bytes(received)!r}")
        try:
            received += os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            raise AssertionError(f"{needle!r} never came: {bytes(received)!r}") from None


def test_stdin_from_a_terminal_gets_a_hint_and_no_progress_bar() -> None:
    import pty

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR", "COLUMNS"}}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bes_logdiag", "scan", "-", "--year", "2010", "-f", "csv"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    received = bytearray()
    try:
        _read_until(master, b"Ctrl-D", received)  # the hint comes before anything is pasted
        for line in data_file("seed_excerpt.txt").read_text(encoding="utf-8").splitlines():
            os.write(master, line.encode() + b"\n")
        os.write(master, b"\x04")  # Ctrl-D on a line of its own: the end of the input
        out, _ = proc.communicate(timeout=60)
        try:
            while chunk := os.read(master, 65536):
                received += chunk
        except OSError:
            pass
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, bytes(received)
    assert "ian.dundas@example.net" in out.decode()  # the pasted activation was read
    shown = bytes(received).decode("utf-8", "replace")
    assert f"bes-logdiag: {PASTE_HINT}" in shown and "paste" in PASTE_HINT
    assert "scanning" not in shown and "\x1b[?25l" not in shown  # no bar, no hidden cursor
