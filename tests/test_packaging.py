"""The wheel carries the pattern library, so an installed tool works from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builders import ROOT


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source checkout")
def test_wheel_contains_the_pattern_library(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("bes_logdiag-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for toml in sorted((ROOT / "patterns").glob("*.toml")):
        assert f"bes_logdiag/patterns/{toml.name}" in names
    assert "bes_logdiag/cli/__init__.py" in names
