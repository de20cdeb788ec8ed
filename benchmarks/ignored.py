#!/usr/bin/env python3
"""Measure a scan of a folder that is mostly other services' logs: a year of a BES's Logs folder,
twenty services that write no activation line (CTRL, DISP, ROUT, ...) one file each per day, and
the activation logs of the last day.  The scan ignores the other services' logs, but reads the end
of each log's latest file for the time of its last line (where its server's logs end).

    python benchmarks/ignored.py [--days 365] [--runs 5] [--root DIR]

Writes the folder under ``--root`` (kept, and reused when it is there), then times ``bes-logdiag
scan LOGS --format json -o FILE`` ``--runs`` times and prints the median, with the number of
files and bytes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

SERVER = "BBPROD01"
OTHERS = (
    "CTRL", "DISP", "ROUT", "MDAT", "MDSS", "BBIM", "BBUS", "BBAT", "LGAG", "CBCK",
    "ALRT", "RTR", "SRP", "STAT", "ATTR", "MONI", "POOL", "EMWS", "BSYN", "LAGT",
)  # fmt: skip
LINES_PER_FILE = 200
FIRST_DAY = datetime(2024, 1, 1)


def line(t: datetime, text: str, user: str | None = None) -> str:
    who = f" {{{user}}}" if user else ""
    return f"[30000] ({t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}):{{0x0B13}}{who} {text}\r\n"


def write_folder(logs: Path, days: int) -> None:
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        folder = logs / f"{day:%Y%m%d}"
        folder.mkdir(parents=True, exist_ok=True)
        step = timedelta(days=1) / LINES_PER_FILE
        text = "".join(line(day + i * step, "Performing system health check") for i in range(LINES_PER_FILE))
        for service in OTHERS:
            (folder / f"{SERVER}_{service}_01_{day:%Y%m%d}_0001.txt").write_text(text, encoding="utf-8")
    last = FIRST_DAY + timedelta(days=days - 1)
    etp = "Queuing DATA from network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2"
    magt = line(last.replace(hour=9), etp, "ann@example.com")
    (logs / f"{last:%Y%m%d}" / f"{SERVER}_MAGT_01_{last:%Y%m%d}_0001.txt").write_text(magt, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "bes-logdiag-ignored")
    args = ap.parse_args()
    logs = args.root / f"Logs-{args.days}"
    if not logs.exists():
        write_folder(logs, args.days)
    files = [p for p in logs.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    out = args.root / "report.json"
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "bes_logdiag", "scan", str(logs), "-f", "json", "-o", str(out), "-q"]
        done = subprocess.run(cmd, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"scan exited with {done.returncode}")
    print(
        f"{len(files):,} files ({size / 1e6:.0f} MB), {len(files) - 1:,} of other services: "
        f"scan median {statistics.median(times):.2f} s over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
