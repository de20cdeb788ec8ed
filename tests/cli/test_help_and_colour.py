"""Help and messages in the tool's words (no typer or pydantic notation: ``<list[str]>``,
``{PATH}``, "Value error,"), and ``--color auto|always|never`` beside NO_COLOR and FORCE_COLOR."""

from __future__ import annotations

import re
import sys

import pytest
import typer
from builders import SAMPLE_LOGS, run_cli, run_in_terminal

from bes_logdiag.cli import app
from bes_logdiag.cli.common import COLOR_CHOICE, Color, plain_message

LEAKS = re.compile(r"<[^<>\s]*>|\{[A-Z]+\}|list\[|Value error|Input should")


def every_command() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:  # type: ignore[no-untyped-def]
        paths.append(path)
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(None):
                walk(cmd.get_command(None, name), [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("command", every_command(), ids=lambda c: " ".join(c) or "bes-logdiag")
def test_help_shows_no_typer_notation(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert not LEAKS.findall(result.stdout), LEAKS.findall(result.stdout)


def test_scan_usage_and_arguments_read_plainly() -> None:
    text = run_cli("scan", "--help").stdout
    assert text.startswith("Usage: bes-logdiag scan [OPTIONS] PATH...\n")
    assert "\n  PATH...  Log files" in text
    assert "--format [table|json|" in text and "--color [auto|always|never]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "Invalid value for '--format' / '-f': 'yaml' is not one of 'table', 'json',"),
        (["--fail-on", "sometimes"], "Invalid value for '--fail-on': 'sometimes' is not one of 'stalled',"),
        (
            ["--color", "rainbow"],
            "Invalid value for '--color': 'rainbow' is not one of 'auto', 'always', 'never'.",
        ),
        (["--jobs", "many"], "Invalid value for '--jobs' / '-j': give a whole number"),
        (["--year", "last"], "Invalid value for '--year': give a whole number"),
        (["--max-expand", "lots"], "Invalid value for '--max-expand': give a number"),
    ],
)
def test_a_bad_value_is_said_plainly(args: list[str], message: str) -> None:
    result = run_cli("scan", SAMPLE_LOGS, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Value error" not in result.stderr and "Input should" not in result.stderr


def test_plain_message_rewrites_what_typer_passes_on() -> None:
    assert plain_message("Value error, 'x' is not one of 'a', 'b'.") == "'x' is not one of 'a', 'b'."
    assert plain_message("Input should be greater than or equal to 0") == "must be greater than or equal to 0"
    assert plain_message("'7 parsecs' is not a date or time") == "'7 parsecs' is not a date or time"


@pytest.mark.parametrize("color", list(Color), ids=lambda c: c.value)
def test_every_color_choice_is_mapped(color: Color) -> None:
    assert color in COLOR_CHOICE


def scan_table(*args: str, env: dict[str, str] | None = None) -> str:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--jobs", "1", *args, env=env)
    assert result.exit_code == 1, result.stderr
    return result.stdout


@pytest.fixture
def no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_colour_env")
def test_a_pipe_gets_colour_only_when_asked() -> None:
    assert "\x1b[" not in scan_table()
    assert "\x1b[" in scan_table("--color", "always")
    assert "\x1b[" in scan_table(env={"FORCE_COLOR": "1"})  # the documented FORCE_COLOR


@pytest.mark.usefixtures("no_colour_env")
def test_never_wins_over_force_color_and_always_over_no_color() -> None:
    assert "\x1b[" not in scan_table("--color", "never", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in scan_table("--color", "always", env={"NO_COLOR": "1"})


def test_color_never_leaves_the_text_as_it_was() -> None:
    assert scan_table("--color", "never") == scan_table()


def run_on_a_terminal(*args: str) -> bytes:
    """``python -m bes_logdiag ARGS`` with stdout and stderr on a pseudo-terminal 120 wide."""
    return run_in_terminal(*args, columns=120)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_on_a_terminal_never_means_no_escape_sequence_at_all() -> None:
    coloured = run_on_a_terminal("scan", str(SAMPLE_LOGS), "--jobs", "1")
    assert b"\x1b[" in coloured
    plain = run_on_a_terminal("scan", str(SAMPLE_LOGS), "--jobs", "1", "--color", "never")
    assert b"\x1b" not in plain  # no colour, no bold, and no progress bar
    assert b"KB13840 Activation stops" in plain  # the 120-column layout: KB titles
