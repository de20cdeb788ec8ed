"""Shared fixtures; paths and builders live in helpers.py (importable from every test folder)."""

from __future__ import annotations

import pytest

from bes_logdiag.library import Library, load_library


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()
