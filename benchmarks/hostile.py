#!/usr/bin/env python3
"""Peak RSS and wall time of ``bes-logdiag scan`` on hostile input (issue 15):

    (0) a small plain log: the floor (interpreter, pattern library, report);
    (a) a gzip bomb of zeros (1 GiB in about 1 MB): refused at the sniff, not a BES log;
    (b) a gzip bomb of one letter and no line end (1 GiB in about 1 MB): refused the same way;
    (c) a BES line, then 1 GiB of zeros with no line end: the run's first MiB is scanned and the
        rest passed over (decode.LONG_LINE), stopped at 1 GiB by the --max-expand default;
    (d) a gzip bomb of BES lines (1.2 GiB in about 1.2 MB, each line padded to 7 MiB: deflate
        packs ordinary repeated lines only ~280:1): stopped at 1 GiB by the --max-expand default;
    (e) a 100 MB plain file where every line is a mailbox-open error that names nobody;
    (f) the same, each line naming one of 5,000 bystanders in its header (``{user@...}``);
    (g) the same, each line naming another user: the report has a group per line.

Each scan runs in its own process (``-f json -o FILE -q``); peak RSS is its ru_maxrss (Linux,
macOS).  The inputs are written into a temporary folder and removed after.

    python benchmarks/hostile.py [--flood-mb 100]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

MiB = 1024 * 1024
DAY = datetime(2023, 12, 30)
NAME = "BBPROD01_MAGT_01_20231230_0001.txt"


def gzip_of_repeats(path: Path, piece: bytes, count: int) -> None:
    """`piece` * `count` gzipped by repeating one self-contained deflate run."""
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


def line(t: datetime, text: str, tid: str = "E1C", user: str | None = None) -> bytes:
    who = f" {{{user}}}" if user else ""
    return f"[40000] ({t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}):{{0x{tid}}}{who} {text}\r\n".encode()


def write_flood(path: Path, mb: int, *, named: bool, users: int = 5000) -> None:
    """``mb`` MB of mailbox-open errors, 7 ms apart on 4,096 threads; ``named``: each names one of
    ``users`` users in its header (0: each another)."""
    path.parent.mkdir()
    with path.open("wb") as f:
        written, i = 0, 0
        while written < mb * 1_000_000:
            block = b"".join(
                line(
                    DAY + timedelta(milliseconds=(i + k) * 7),
                    "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, "
                    f"MailboxDN=/o=EU/ou=Exchange/cn=Recipients/cn=user{(i + k) % 5000}",
                    tid=f"{(i + k) % 4096:X}",
                    user=f"user{(i + k) % users if users else i + k}@example.eu" if named else None,
                )
                for k in range(10_000)
            )
            f.write(block)
            written, i = written + len(block), i + 10_000


def make_inputs(root: Path, flood_mb: int) -> dict[str, Path]:
    small = root / "small" / NAME
    small.parent.mkdir()
    small.write_bytes(
        b"".join(line(DAY + timedelta(seconds=i), f"Device acknowledged, RefId={i}") for i in range(200))
    )
    zeros = root / "zeros" / f"{NAME}.gz"
    zeros.parent.mkdir()
    gzip_of_repeats(zeros, bytes(16 * MiB), 64)
    letters = root / "letters" / f"{NAME}.gz"
    letters.parent.mkdir()
    gzip_of_repeats(letters, b"A" * (16 * MiB), 64)
    after = root / "after" / f"{NAME}.gz"
    after.parent.mkdir()
    gzip_of_repeats(after, bytes(16 * MiB), 64)
    after.write_bytes(gzip.compress(line(DAY, "Device acknowledged delivery, RefId=1")) + after.read_bytes())
    lines = root / "lines" / f"{NAME}.gz"
    lines.parent.mkdir()
    noise = line(DAY, "[BBPROD01_MAGT] Device acknowledged delivery, RefId=91190, status=0")
    gzip_of_repeats(lines, noise[:-2] + b" " * (7 * MiB - len(noise)) + b"\r\n", 175)
    flood = root / "flood" / NAME
    write_flood(flood, flood_mb, named=False)
    named = root / "named" / NAME
    write_flood(named, flood_mb, named=True)
    everyone = root / "everyone" / NAME
    write_flood(everyone, flood_mb, named=True, users=0)
    return {
        "(0) 200 plain BES lines": small,
        "(a) gzip of zeros, 1 GiB": zeros,
        "(b) gzip of one letter, 1 GiB": letters,
        "(c) a BES line, then 1 GiB of zeros": after,
        "(d) gzip of BES lines, 1.2 GiB": lines,
        f"(e) {flood_mb} MB of nameless mailbox errors": flood,
        f"(f) {flood_mb} MB of named mailbox errors": named,
        f"(g) {flood_mb} MB, each line another user": everyone,
    }


def measure(path: Path) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS in MiB, exit code and what became of the input (its skip reason)."""
    report = path.parent / "report.json"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bes_logdiag", "scan", str(path), "-f", "json", "-o", str(report), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak //= MiB if sys.platform == "darwin" else 1024
    said = err.decode(errors="replace").replace(f"{path.parent}{os.sep}", "")  # (so that the reason fits)
    last = said.strip().splitlines()[-1:] or [""]
    if report.exists():
        skipped = json.loads(report.read_text())["inputs"]["skipped"]
        last = [f"skipped{' (partial)' if s['partial'] else ''}: {s['reason']}" for s in skipped] or [
            "read whole"
        ]
    return wall, peak, proc.returncode, last[0][:110]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flood-mb", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp), args.flood_mb)
        print(f"{'input':36} {'on disk':>10} {'seconds':>8} {'peak RSS':>9} exit  outcome")
        for label, path in inputs.items():
            # RUSAGE_CHILDREN keeps the largest child so far: each scan gets a fresh parent process.
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(path)], capture_output=True, text=True, check=True
            ).stdout.rstrip("\n")
            wall, peak, code, last = out.split("\t")
            size = path.stat().st_size / 1e6
            print(f"{label:36} {size:>8.1f}MB {float(wall):>8.2f} {peak:>6} MiB {code:>4}  {last}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        w, p, c, e = measure(Path(sys.argv[2]))
        print(f"{w:.3f}\t{p}\t{c}\t{e}")
    else:
        main()
