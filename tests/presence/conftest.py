"""Shared fixtures for the presence tests: data files, the loaded rules and a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bes_logdiag.presence.cli import app
from bes_logdiag.presence.rules import PresenceRules, load_presence_rules

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data() -> Callable[[str], Path]:
    """`data(name)`: the path of a file under tests/presence/data; fails loudly when missing."""

    def find(name: str) -> Path:
        path = DATA / name
        if not path.is_file():
            pytest.fail(f"missing test data file: {path}")
        return path

    return find


@pytest.fixture(scope="session")
def rules() -> PresenceRules:
    return load_presence_rules()


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """`invoke(*args, input=None)`: run the presence app through CliRunner."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return run


@pytest.fixture
def check_json(invoke: Callable[..., Result]) -> Callable[..., tuple[Result, dict[str, Any]]]:
    """`check_json(*paths)`: run `check --format json` and parse stdout back."""

    def run(*paths: Path) -> tuple[Result, dict[str, Any]]:
        result = invoke("check", *map(str, paths), "--format", "json")
        assert result.exit_code in (0, 1), result.stderr
        return result, json.loads(result.stdout)

    return run


@pytest.fixture
def line_of() -> Callable[[Path, str], int]:
    """`line_of(path, needle)`: 1-based number of the first line of `path` containing `needle`."""

    def find(path: Path, needle: str) -> int:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if needle in line:
                return number
        raise AssertionError(f"{needle!r} not in {path}")

    return find
