"""gzip data is inflated in bounded pieces (issue 14 item 6, issue 15 item 3): one read never
returns more than it asked for and memory stays flat whatever the compression ratio, while several
members, a cut, a damaged spot and a bad checksum still hand over every byte before them."""

from __future__ import annotations

import gzip
import os
import random
import struct
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import bes_line, bes_name, scan_json

from bes_logdiag import inflate
from bes_logdiag.decode import CHUNK_SIZE
from bes_logdiag.filescan import FileResult, scan_source
from bes_logdiag.inflate import Gunzip
from bes_logdiag.library import Library
from bes_logdiag.match import Matcher
from bes_logdiag.read import discover

MiB = 1024 * 1024
DAY = datetime(2023, 12, 30)
NAME = bes_name("BBPROD01", "MAGT", DAY)
NOISE = bes_line(DAY, "Device acknowledged delivery, RefId=91190, status=0", user="vera.varga@example.com")
"""A mail-flow line no pattern wants: a bomb of it is a long scan that finds nothing."""
NOISE_LINE = NOISE.encode() + b"\r\n"
TRUNCATED = "truncated gzip file: it ends before its end-of-stream marker"


def log_text(lines: int = 20_000, seed: int = 14) -> bytes:
    """Varied BES lines (about 1.7 MB, 400 KB gzipped: several 64 KiB compressed pieces)."""
    rnd = random.Random(seed)
    out = []
    for i in range(lines):
        t = DAY + timedelta(milliseconds=i * 97)
        msg = f"Sending to device, size={rnd.randrange(9999)}, RefId={rnd.randrange(10**6)}, Tag={rnd.getrandbits(32)}"
        out.append(
            bes_line(t, msg, tid=f"{rnd.randrange(4096):X}", user=f"user{rnd.randrange(300)}@example.com")
        )
    return ("\r\n".join(out) + "\r\n").encode()


def gzip_of_repeats(path: Path, piece: bytes, count: int) -> int:
    """Write `piece` * `count` gzipped without compressing it all: one fully flushed deflate run of
    `piece` is self-contained, so it can be repeated.  Returns the bytes it unpacks to."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    run = z.compress(piece) + z.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(piece, crc)
    size = len(piece) * count
    with path.open("wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        for _ in range(count):
            f.write(run)
        f.write(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # an empty last block
        f.write(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return size


def read_through(path: Path, size: int) -> tuple[bytes, list[int], str | None]:
    """Everything `Gunzip` hands over in reads of `size`, each read's length, and how it ended."""
    out, lengths = bytearray(), list[int]()
    with path.open("rb") as f:
        g = Gunzip(f)
        while True:
            try:
                block = g.read(size)
            except (EOFError, ValueError) as e:
                return bytes(out), lengths, str(e)
            if not block:
                return bytes(out), lengths, None
            lengths.append(len(block))
            out += block


def inflated_bytewise(packed: bytes) -> tuple[bytes, str | None]:
    """What zlib gives fed one byte at a time, member after member, up to the damage: all that
    precedes a damaged spot, whatever zlib does with a larger call."""
    out, z = bytearray(), zlib.decompressobj(31)
    for i in range(len(packed)):
        if z.eof:
            z = zlib.decompressobj(31)
        try:
            out += z.decompress(packed[i : i + 1])
        except zlib.error as e:
            return bytes(out), f"corrupt gzip data ({e})"
    return bytes(out), None if z.eof else TRUNCATED


def _parts(text: bytes) -> list[bytes]:
    """Three members' texts: varied lines, a highly compressible run (its output outgrows any
    read), the rest of the lines."""
    third = len(text) // 3
    return [text[:third], NOISE_LINE * 50_000, text[third:]]


def _members(text: bytes) -> bytes:
    return b"".join(map(gzip.compress, _parts(text)))


def _cut(at: float) -> Callable[[bytes], bytes]:
    return lambda packed: packed[: int(len(packed) * at)]


def _flip(at: float) -> Callable[[bytes], bytes]:
    def flip(packed: bytes) -> bytes:
        damaged = bytearray(packed)
        damaged[int(len(packed) * at)] ^= 0x55
        return bytes(damaged)

    return flip


def _bad_crc(packed: bytes) -> bytes:
    damaged = bytearray(packed)
    damaged[-8] ^= 0xFF  # the CRC-32 in the last trailer: every data byte is intact
    return bytes(damaged)


DAMAGE = {
    "whole": lambda packed: packed,
    "cut in the header": lambda packed: packed[:5],
    "cut early": _cut(0.05),
    "cut in the middle": _cut(0.5),
    "cut before the trailer": lambda packed: packed[:-3],
    "corrupt early": _flip(0.03),
    "corrupt in the middle": _flip(0.5),
    "corrupt late": _flip(0.97),
    "bad CRC at the end": _bad_crc,
    "garbage after the last member": lambda packed: packed + b"not gzip",
}


@pytest.fixture(scope="module")
def text() -> bytes:
    return log_text()


@pytest.mark.parametrize("members", [False, True], ids=["one member", "three members"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_every_byte_before_the_damage_comes_in_reads_no_larger_than_asked(
    tmp_path: Path, text: bytes, members: bool, damage: str
) -> None:
    packed = DAMAGE[damage](_members(text) if members else gzip.compress(text))
    path = tmp_path / f"{NAME}.gz"
    path.write_bytes(packed)
    expected, ends = inflated_bytewise(packed)
    whole = b"".join(_parts(text)) if members else text
    for size in (CHUNK_SIZE, 4096, -1):  # the scan's reads, a small read (ignore.py's head), read()
        got, lengths, error = read_through(path, size)
        assert (len(got), error) == (len(expected), ends), size
        assert got == expected
        if size > 0:
            assert max(lengths, default=0) <= size
            assert all(n == size for n in lengths[:-1]), "reads are full until the end or the damage"
        if damage in ("whole", "garbage after the last member"):
            assert got == whole
        if damage == "bad CRC at the end":
            assert got == whole and "incorrect data check" in str(error)


def test_a_read_after_the_end_or_the_error_says_the_same(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / f"{NAME}.gz"
    path.write_bytes(gzip.compress(text)[:-3])
    with path.open("rb") as f:
        g = Gunzip(f)
        assert g.read(0) == b""
        got = g.read(len(text))
        assert len(got) == len(text)  # all the data: only the trailer is cut
        for _ in range(2):
            with pytest.raises(EOFError, match=TRUNCATED):
                g.read(CHUNK_SIZE)


def scanned_through_gunzip(
    path: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> tuple[FileResult, int, int]:
    """Scan `path` counting what `Gunzip` hands over: what the scan found, the bytes handed over
    and the peak of memory the scan allocated (tracemalloc)."""
    handed = [0]
    real_read = Gunzip.read

    def counting_read(self: Gunzip, size: int = -1) -> bytes:
        block: bytes = real_read(self, size)
        assert size < 0 or len(block) <= size
        handed[0] += len(block)
        return block

    monkeypatch.setattr(inflate.Gunzip, "read", counting_read)
    [src], _ = discover([str(path)])
    matcher = Matcher(library)
    tracemalloc.start()
    try:
        result = scan_source(src, matcher, year=None, default_year=2023, thread_window=timedelta(minutes=5))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, handed[0], peak


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 GiB of zeros in about 1 MB of gzip."""
    path = tmp_path_factory.mktemp("bomb") / f"{NAME}.gz"
    assert gzip_of_repeats(path, bytes(16 * MiB), 64) == 1 << 30
    assert path.stat().st_size < 2 * MiB
    return path


def test_a_gzip_of_zeros_is_refused_at_the_sniff_without_inflating_the_rest(
    zeros_bomb: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, handed, peak = scanned_through_gunzip(zeros_bomb, library, monkeypatch)
    stats = result.stats
    assert stats.skipped is not None and stats.skipped.reason.startswith("not a BES log")
    # The scan's head holds one line: a run without a newline is passed on at 1 MiB (decode.LONG_LINE)
    assert handed <= 2 * MiB, "the scan stops reading once the file is refused"
    assert peak < 50 * MiB


@pytest.mark.skipif(not hasattr(os, "wait4") or sys.platform != "linux", reason="ru_maxrss in KiB: Linux")
def test_the_cli_scan_of_a_gzip_of_zeros_stays_small(zeros_bomb: Path, tmp_path: Path) -> None:
    """The whole CLI in its own process: its peak RSS next to a scan of a small plain log."""
    small = tmp_path / NAME
    small.write_bytes(log_text(200))

    def peak_kib(path: Path) -> tuple[int, str, int]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bes_logdiag", "scan", str(path), "-f", "json", "-o", os.devnull, "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, stderr, usage.ru_maxrss

    code, stderr, bomb = peak_kib(zeros_bomb)
    assert code == 2 and "not a BES log" in stderr, stderr
    _, _, plain = peak_kib(small)
    assert bomb - plain < 50 * 1024, f"{bomb} KiB against {plain} KiB for a small plain log"


@pytest.fixture(scope="module")
def lines_bomb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """About 200 MB of one BES line, gzipped (under 1 MB); its size and number of lines."""
    piece = NOISE_LINE * (MiB // len(NOISE_LINE))
    path = tmp_path_factory.mktemp("bomb") / f"{NAME}.gz"
    size = gzip_of_repeats(path, piece, 200)
    return path, size, size // len(NOISE_LINE)


def test_a_bomb_of_bes_lines_is_read_in_pieces_no_larger_than_asked(
    lines_bomb: tuple[Path, int, int],
) -> None:
    path, size, lines = lines_bomb
    reads = newlines = 0
    tracemalloc.start()
    try:
        with path.open("rb") as f:
            g = Gunzip(f)
            while block := g.read(CHUNK_SIZE):
                assert len(block) <= CHUNK_SIZE
                reads += 1
                newlines += block.count(b"\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (reads, newlines) == (-(-size // CHUNK_SIZE), lines)
    assert peak < 50 * MiB


def test_a_bomb_of_bes_lines_is_scanned_whole_with_flat_memory(
    lines_bomb: tuple[Path, int, int], library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, size, lines = lines_bomb
    result, handed, peak = scanned_through_gunzip(path, library, monkeypatch)
    stats = result.stats
    assert (stats.skipped, stats.lines, handed, result.events) == (None, lines, size, ())
    assert peak < 50 * MiB


@pytest.mark.parametrize("damage", ["corrupt in the middle", "cut in the middle", "bad CRC at the end"])
def test_the_scan_keeps_the_lines_before_the_damage_of_several_members(
    tmp_path: Path, text: bytes, damage: str
) -> None:
    packed = DAMAGE[damage](_members(text))
    path = tmp_path / f"{NAME}.gz"
    path.write_bytes(packed)
    salvaged, _ = inflated_bytewise(packed)
    _, report, _ = scan_json(path, quiet=True)
    [read_file] = report["inputs"]["files"]
    assert read_file["lines"] == salvaged.count(b"\n")  # every whole line before the damage
    [skip] = report["inputs"]["skipped"]
    assert skip["partial"] is True


def test_several_members_through_stdin_are_read_whole(text: bytes) -> None:
    _, report, _ = scan_json("-", "--year", "2023", input=_members(text), quiet=True)
    [read_file] = report["inputs"]["files"]
    assert read_file["lines"] == text.count(b"\n") + 50_000
    assert report["inputs"]["skipped"] == []


@pytest.mark.parametrize("members", [False, True], ids=["one member", "three members"])
def test_zeros_after_the_last_member_are_padding_not_damage(
    tmp_path: Path, text: bytes, members: bool
) -> None:
    # (a tape, or a copy tool that rounds files up to its block size: gzip and Python's gzip pass
    # over such zeros, and the scan must not call the whole file damaged)
    whole = b"".join(_parts(text)) if members else text
    path = tmp_path / f"{NAME}.gz"
    path.write_bytes((_members(text) if members else gzip.compress(text)) + b"\0" * 70_000)
    for size in (CHUNK_SIZE, 4096, -1):
        got, _, error = read_through(path, size)
        assert (got == whole, error) == (True, None), size
    _, report, err = scan_json(path, quiet=True)
    assert report["inputs"]["skipped"] == [] and err == ""
    assert report["inputs"]["files"][0]["lines"] == whole.count(b"\n")
