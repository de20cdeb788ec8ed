"""Hostile values on the command line (issue 15): a usage error quotes what the user typed
("Invalid value ...", "No such option: ...", "Got unexpected extra argument(s) ..."), and a value
holding a clear-screen sequence, a window-title OSC, an 8-bit CSI or a right-to-left override
(a path pasted from a hostile listing, a mistyped option) is shown as escapes, never obeyed: with
CliRunner and on a real pseudo-terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from builders import run_cli, run_in_terminal
from test_terminal_text import RAW, RAW_BYTES

from bes_logdiag.render.safe import terminal

HOSTILE = "\x1b[2J\x1b[3J\x1b]0;owned\x07x\u202egpj.exe\x9b31m"
SHOWN = terminal(HOSTILE)


def cases(folder: Path) -> list[tuple[list[str], str]]:
    """(arguments, the start of what the error says) for each place a value reaches a message."""
    path = str(folder / f"users{HOSTILE}.csv")
    return [
        (["scan", "--format", HOSTILE, str(folder)], "Invalid value for '--format'"),
        (["scan", "--color", HOSTILE, str(folder)], "Invalid value for '--color'"),
        (["scan", f"--fo{HOSTILE}", str(folder)], "No such option: --fo"),
        (["scan", "--users", path, str(folder)], "Invalid value for --users"),
        (["scan", "--users", f"BBPROD01={path}", str(folder)], "Invalid value for --users"),
        (["scan", "--since", HOSTILE, str(folder)], "Invalid value for --since"),
        (["scan", "--stall-after", HOSTILE, str(folder)], "Invalid value for --stall-after"),
        (
            ["redact", str(folder), "-o", str(folder / "out"), "--key", str(folder / "k"), "--users", path],
            "Invalid value for --users",
        ),
        (["kb", "KB04533", HOSTILE], "Got unexpected extra argument"),
        ([HOSTILE], "No such command"),
        ([f"--{HOSTILE}"], "No such option: --"),
        (["presence", "check", f"--{HOSTILE}"], "No such option: --"),
    ]


def test_a_usage_error_shows_the_value_it_quotes(tmp_path: Path) -> None:
    for args, says in cases(tmp_path):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        for c in RAW:
            assert c not in result.stderr, (args, c, result.stderr)
        [error] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert error.startswith(f"Error: {says}"), (args, error)
        assert SHOWN in error, (args, error)  # the whole value, escaped: no part of it deleted
        assert result.stdout == ""


def test_plain_usage_errors_and_the_help_read_as_before() -> None:
    """Text with nothing to show is left as it was: quotes, the usage line, the help's layout."""
    result = run_cli("scan", "--format", "xml", ".")
    assert result.stderr.splitlines()[0].startswith("Usage: ")
    assert result.stderr.splitlines()[-1].startswith(
        "Error: Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'json', "
    )
    bare = run_cli()
    assert "\\n" not in bare.stderr and "\nCommands:\n" in bare.stderr
    assert "\n  scan " in bare.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_a_real_terminal_receives_the_usage_errors_escaped(tmp_path: Path) -> None:
    for args, says in cases(tmp_path):
        received = run_in_terminal(*args)
        for raw in RAW_BYTES:
            assert raw not in received, (args, raw, received)
        assert f"Error: {says}".encode() in received, (args, received)
        assert SHOWN.encode() in received, (args, received)
