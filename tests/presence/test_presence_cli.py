"""Meta tests for the presence commands: help with examples, every format, errors as one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from bes_logdiag.presence import rules as rules_module
from bes_logdiag.presence.render import OutputFormat

Data = Callable[[str], Path]
Invoke = Callable[..., Result]
COMMANDS = ["check", "whitelist"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Example: bes-logdiag presence {command} " in result.stdout


def test_group_without_arguments_shows_help(invoke: Invoke) -> None:
    result = invoke()
    assert "Usage:" in result.output
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("output_format", list(OutputFormat))
def test_every_format_renders(data: Data, invoke: Invoke, output_format: OutputFormat) -> None:
    check = invoke("check", str(data("clean.config")), "--format", output_format.value)
    whitelist = invoke("whitelist", "a.com", "--format", output_format.value)
    assert (check.exit_code, whitelist.exit_code) == (0, 0)
    assert "\x1b[" not in check.stdout + whitelist.stdout
    if output_format is OutputFormat.JSON:
        assert set(json.loads(check.stdout)) == {"findings", "capacity"}
        assert set(json.loads(whitelist.stdout)) == {"domains", "findings"}
    else:
        assert "Subscription capacity" in check.stdout
        assert whitelist.stdout == "a.com\n"


def test_unknown_format_is_a_usage_error(data: Data, invoke: Invoke) -> None:
    result = invoke("check", str(data("clean.config")), "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["check", "x.config"], ["whitelist", "a.com"]])
def test_broken_rules_file_is_one_line_exit_2(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    broken = tmp_path / "presence.toml"
    broken.write_text("schema = [", encoding="utf-8")
    monkeypatch.setattr(rules_module, "presence_rules_path", lambda: broken)
    result = invoke(*command)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: {broken}: invalid TOML: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
