#!/usr/bin/env python3
"""Time a full ``bes-logdiag scan --format json`` against ``grep`` for the same markers.

Alternates, round after round on a warm page cache:

    LC_ALL=C grep -E -r -c '<the library's prefilter literals>' CORPUS
    bes-logdiag scan CORPUS --format json                            (hyperscan, when installed)
    BES_LOGDIAG_ENGINE=python bes-logdiag scan CORPUS --format json  (the pure-Python engine)

and prints each command's median and best wall time, its ratio to grep's median, and its peak
RSS (GNU time's %M: the largest process of the run, the scan or one of its workers), then the
median time of ``bes-logdiag --version``.  The markers are read from the pattern library, so grep always looks
for what the scan's prefilter looks for.  grep is skipped where it is not installed (Windows),
and peak RSS where the OS does not report it.

    python benchmarks/run.py [CORPUS] [--runs 5] [--version-runs 20] [--no-python]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bes_logdiag.library import load_library

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
_ERE_SPECIAL = set(b".[]()*+?{}|^$\\")


@dataclass
class Command:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def shown(self) -> str:
        prefix = " ".join(f"{k}={v}" for k, v in self.env.items())
        args = " ".join(a if " " not in a and "|" not in a else f"'{a}'" for a in self.argv)
        return f"{prefix} {args}".strip()


def grep_pattern() -> str:
    """The library's prefilter literals as one POSIX extended regex."""
    escaped = []
    for lit in load_library().literals:
        escaped.append(b"".join(b"\\" + bytes([c]) if c in _ERE_SPECIAL else bytes([c]) for c in lit))
    return os.fsdecode(b"|".join(escaped))


def scan_command() -> list[str]:
    script = shutil.which("bes-logdiag", path=str(Path(sys.executable).parent)) or shutil.which("bes-logdiag")
    return [script] if script else [sys.executable, "-m", "bes_logdiag"]


GNU_TIME = "/usr/bin/time"


def run_once(cmd: Command) -> None:
    env = {**os.environ, **cmd.env}
    # As after a normal install: byte-code is cached (the warm-up round writes it), not
    # recompiled on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv, report = cmd.argv, None
    if _gnu_time():
        # Its own child's peak RSS: a child forked from this Python process would report at
        # least this process's RSS (Linux keeps the pre-exec high-water mark).
        fd, report = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", report, *argv]
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
    cmd.times.append(time.perf_counter() - started)
    if report is not None:
        text = Path(report).read_text().strip().splitlines()
        os.unlink(report)
        if text and text[-1].isdigit():
            cmd.rss_kb.append(int(text[-1]))
    if proc.returncode not in (0, 1):  # scan exits 1 when it finds stalled or failed activations
        raise SystemExit(f"{cmd.shown}: exit code {proc.returncode}")


@functools.cache
def _gnu_time() -> bool:
    if not Path(GNU_TIME).exists():
        return False
    probe = subprocess.run([GNU_TIME, "-f", "%M", "true"], capture_output=True, check=False)
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    if Path("/proc/cpuinfo").exists():
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    return [
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs",
        f"Python {platform.python_version()} ({sys.executable})",
    ]


def corpus_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def warm(folder: Path) -> None:
    """Read every file once so that every timed run finds the corpus in the page cache."""
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 20):
                    pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--version-runs", type=int, default=20)
    ap.add_argument("--no-python", action="store_true", help="skip the pure-Python engine")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        raise SystemExit(f"{args.corpus}: no corpus; write one with benchmarks/make_corpus.py")

    scan = scan_command()
    corpus = str(args.corpus)
    commands = []
    if shutil.which("grep"):
        commands.append(Command("grep", ["grep", "-E", "-r", "-c", grep_pattern(), corpus],
                                {"LC_ALL": "C"}))  # fmt: skip
    try:
        import hyperscan  # noqa: F401

        commands.append(Command("scan (hyperscan)", [*scan, "scan", corpus, "--format", "json"]))
    except ImportError:
        pass
    if not args.no_python:
        commands.append(Command("scan (python)", [*scan, "scan", corpus, "--format", "json"],
                                {"BES_LOGDIAG_ENGINE": "python"}))  # fmt: skip

    count, size = corpus_size(args.corpus)
    print("\n".join(machine()))
    print(f"corpus: {corpus}: {count} files, {size / 1e6:.0f} MB")
    warm(args.corpus)
    for cmd in commands:  # one untimed round: caches, .pyc files
        run_once(cmd)
        cmd.times.clear()
        cmd.rss_kb.clear()
    for _ in range(args.runs):
        for cmd in commands:
            run_once(cmd)
    version = Command("--version", [*scan, "--version"])
    for _ in range(args.version_runs):
        run_once(version)

    base = statistics.median(commands[0].times) if commands[0].name == "grep" else None
    print(f"\n{args.runs} alternating runs, warm cache; wall time in seconds\n")
    print("| command | median | best | vs grep | peak RSS |")
    print("|---|---|---|---|---|")
    for cmd in commands:
        med = statistics.median(cmd.times)
        ratio = f"{med / base:.2f}x" if base else "n/a"
        rss = f"{max(cmd.rss_kb) / 1024:.0f} MB" if cmd.rss_kb else "n/a"
        print(f"| {cmd.name} | {med:.2f} | {min(cmd.times):.2f} | {ratio} | {rss} |")
    print(f"\n`bes-logdiag --version`: median {statistics.median(version.times) * 1000:.0f} ms "
          f"over {args.version_runs} runs")  # fmt: skip
    print("\ncommands:")
    for cmd in [*commands, version]:
        print(f"    {cmd.shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
