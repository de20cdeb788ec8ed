"""A file that shrinks while it is read (issue 15): truncated by a rotation or overwritten midway,
it is reported cut short ("the file shrank while it was read"), never as whole."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from builders import SAMPLE_LOGS, run_cli

from bes_logdiag import filescan

LOG = SAMPLE_LOGS / "BBPROD01" / "20231230" / "BBPROD01_MAGT_01_20231230_0001.txt"
KEPT = 300 * 1024
"""Where the file is cut, after its first block (256 KiB) was read."""


@pytest.fixture
def big_log(tmp_path: Path) -> Path:
    path = tmp_path / LOG.name
    path.write_bytes(LOG.read_bytes() * 8)  # ~1 MB: several blocks
    return path


def test_a_file_cut_while_read_is_reported_cut_short(big_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = big_log.stat().st_size
    read_blocks = filescan.read_blocks

    def cut_after_first(stream: BinaryIO) -> Iterator[bytes]:
        for n, block in enumerate(read_blocks(stream)):
            if n == 0:
                os.truncate(big_log, KEPT)  # as a second writer would, between two reads
            yield block

    monkeypatch.setattr(filescan, "read_blocks", cut_after_first)
    result = run_cli("scan", big_log, "--format", "json", "--jobs", "1")
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    [skipped] = report["inputs"]["skipped"]
    assert skipped["partial"] is True
    assert skipped["reason"].startswith(
        f"the file shrank while it was read ({size:,} bytes when found, {KEPT:,} read); lines 1-"
    )
    assert skipped["reason"].endswith(" were read, the rest is lost")
    assert any(n.startswith(f"{big_log} breaks off at ") for n in report["notes"])  # (FileStats.cut_short)
    assert f"{big_log}: partly skipped: the file shrank while it was read" in result.stderr


def test_a_whole_file_is_not_cut_short(big_log: Path) -> None:
    result = run_cli("scan", big_log, "--format", "json", "--jobs", "1")
    report = json.loads(result.stdout)
    assert report["inputs"]["skipped"] == []
    assert not any("breaks off" in n for n in report["notes"])
