"""Data without line ends (issue 15): a gzip of gigabytes of NUL bytes, or of one byte repeated,
is one endless "line".  The reader holds at most `decode.LONG_LINE` (1 MiB) of such a run and
passes the rest on as it comes, so the scan refuses such a file after its first mebibyte (not a
BES log), and a run inside a log costs no memory while the lines around it are read as before."""

from __future__ import annotations

import gzip
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import bes_line, bes_name, scan_json
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decompression_bombs import gzip_of_repeats
from test_gzip_bounds import scanned_through_gunzip

from bes_logdiag.decode import CHUNK_SIZE, LONG_LINE, SNIFF_SIZE, Encoding, LineChunker
from bes_logdiag.filescan import FileResult
from bes_logdiag.library import Library

MiB = 1024 * 1024
DAY = datetime(2023, 12, 30)
NAME = bes_name("BBPROD01", "MAGT", DAY)


def scanned(path: Path, library: Library, monkeypatch: pytest.MonkeyPatch) -> tuple[FileResult, int, int]:
    """What the scan found, the bytes `Gunzip` handed over and the scan's peak of memory."""
    return scanned_through_gunzip(path, library, monkeypatch)


@pytest.mark.parametrize("byte", [b"\0", b"A", b"\xff"], ids=["nul", "letter", "high-byte"])
def test_a_gzip_of_one_byte_repeated_is_refused_after_its_first_mebibyte(
    tmp_path: Path, library: Library, monkeypatch: pytest.MonkeyPatch, byte: bytes
) -> None:
    path = tmp_path / f"{NAME}.gz"
    gzip_of_repeats(path, byte * (16 * MiB), 16)  # 256 MiB in 256 KB
    result, handed, peak = scanned(path, library, monkeypatch)
    skipped = result.stats.skipped
    assert skipped is not None and not skipped.partial
    assert skipped.reason.startswith("not a BES log")
    assert handed <= LONG_LINE + CHUNK_SIZE
    assert peak < 4 * MiB


def test_a_run_without_line_ends_inside_a_log_is_named_and_the_lines_after_it_are_read(
    tmp_path: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log line, 64 MiB of NUL bytes with no line end, a line end, and a failure line: the
    failure is found at its line number, the run is named, memory stays flat."""
    first = bes_line(
        DAY, "Device acknowledged delivery, RefId=91190, status=0", user="vera.varga@example.com"
    )
    failure = bes_line(
        DAY + timedelta(hours=5),
        "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU/cn=vera",
    )
    path = tmp_path / f"{NAME}.gz"
    gzip_of_repeats(path, bytes(16 * MiB), 4)
    path.write_bytes(
        gzip.compress(f"{first}\r\n".encode())
        + path.read_bytes()
        + gzip.compress(f"\r\n{failure}\r\n".encode())
    )
    result, handed, peak = scanned(path, library, monkeypatch)
    stats = result.stats
    assert handed > 64 * MiB  # read through
    assert peak < 8 * MiB
    assert stats.lines == 3 and stats.skipped is None
    assert stats.last_time == DAY + timedelta(hours=5)
    nul, long = stats.gaps
    assert nul == f"{64 * MiB:,} NUL bytes from line 2 (a copy taken while the server wrote?)"
    said = re.fullmatch(
        r"a line over 1 MiB long at line 2 \(not log text; ([\d.]+) MiB of over-long lines passed over\)",
        long,
    )
    assert said is not None, long
    # All but the first MiB (passed on) and the block that ends the line (read as any block is).
    assert 64 - 1 - CHUNK_SIZE / MiB <= float(said.group(1)) <= 64 - 1
    assert [e.line for e in (*result.events, *(r.first for r in result.runs)) if e.error] == [3]

    _, report, _ = scan_json(path)
    [skip] = report["inputs"]["skipped"]
    assert skip["partial"] and "a line over 1 MiB long at line 2" in skip["reason"]


def test_a_run_is_passed_on_once_at_the_bound_then_passed_over_until_its_end() -> None:
    enc = Encoding()
    chunker = LineChunker(enc)
    block = b"x" * CHUNK_SIZE
    held = [chunker.feed(block) for _ in range(LONG_LINE // CHUNK_SIZE)]
    assert held == [[]] * (len(held) - 1) + [[block * (LONG_LINE // CHUNK_SIZE)]]
    for _ in range(8):
        assert chunker.feed(b"\0" * CHUNK_SIZE) == []  # neither held nor passed on
    assert chunker.feed(b"y\nnext") == [b"y\n"]
    assert chunker.finish() == [b"next"]
    assert (enc.long_lines, enc.passed_over, enc.passed_over_nul) == (1, 8 * CHUNK_SIZE, 8 * CHUNK_SIZE)


@settings(max_examples=150, deadline=None)
@given(
    lengths=st.lists(st.one_of(st.integers(0, 40), st.integers(200, 700)), max_size=25),
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    max_line=st.integers(50, 600),
    ends=st.sampled_from([b"\n", b"\r\n"]),
    last_end=st.booleans(),
)
def test_lines_shorter_than_the_bound_arrive_whole_and_every_line_end_arrives(
    lengths: list[int], sizes: list[int], max_line: int, ends: bytes, last_end: bool
) -> None:
    """What normal logs give is unchanged: each line shorter than `max_line` arrives whole, in one
    buffer; of a longer one, its start and the block that ends it; every line end arrives."""
    lines = [bytes([65 + i % 26]) * n for i, n in enumerate(lengths)]  # each its own letter
    data = ends.join(lines) + (ends if last_end and lines else b"")
    stream = io.BytesIO(data)
    enc = Encoding()
    chunker = LineChunker(enc, max_line)
    out: list[bytes] = []
    fed, i = 0, 0
    while block := stream.read(sizes[i % len(sizes)]):
        i += 1
        fed += len(block)
        out += chunker.feed(block)
        held = fed - sum(map(len, out)) - enc.passed_over
        assert held < max(max_line, SNIFF_SIZE) + len(block)
    out += chunker.finish()
    joined = b"".join(out)
    assert len(joined) + enc.passed_over == len(data)
    got = joined.split(b"\n")
    assert len(got) == len(data.split(b"\n"))
    for line, seen in zip(data.split(b"\n"), got):
        if len(line) < max_line:
            assert seen == line
        else:
            assert set(seen) <= set(line) and max_line <= len(seen) <= len(line)
    for buf in out[:-1]:  # a buffer ends at a line end, or is the start of an over-long line
        assert buf.endswith(b"\n") or (b"\n" not in buf and len(buf) >= max_line)


@pytest.mark.parametrize(
    ("tail", "nul"),
    [
        (bytes(512 * 1024), 512 * 1024),
        (bytes(3 * MiB), 3 * MiB),
        (bytes(20 * MiB), 20 * MiB),
        (b"A" * 2 * MiB + bytes(3 * MiB), 3 * MiB),  # the NUL bytes all past the first MiB
    ],
    ids=["half-MiB", "3-MiB", "20-MiB", "letters-then-NUL"],
)
def test_a_log_ending_in_nul_bytes_still_ends_at_its_last_line(
    tmp_path: Path, library: Library, monkeypatch: pytest.MonkeyPatch, tail: bytes, nul: int
) -> None:
    """A copy taken while the server wrote may end in NUL bytes with no line end: the log still
    ends at its last line (which no pattern matches), whatever the length of the run after it,
    and every NUL byte is counted."""
    lines = [
        bes_line(DAY + timedelta(minutes=i), f"Device acknowledged delivery, RefId={i}, status=0")
        for i in range(200)
    ]
    path = tmp_path / NAME
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n" + tail)
    result, _, peak = scanned(path, library, monkeypatch)
    stats = result.stats
    assert stats.last_time == DAY + timedelta(minutes=199)
    assert stats.lines == 201
    assert stats.gaps[0] == f"{nul:,} NUL bytes from line 201 (a copy taken while the server wrote?)"
    assert peak < 8 * MiB
