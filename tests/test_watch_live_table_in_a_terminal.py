"""``watch`` on a real terminal (a pseudo-terminal): the live table is drawn and redrawn in place as
the logs grow, and Ctrl-C (SIGINT) ends it cleanly: the cursor back, one line, exit code 130."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import ctrl_c_as_in_a_terminal
from test_watch_support import IAN, T0, day_begun, user

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


class Terminal:
    """``python -m bes_logdiag ARGS`` with stdout and stderr on a pseudo-terminal of ``columns``."""

    def __init__(self, *args: object, columns: int = 160, env: dict[str, str] | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        drop = {"NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"}
        env = {
            **{k: v for k, v in os.environ.items() if k not in drop},
            "TERM": "xterm-256color",
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bes_logdiag", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=env,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
        os.close(slave)
        self.received = bytearray()

    def read_until(self, wanted: bytes, seconds: float = 30) -> bool:
        """Read what the terminal receives until `wanted` is among it (True) or the program ends."""
        import select

        end = time.monotonic() + seconds
        while wanted not in self.received:
            ready, _, _ = select.select([self.master], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise AssertionError(f"{wanted!r} not shown: {bytes(self.received[-2000:])!r}")
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the program closed the terminal
                return False
            if not data:
                return False
            self.received += data
        return True

    def close(self) -> int:
        while self.read_until(b"\0never\0"):
            pass
        os.close(self.master)
        return self.proc.wait(timeout=30)


def plain(received: bytes) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", received.decode("utf-8", errors="replace"))


def test_the_live_table_is_drawn_in_place_and_ends_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    ian = user(IAN, T0)
    bes.step(ian, "etp")
    term = Terminal("watch", bes.root, "--interval", "0.1s")
    try:
        assert term.read_until(b"etp_received")
        drawn = len(term.received)
        bes.step(ian, "key")
        assert term.read_until(b"key_accept_sent")  # (the step expected next, in its column)
        redraw = bytes(term.received[drawn:])
    finally:
        term.proc.send_signal(signal.SIGINT)
        code = term.close()
    received = bytes(term.received)
    assert code == 130
    shown = plain(received)
    assert "Last milestone" in shown and IAN[0] in shown and "in_progress" in shown
    # Drawn in place: the redraw moves the cursor up over the table instead of scrolling on.
    assert b"\x1b[1A" in redraw and b"\x1b[2K" in redraw
    # The cursor hidden while the table is up, shown again at the end; one line, no traceback.
    assert b"\x1b[?25l" in received and received.rfind(b"\x1b[?25h") > received.rfind(b"\x1b[?25l")
    assert shown.rstrip().endswith("bes-logdiag: interrupted")
    assert "Traceback" not in shown


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_the_live_table_ends_cleanly_on_sigterm_and_sighup_too(tmp_path: Path, signum: int) -> None:
    """``timeout 30m bes-logdiag watch Logs/`` sends SIGTERM, a closed terminal SIGHUP: the program
    died at once, the terminal left without its cursor."""
    bes = day_begun(tmp_path)
    bes.step(user(IAN, T0), "etp")
    term = Terminal("watch", bes.root, "--interval", "0.1s")
    try:
        assert term.read_until(b"etp_received")
    finally:
        term.proc.send_signal(signum)
        code = term.close()
    received = bytes(term.received)
    assert code == 128 + signum
    assert received.rfind(b"\x1b[?25h") > received.rfind(b"\x1b[?25l") >= 0
    shown = plain(received)
    assert shown.rstrip().endswith(f"bes-logdiag: terminated ({signal.Signals(signum).name})")
    assert "Traceback" not in shown


def test_no_color_on_a_terminal_gets_lines_not_the_table(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    term = Terminal("watch", bes.root, "--interval", "0.1s", "--timeout", "0.5s", env={"NO_COLOR": "1"})
    term.proc.wait(timeout=30)
    term.close()
    assert term.proc.returncode == 3
    assert b"\x1b[" not in term.received
    assert b"Last milestone" not in term.received
