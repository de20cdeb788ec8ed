#!/usr/bin/env python3
"""Time ``bes-logdiag redact`` against ``bes-logdiag scan`` on the same logs, and show its memory.

Alternates, round after round on a warm page cache:

    bes-logdiag scan CORPUS --format json -o FILE
    bes-logdiag redact CORPUS -o OUTDIR --key KEY -q          (into a fresh OUTDIR each round)

and prints each command's median and best wall time, the redaction's ratio to the scan (issue
18's target: within 3x), the same for CPU time (user + system, workers included: the ratio that
does not move when other programs share the cores), and peak RSS (GNU time's %M: the largest
process, the command or one of its workers).  Memory flat in log size: ``--memory`` also
redacts one 4 MB log and the same log repeated to ``--memory-mb`` megabytes, one worker each,
and prints both peaks.

    python benchmarks/redact.py [CORPUS] [--runs 3] [--jobs N] [--memory] [--memory-mb 400]

The scan reads only the services that write activation lines (MAGT, POLC, SYNC, CMNG) and skips
CTRL, DISP and ROUT logs; the redaction reads and writes every log, those too.  The second table
line times both on the activation services' files alone, where the two read
the same bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
GNU_TIME = "/usr/bin/time"
ACTIVATION_SERVICES = ("_MAGT_", "_POLC_", "_SYNC_", "_CMNG_")


@dataclass
class Run:
    name: str
    argv: list[str]
    fresh: Path | None = None
    """A folder emptied before each run (the redaction's output)."""
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)


def tool() -> list[str]:
    script = shutil.which("bes-logdiag", path=str(Path(sys.executable).parent)) or shutil.which("bes-logdiag")
    return [script] if script else [sys.executable, "-m", "bes_logdiag"]


def run_once(run: Run) -> None:
    if run.fresh is not None:
        shutil.rmtree(run.fresh, ignore_errors=True)
    argv, report = run.argv, None
    if os.path.exists(GNU_TIME):
        fd, report = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%U %S %M", "-o", report, *argv]
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False)
    run.times.append(time.perf_counter() - started)
    if proc.returncode not in (0, 1):
        sys.exit(f"{run.name} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    if report is not None:
        text = Path(report).read_text().strip().splitlines()
        os.unlink(report)
        fields = text[-1].split() if text else []
        if len(fields) == 3 and fields[2].isdigit():
            run.cpu.append(float(fields[0]) + float(fields[1]))
            run.rss_kb.append(int(fields[2]))


def warm(folder: Path) -> int:
    """Read every file once (page cache), and return the bytes."""
    total = 0
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    total += len(chunk)
    return total


def compare(corpus: Path, runs: int, jobs: int, work: Path, label: str) -> None:
    key = work / "bench.key"
    scan = Run(
        "scan",
        [*tool(), "scan", str(corpus), "--format", "json", "-o", str(work / "r.json"), "-j", str(jobs)],
    )
    out = work / "redacted"
    argv = [*tool(), "redact", str(corpus), "-o", str(out), "--key", str(key), "-q", "-j", str(jobs)]
    redact = Run("redact", argv, fresh=out)
    size = warm(corpus)
    for r in (scan, redact):  # untimed: byte-code cache, key file
        run_once(r)
        r.times.clear()
        r.cpu.clear()
        r.rss_kb.clear()
    for _ in range(runs):
        for r in (scan, redact):
            run_once(r)
    shutil.rmtree(out, ignore_errors=True)
    s, d = statistics.median(scan.times), statistics.median(redact.times)
    rss = {r.name: (f"{max(r.rss_kb) / 1024:.0f} MB" if r.rss_kb else "n/a") for r in (scan, redact)}
    cpu = "n/a | n/a | n/a"
    if scan.cpu and redact.cpu:
        sc, dc = statistics.median(scan.cpu), statistics.median(redact.cpu)
        cpu = f"{sc:.2f} s | {dc:.2f} s | {dc / sc:.1f}x"
    print(
        f"| {label} | {size / 1e6:,.0f} MB | {s:.2f} s (best {min(scan.times):.2f}) | "
        f"{d:.2f} s (best {min(redact.times):.2f}) | {d / s:.1f}x | {cpu} | {rss['scan']} | {rss['redact']} |"
    )


def activation_logs(corpus: Path, work: Path) -> Path:
    """Links to the corpus's MAGT, POLC, SYNC and CMNG logs only, in their folders."""
    root = work / "same-files" / corpus.name
    for p in corpus.rglob("*"):
        if p.is_file() and any(s in p.name for s in ACTIVATION_SERVICES):
            target = root / p.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, target)
            except OSError:
                shutil.copy(p, target)
    return root


def memory(corpus: Path, work: Path, megabytes: int) -> None:
    """Peak RSS redacting one ~4 MB log, then the same lines repeated to `megabytes` MB."""
    source = max((p for p in corpus.rglob("*_MAGT_*") if p.is_file()), key=lambda p: p.stat().st_size)
    small = work / "mem-small" / source.name
    big = work / "mem-big" / source.name
    small.parent.mkdir(parents=True)
    big.parent.mkdir(parents=True)
    with open(source, "rb") as f:
        head = f.read(4 * 1024 * 1024)
    head = head[: head.rfind(b"\n") + 1]
    small.write_bytes(head)
    with open(big, "wb") as f:
        for _ in range(max(1, megabytes * 1024 * 1024 // len(head))):
            f.write(head)
    key = work / "bench.key"
    for label, path in (("small", small), ("big", big)):
        out = work / f"mem-out-{label}"
        r = Run(
            label,
            [*tool(), "redact", str(path), "-o", str(out), "--key", str(key), "-q", "-j", "1"],
            fresh=out,
        )
        run_once(r)
        shutil.rmtree(out, ignore_errors=True)
        rss = f"{r.rss_kb[0] / 1024:.0f} MB" if r.rss_kb else "n/a"
        print(f"| one log, {path.stat().st_size / 1e6:,.0f} MB | {r.times[0]:.2f} s | {rss} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="--jobs of both commands (0: one per core)")
    parser.add_argument(
        "--memory", action="store_true", help="also show peak memory on a small and a big log"
    )
    parser.add_argument("--memory-mb", type=int, default=400)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"{args.corpus}: no such folder (python benchmarks/make_corpus.py makes benchmarks/corpus)")
    with tempfile.TemporaryDirectory(prefix="bes-redact-bench-") as tmp:
        work = Path(tmp)
        python = sys.version.split()[0]
        print(f"{args.runs} rounds, --jobs {args.jobs}, {os.cpu_count()} cores, Python {python}\n")
        print(
            "| input | size | scan (median) | redact (median) | ratio | scan CPU | redact CPU | CPU ratio "
            "| scan RSS | redact RSS |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        compare(args.corpus, args.runs, args.jobs, work, f"`{args.corpus.name}`, every log")
        same = activation_logs(args.corpus, work)
        compare(same, args.runs, args.jobs, work, f"`{args.corpus.name}`, MAGT/POLC/SYNC/CMNG only")
        if args.memory:
            print("\n| redact, one worker | time | peak RSS |\n|---|---|---|")
            memory(args.corpus, work, args.memory_mb)


if __name__ == "__main__":
    main()
