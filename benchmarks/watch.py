#!/usr/bin/env python3
"""Measure ``bes-logdiag watch``: CPU while nothing is written, CPU while a writer appends to a log
at 10 MB/s, and the latency from a line being written to its change being printed.

A temporary Logs folder is made like a BES's (two servers, two days, MAGT x2, POLC, SYNC, CMNG and
the CTRL, DISP and ROUT logs the watch follows for their last line only; 1 MB each of mail flow),
then ``bes-logdiag watch LOGS --format ndjson`` runs as a child process and this script:

1. waits for the first change it causes (the start-up read is done), then reads the child's CPU
   time (user + system, from /proc or psutil) over ``--idle`` seconds of nothing written;
2. appends mail flow to today's MAGT log at ``--rate`` MB/s for ``--busy`` seconds (blocks every
   10 ms) and reads the CPU time over that;
3. ``--samples`` times, with a random pause of 0.2-1.2 s (so that a write falls anywhere between
   two polls), writes the ETP.DAT line of a new user (alone, or, with the writer running, into
   its stream) and times until the ``started`` change of that user is read from the child's stdout.

    python benchmarks/watch.py [--interval 1s] [--idle 20] [--busy 20] [--rate 10] [--samples 40]

Only the child's own CPU is counted (not this script's writer).  Needs Linux (/proc) or psutil.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

SERVERS = ("BBPROD01", "BES_EAST_02")
SERVICES = ("MAGT", "POLC", "SYNC", "CMNG", "CTRL", "DISP", "ROUT")
DAY = datetime(2024, 3, 11)


def line(t: datetime, text: str, user: str | None = None, eid: int = 30085, tid: str = "1B44") -> bytes:
    """One line in the BES grammar (BES-LOGS.md section 2), CRLF."""
    who = f" {{{user}}}" if user else ""
    return f"[{eid}] ({t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}):{{0x{tid}}}{who} {text}\r\n".encode()


def mail(t: datetime, n: int) -> bytes:
    return line(t, f"New mail has arrived, EntryId={280000 + n}", f"user{n % 50}@example.com")


def make_logs(root: Path, mb_per_file: float = 1.0) -> Path:
    """Two servers' logs for two days; returns today's MAGT log of the first server (the writer's)."""
    for server in SERVERS:
        for day in (DAY - timedelta(days=1), DAY):
            folder = root / server / "Logs" / f"{day:%Y%m%d}"
            folder.mkdir(parents=True, exist_ok=True)
            for service in SERVICES:
                for inst in (1, 2) if service == "MAGT" else (1,):
                    chunks, size, n = [], 0, 0
                    t = day.replace(hour=0)
                    while size < mb_per_file * 1e6:
                        chunk = mail(t, n)
                        chunks.append(chunk)
                        size += len(chunk)
                        n += 1
                        t += timedelta(seconds=1)
                    name = f"{server}_{service}_{inst:02d}_{day:%Y%m%d}_0001.txt"
                    (folder / name).write_bytes(b"".join(chunks))
    return root / SERVERS[0] / "Logs" / f"{DAY:%Y%m%d}" / f"{SERVERS[0]}_MAGT_01_{DAY:%Y%m%d}_0001.txt"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        import psutil  # type: ignore[import-not-found]

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)


class Watcher:
    """The child process and a thread reading its changes: when each user's ``started`` came."""

    def __init__(self, logs: Path, interval: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bes_logdiag",
                "watch",
                str(logs),
                "--format",
                "ndjson",
                "--interval",
                interval,
                "-q",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.started: dict[str, float] = {}
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            now = time.perf_counter()
            change = json.loads(raw)
            if change["change"] == "started":
                with self._seen:
                    self.started.setdefault(change["email"], now)
                    self._seen.notify_all()

    def wait_for(self, email: str, timeout: float = 60) -> float:
        with self._seen:
            if not self._seen.wait_for(lambda: email in self.started, timeout):
                raise TimeoutError(f"no change for {email} within {timeout} s")
            return self.started[email]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Clock:
    """The log time the writer stamps its lines with: today, going forward with the wall clock."""

    def __init__(self) -> None:
        self.t0 = time.time()
        self.base = DAY.replace(hour=12)
        self.lock = threading.Lock()

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.time() - self.t0)


def append(path: Path, data: bytes, lock: threading.Lock) -> None:
    with lock, open(path, "ab") as f:
        f.write(data)


def etp(clock: Clock, n: int) -> tuple[str, bytes]:
    email = f"new.user{n}@example.com"
    text = f"Queuing DATA from network@etp1.example.net, Tag={n}, EntryId={n}"
    return email, line(clock.now(), text, email, eid=40000, tid="1AEC")


def latency(w: Watcher, path: Path, clock: Clock, samples: int, first: int) -> list[float]:
    out = []
    for n in range(first, first + samples):
        time.sleep(random.uniform(0.2, 1.2))
        email, text = etp(clock, n)
        written = time.perf_counter()
        append(path, text, clock.lock)
        out.append(w.wait_for(email) - written)
    return out


def busy_writer(path: Path, clock: Clock, rate_mb: float, stop: threading.Event, written: list[int]) -> None:
    """Mail flow at `rate_mb` MB/s, a block every 10 ms."""
    per_block = int(rate_mb * 1e6 / 100)
    n = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        block, size = [], 0
        t = clock.now()
        while size < per_block:
            chunk = mail(t, n)
            block.append(chunk)
            size += len(chunk)
            n += 1
        append(path, b"".join(block), clock.lock)
        written[0] += size
        next_at += 0.01
        time.sleep(max(0.0, next_at - time.perf_counter()))


def report(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (
        f"{name}: median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(values)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interval", default="1s", help="watch --interval (default 1s)")
    ap.add_argument("--idle", type=float, default=20, help="seconds of CPU measured with nothing written")
    ap.add_argument("--busy", type=float, default=20, help="seconds of CPU measured with the writer running")
    ap.add_argument("--rate", type=float, default=10, help="the writer's MB/s")
    ap.add_argument("--samples", type=int, default=40, help="latency samples, idle and busy each")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    try:
        path = make_logs(tmp / "logs")
        files = sum(1 for _ in (tmp / "logs").rglob("*.txt"))
        clock = Clock()
        began = time.perf_counter()
        w = Watcher(tmp / "logs", args.interval)
        try:
            measure(w, tmp, path, files, clock, began, args)
        finally:
            w.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(
    w: Watcher, tmp: Path, path: Path, files: int, clock: Clock, began: float, args: argparse.Namespace
) -> None:
    """The three measurements, printed as they are made."""
    # A user written while the watch reads what is there at its start is part of that, not a
    # change: write one every second until one is told.
    for n in range(-1, -120, -1):
        email, text = etp(clock, n)
        append(path, text, clock.lock)
        try:
            w.wait_for(email, timeout=1)
            break
        except TimeoutError:
            continue
    print(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    size = sum(p.stat().st_size for p in (tmp / "logs").rglob("*.txt")) / 1e6
    took = time.perf_counter() - began
    print(f"{files} files, {size:.0f} MB; watch --interval {args.interval}; ready after {took:.1f} s")

    time.sleep(2)  # (the first polls after the start-up read)
    c0, t0 = cpu_seconds(w.proc.pid), time.perf_counter()
    time.sleep(args.idle)
    c1, t1 = cpu_seconds(w.proc.pid), time.perf_counter()
    print(f"idle: {100 * (c1 - c0) / (t1 - t0):.2f}% of one CPU over {t1 - t0:.0f} s")
    idle_latency = latency(w, path, clock, args.samples, 1)
    print(report("latency, line written to change printed, idle", idle_latency))

    stop, written = threading.Event(), [0]
    writer = threading.Thread(target=busy_writer, args=(path, clock, args.rate, stop, written), daemon=True)
    writer.start()
    time.sleep(2)
    c0, t0, w0 = cpu_seconds(w.proc.pid), time.perf_counter(), written[0]
    busy_latency = latency(w, path, clock, args.samples, 10_000)
    elapsed = time.perf_counter() - t0
    if elapsed < args.busy:
        time.sleep(args.busy - elapsed)
    c1, t1, w1 = cpu_seconds(w.proc.pid), time.perf_counter(), written[0]
    stop.set()
    writer.join()
    rate = (w1 - w0) / (t1 - t0) / 1e6
    print(f"writer at {rate:.1f} MB/s: {100 * (c1 - c0) / (t1 - t0):.1f}% of one CPU over {t1 - t0:.0f} s")
    print(report(f"latency, line written to change printed, writer at {rate:.0f} MB/s", busy_latency))


if __name__ == "__main__":
    main()
