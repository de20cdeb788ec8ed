"""Shared fixtures: test data that fails loudly when missing, and builders for small BES logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bes_logdiag.patterns import Library, load_library

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SAMPLE_LOGS = ROOT / "sample_logs"


def data_file(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        raise FileNotFoundError(f"test data missing: {path}")
    return path


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()
