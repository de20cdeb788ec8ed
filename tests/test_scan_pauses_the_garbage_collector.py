"""A scan pauses Python's cyclic garbage collector while it reads and builds the report (what it
makes is kept to the end, and collecting only walked it again: `scan.collector_paused`), and
leaves it as it found it: on again after the scan, whether the scan ended well or not, and off
still for a caller who had turned it off."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS

import bes_logdiag.scan as scan_module
from bes_logdiag.errors import InputError
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether the collector was on when the report was being built, scan by scan."""
    seen: list[bool] = []
    build = scan_module.build_report

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return build(*args, **kwargs)

    monkeypatch.setattr(scan_module, "build_report", watching)
    was = gc.isenabled()
    yield seen
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_during_the_scan_and_on_after(collector_seen: list[bool]) -> None:
    assert gc.isenabled()
    report = run_scan(ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=1))
    assert len(report.activations) == 19
    assert collector_seen == [False]
    assert gc.isenabled()


def test_the_collector_is_on_again_after_a_scan_that_reads_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a log\n", encoding="utf-8")
    assert gc.isenabled()
    with pytest.raises(InputError, match="nothing could be read"):
        run_scan(ScanConfig(paths=(str(tmp_path),), jobs=1))
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(collector_seen: list[bool]) -> None:
    gc.disable()
    run_scan(ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=1))
    assert collector_seen == [False]
    assert not gc.isenabled()
