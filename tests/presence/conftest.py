"""Shared fixtures for the presence tests: data files, the loaded rules and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import line_of as find_line
from builders import presence_check, presence_cli
from typer.testing import Result

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
    """`invoke(*args, input=None)`: `bes-logdiag presence ARGS` through CliRunner."""
    return presence_cli


@pytest.fixture
def check_json() -> Callable[..., tuple[Result, dict[str, Any]]]:
    """`check_json(*paths)`: run `check --format json` and parse stdout back."""
    return presence_check


@pytest.fixture
def line_of() -> Callable[[Path, str], int]:
    """`line_of(path, needle)`: 1-based number of the first line of `path` containing `needle`."""
    return find_line
