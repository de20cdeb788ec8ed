"""Hostile input, part 3 (issue 15 item 4): a gzip file or an archive member that inflates over
``--max-expand`` times its compressed size (1000 by default) and over 1 GiB is stopped with a
reason: skipped, or partial with the lines before it kept.  ``--max-expand 0`` reads it whole."""

from __future__ import annotations

import io
import tarfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from builders import bes_line, bes_name, scan_json

from bes_logdiag import inflate
from bes_logdiag.inflate import ExpansionError, check_expansion

MiB = 1024 * 1024
GiB = 1024 * MiB
DAY = datetime(2023, 12, 30)
NAME = bes_name("BBPROD01", "MAGT", DAY)
LINE = (
    bes_line(DAY, "Device acknowledged delivery, RefId=91190, status=0", user="vera.varga@example.com")
    + "\r\n"
).encode()


def gzip_of_repeats(path: Path, piece: bytes, count: int) -> int:
    """`piece` * `count` gzipped by repeating one self-contained deflate run (as in
    tests/test_gzip_bounds.py): a GiB is written in a second.  Returns the bytes it unpacks to."""
    import struct
    import zlib

    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    run = z.compress(piece) + z.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(piece, crc)
    with path.open("wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        for _ in range(count):
            f.write(run)
        f.write(zlib.compressobj(9, zlib.DEFLATED, -15).flush())
        f.write(struct.pack("<II", crc, len(piece) * count & 0xFFFFFFFF))
    return len(piece) * count


def reasons(report: dict) -> dict[str, tuple[str, bool]]:  # type: ignore[type-arg]
    return {s["path"]: (s["reason"], s["partial"]) for s in report["inputs"]["skipped"]}


@pytest.mark.parametrize(
    ("produced", "consumed", "limit", "message"),
    [
        (GiB + 1, MiB, 1000, "expands over 1000:1 (1.0 GiB from 1.0 MiB): a decompression bomb? (--max-expand to allow)"),
        (3 * GiB, 512 * 1024, 1000, "expands over 1000:1 (3.0 GiB from 512.0 KiB): a decompression bomb? (--max-expand to allow)"),
        (2 * GiB, 100 * MiB, 10.5, "expands over 10.5:1 (2.0 GiB from 100.0 MiB): a decompression bomb? (--max-expand to allow)"),
        (GiB + 1, 0, 1000, "expands over 1000:1 (1.0 GiB from 0 B): a decompression bomb? (--max-expand to allow)"),
    ],
)  # fmt: skip
def test_an_absurd_expansion_says_how_much_from_how_little(
    produced: int, consumed: int, limit: float, message: str
) -> None:
    with pytest.raises(ExpansionError) as e:
        check_expansion(produced, consumed, limit)
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("produced", "consumed", "limit"),
    [(GiB, 1, 1000), (GiB + 1, 0, 0), (100 * GiB, 1, 0), (2 * GiB, 3 * MiB, 1000), (5 * GiB, GiB, 5)],
)
def test_below_the_floor_or_the_ratio_or_without_a_limit_nothing_is_stopped(
    produced: int, consumed: int, limit: float
) -> None:
    check_expansion(produced, consumed, limit)


def test_the_option_default_is_the_core_default() -> None:
    from bes_logdiag.cli.scan import MAX_EXPAND
    from bes_logdiag.settings import ScanConfig

    assert MAX_EXPAND.default == inflate.DEFAULT_MAX_EXPAND == ScanConfig(paths=()).max_expand


def test_a_gzip_bomb_of_bes_lines_is_stopped_after_1_gib_keeping_the_lines_before(tmp_path: Path) -> None:
    """Deflate packs at most ~1030:1, and ordinary repeated lines ~280:1: over 1000:1 takes long
    runs, so each line here is a BES line padded to 7 MiB.  1.2 GiB from about 1.2 MB."""
    piece = LINE[:-2] + b" " * (7 * MiB - len(LINE)) + b"\r\n"
    path = tmp_path / f"{NAME}.gz"
    size = gzip_of_repeats(path, piece, 175)
    assert size > 1.1 * GiB and size / path.stat().st_size > 1000
    started = time.monotonic()
    _, report, _ = scan_json(path)
    assert time.monotonic() - started < 30
    reason, partial = reasons(report)[str(path)]
    assert partial
    assert reason.startswith(
        "expands over 1000:1 (1.0 GiB from 1.0 MiB): a decompression bomb? (--max-expand to allow)"
    )
    assert "were read, the rest is lost" in reason


@pytest.fixture()
def small_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ratios apply past 1 MiB here, not 1 GiB: the same code path, in milliseconds."""
    monkeypatch.setattr(inflate, "EXPAND_FLOOR", MiB)


def lines(megabytes: int) -> bytes:
    return LINE * (megabytes * MiB // len(LINE))


def test_a_gzip_over_the_ratio_is_partial_and_0_reads_it_whole(tmp_path: Path, small_floor: None) -> None:
    path = tmp_path / f"{NAME}.gz"
    gzip_of_repeats(path, lines(1), 4)  # about 280:1
    _, report, _ = scan_json(path, "--max-expand", "10")
    reason, partial = reasons(report)[str(path)]
    assert partial and reason.startswith("expands over 10:1 ("), reason
    for allowed in ("0", "1000"):
        _, report, _ = scan_json(path, "--max-expand", allowed)
        assert report["inputs"]["skipped"] == [], allowed


def test_a_bomb_from_its_first_byte_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped before its first line reached the scan: nothing was read, so it is skipped.  (The
    scan's reader holds at most 1 MiB of a line without its end, then the scan refuses a file
    that does not start as a BES log: the ratio applies past 256 KiB here, so that it comes first.)"""
    monkeypatch.setattr(inflate, "EXPAND_FLOOR", 256 * 1024)
    path = tmp_path / f"{NAME}.gz"
    gzip_of_repeats(path, b" " * 4 * MiB + LINE, 1)
    plain = tmp_path / bes_name("BBPROD01", "MAGT", DAY, it=2)
    plain.write_bytes(LINE)
    _, report, _ = scan_json(tmp_path, "--max-expand", "10")
    reason, partial = reasons(report)[str(path)]
    assert not partial and reason.startswith("expands over 10:1 (")


def zip_of(path: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(member, data)


def tar_of(path: Path, member: str, data: bytes, mode: str) -> None:
    with tarfile.open(path, mode) as tf:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar.xz", "tar.bz2"])
def test_an_archive_member_over_the_ratio_is_partial(tmp_path: Path, small_floor: None, kind: str) -> None:
    path = tmp_path / f"logs.{kind}"
    if kind == "zip":
        zip_of(path, NAME, lines(4))
    else:
        tar_of(path, NAME, lines(4), f"w:{kind.split('.')[1]}")
    _, report, _ = scan_json(path, "--max-expand", "10")
    reason, partial = reasons(report)[f"{path}!{NAME}"]
    assert partial and reason.startswith("expands over 10:1 ("), reason
    _, report, _ = scan_json(path, "--max-expand", "0")
    assert report["inputs"]["skipped"] == []


def test_a_plain_tar_member_is_never_stopped(tmp_path: Path, small_floor: None) -> None:
    path = tmp_path / "logs.tar"
    tar_of(path, NAME, lines(4), "w")
    _, report, _ = scan_json(path, "--max-expand", "1")
    assert report["inputs"]["skipped"] == []


@pytest.mark.parametrize("command", ["events", "timeline"])
def test_events_and_timeline_take_the_option(tmp_path: Path, small_floor: None, command: str) -> None:
    from builders import run_cli

    path = tmp_path / f"{NAME}.gz"
    gzip_of_repeats(path, lines(1), 4)
    args = ["vera.varga@example.com"] if command == "timeline" else []
    result = run_cli(command, *args, path, "--max-expand", "10", "--jobs", "1")
    assert "expands over 10:1" in result.stderr, result.stderr


def test_a_negative_ratio_is_a_usage_error(tmp_path: Path) -> None:
    from builders import run_cli

    result = run_cli("scan", tmp_path, "--max-expand", "-1")
    assert result.exit_code == 2 and "--max-expand" in result.stderr
