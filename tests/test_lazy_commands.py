"""Command groups imported on demand (``cli.LAZY_GROUPS``): a module that fails to import is an
internal error with the usual one line and exit code 2, never "No such command"."""

from __future__ import annotations

import pytest
from builders import run_cli

from bes_logdiag import cli


def test_a_group_that_fails_to_import_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.LAZY_GROUPS, "broken", "bes_logdiag.no_such_module")
    result = run_cli("broken", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "bes-logdiag: error: internal error: ModuleNotFoundError: No module named "
        "'bes_logdiag.no_such_module' (run with --debug for details)\n"
    )


def test_help_names_a_group_that_fails_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(cli.LAZY_GROUPS, "broken", "bes_logdiag.no_such_module")
    result = run_cli("--help")
    assert result.exit_code == 2
    assert "No module named 'bes_logdiag.no_such_module'" in result.stderr


def test_an_unknown_command_is_still_a_usage_error() -> None:
    result = run_cli("no-such-command")
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.stderr


@pytest.mark.parametrize("group", sorted(cli.LAZY_GROUPS))
def test_every_lazy_group_loads_and_has_help(group: str) -> None:
    result = run_cli(group, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Example: bes-logdiag" in result.stdout
