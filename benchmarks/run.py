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
and peak RSS where the OS does not report it.  Every command writes into a pipe that this script
reads: GNU grep stops at a file's first match when its output is /dev/null.

    python benchmarks/run.py [CORPUS] [--runs 5] [--version-runs 20] [--no-python] [--jobs N]

With ``--variant NAME`` (repeatable, or ``all``; ``default`` is benchmarks/corpus/) it times, per
variant written by make_corpus.py, ``grep -F -r -c -f LITERALS`` (for gz: ``gzip -dc | grep -F -c``)
against ``bes-logdiag scan DIR --format json -o FILE`` and prints one table row per variant:

    python benchmarks/run.py --variant dense-3 --variant acts-100 [--runs 3] [--jobs N] [--unbuffered]

``--verdicts NAME`` (repeatable) scans once and prints the sha256 of the sorted activations'
(server, email, user_id, display_name, status, stage, kb, last_milestone): equal digests, equal verdicts.

    python benchmarks/run.py --verdicts acts-3000 [--show]
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import json
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

from corpora import HERE, expand

from bes_logdiag.library import load_library

DEFAULT_CORPUS = HERE / "corpus"
_ERE_SPECIAL = set(b".[]()*+?{}|^$\\")
VERDICT_FIELDS = ("server", "email", "user_id", "display_name", "status", "stage", "kb", "last_milestone")


@dataclass
class Command:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    feed: list[str] | None = None
    """A command whose output this one reads on its stdin (``gzip -dc FILES``), started with it."""

    @property
    def shown(self) -> str:
        prefix = " ".join(f"{k}={v}" for k, v in self.env.items())
        args = " ".join(a if " " not in a and "|" not in a else f"'{a}'" for a in self.argv)
        shown = f"{prefix} {args}".strip()
        return f"{' '.join(self.feed[:3])} FILES | {shown}" if self.feed else shown


def grep_pattern() -> str:
    """The library's prefilter literals as one POSIX extended regex."""
    escaped = []
    for lit in load_library().literals:
        escaped.append(b"".join(b"\\" + bytes([c]) if c in _ERE_SPECIAL else bytes([c]) for c in lit))
    return os.fsdecode(b"|".join(escaped))


def literals_file(folder: Path) -> Path:
    """The library's prefilter literals, one a line, for ``grep -F -f``."""
    path = folder / "literals.txt"
    path.write_bytes(b"".join(lit + b"\n" for lit in load_library().literals))
    return path


def scan_command() -> list[str]:
    script = shutil.which("bes-logdiag", path=str(Path(sys.executable).parent)) or shutil.which("bes-logdiag")
    return [script] if script else [sys.executable, "-m", "bes_logdiag"]


GNU_TIME = "/usr/bin/time"


def run_once(cmd: Command, *, rss: bool = True) -> bytes:
    """Run ``cmd``, reading its output through a pipe, and record its wall time and peak RSS."""
    env = {**os.environ, **cmd.env}
    # As after a normal install: byte-code is cached (the warm-up round writes it), not
    # recompiled on every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv, report = cmd.argv, None
    if rss and _gnu_time():
        # Its own child's peak RSS: a child forked from this Python process would report at
        # least this process's RSS (Linux keeps the pre-exec high-water mark).
        fd, report = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", report, *argv]
    started = time.perf_counter()
    feeder = subprocess.Popen(cmd.feed, env=env, stdout=subprocess.PIPE) if cmd.feed else None
    stdin = feeder.stdout if feeder else None
    # stderr too: a terminal there would turn the scan's progress bar on.
    proc = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if feeder and feeder.stdout:
        feeder.stdout.close()  # the reader owns the pipe now: it sees EOF when the feeder ends
    out, err = proc.communicate()
    if feeder:
        feeder.wait()
    cmd.times.append(time.perf_counter() - started)
    if report is not None:
        text = Path(report).read_text().strip().splitlines()
        os.unlink(report)
        if text and text[-1].isdigit():
            cmd.rss_kb.append(int(text[-1]))
    if proc.returncode not in (0, 1):  # scan exits 1 when it finds stalled or failed activations
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{cmd.shown}: exit code {proc.returncode}: {' / '.join(tail)}")
    if feeder and feeder.returncode:
        raise SystemExit(f"{cmd.shown}: {cmd.feed[0] if cmd.feed else ''} exit code {feeder.returncode}")
    return out


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
    lines = [
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs",
        f"Python {platform.python_version()} ({sys.executable})",
    ]
    if shutil.which("grep"):
        version = subprocess.run(["grep", "--version"], capture_output=True, text=True, check=False)
        lines.append(version.stdout.splitlines()[0] if version.stdout else "grep: unknown version")
    return lines


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def corpus_size(folder: Path) -> tuple[int, int]:
    files = corpus_files(folder)
    return len(files), sum(p.stat().st_size for p in files)


def warm(folder: Path) -> None:
    """Read every file once so that every timed run finds the corpus in the page cache."""
    for p in corpus_files(folder):
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


def gzip_size(path: str) -> int:
    """The uncompressed size of a gzip file (its last member's ISIZE: files under 4 GiB, one member)."""
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        return int.from_bytes(f.read(4), "little")


def resolve(names: list[str], root: Path) -> list[tuple[str, Path]]:
    """Variant names (``default``: benchmarks/corpus/) as (name, ROOT/corpus-NAME); SystemExit when one
    is missing."""
    out = [("default", DEFAULT_CORPUS)] if "default" in names else []
    out += [(v.name, v.folder(root)) for v in expand([n for n in names if n != "default"])]
    missing = [name for name, folder in out if not folder.is_dir()]
    if missing:
        how = " ".join(f"--variant {n}" for n in missing if n != "default")
        write = f"python benchmarks/make_corpus.py {how}".rstrip()
        raise SystemExit(f"no corpus for {', '.join(missing)}: {write}")
    return out


def scan_argv(scan: list[str], folder: Path, output: Path, jobs: int | None) -> list[str]:
    argv = [*scan, "scan", str(folder), "--format", "json", "-o", str(output)]
    return argv if jobs is None else [*argv, "--jobs", str(jobs)]


def verdict_rows(report: dict[str, object]) -> list[list[object]]:
    """Each activation's verdict fields, sorted (the order of the report is not a verdict)."""
    acts = report["activations"]
    assert isinstance(acts, list)
    rows = [[a[k] for k in VERDICT_FIELDS] for a in acts]
    return sorted(rows, key=lambda row: json.dumps(row, ensure_ascii=False))


def verdict_digest(rows: list[list[object]]) -> str:
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verdicts(names: list[str], root: Path, jobs: int | None, show: bool) -> int:
    scan = scan_command()
    with tempfile.TemporaryDirectory(prefix="bes-bench-") as tmp:
        for name, folder in resolve(names, root):
            output = Path(tmp) / f"{name}.json"
            run_once(Command("scan", scan_argv(scan, folder, output, jobs)), rss=False)
            rows = verdict_rows(json.loads(output.read_text(encoding="utf-8")))
            counts = collections.Counter(str(row[4]) for row in rows)
            tally = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            print(f"{verdict_digest(rows)}  {name}: {len(rows)} activations ({tally})")
            if show:
                for row in rows:
                    print("\t".join("" if v is None else str(v) for v in row))
    return 0


def time_variants(names: list[str], root: Path, runs: int, jobs: int | None, unbuffered: bool) -> int:
    scan = scan_command()
    env = {"PYTHONUNBUFFERED": "1"} if unbuffered else {}
    targets, rows, shown = resolve(names, root), [], []
    print("\n".join(machine()))
    with tempfile.TemporaryDirectory(prefix="bes-bench-") as tmp:
        literals = literals_file(Path(tmp))
        for name, folder in targets:
            files = corpus_files(folder)
            size = sum(p.stat().st_size for p in files)
            gz = [str(p) for p in files if p.name.endswith(".gz")]
            shown_size = f"{size / 1e6:.0f}"
            if gz:
                shown_size = f"{sum(map(gzip_size, gz)) / 1e6:.0f} ({shown_size} gz)"
            if gz:
                grep = Command("grep", ["grep", "-F", "-c", "-f", str(literals)], {"LC_ALL": "C"},
                               feed=["gzip", "-dc", "--", *gz])  # fmt: skip
            else:
                argv = ["grep", "-F", "-r", "-c", "-f", str(literals), str(folder)]
                grep = Command("grep", argv, {"LC_ALL": "C"})
            output = Path(tmp) / "scan.json"
            scanner = Command("scan", scan_argv(scan, folder, output, jobs), env)
            warm(folder)
            hits = 0
            for round_ in range(runs + 1):  # round 0 is not timed: caches, .pyc files
                for cmd in (grep, scanner):
                    out = run_once(cmd)
                    if cmd is grep:
                        hits = sum(int(row.rsplit(b":", 1)[-1]) for row in out.splitlines())
                if round_ == 0:
                    for cmd in (grep, scanner):
                        cmd.times.clear()
                        cmd.rss_kb.clear()
            report = json.loads(output.read_text(encoding="utf-8"))
            g, s = statistics.median(grep.times), statistics.median(scanner.times)
            rss = f"{max(scanner.rss_kb) / 1024:.0f}" if scanner.rss_kb else "n/a"
            cells = [name, shown_size, len(files), f"{g:.2f}", f"{s:.2f}", f"{s / g:.2f}x", rss,
                     output.stat().st_size, len(report["activations"]), hits]  # fmt: skip
            rows.append("| " + " | ".join(map(str, cells)) + " |")
            shown += [grep.shown, scanner.shown]
            print(f"{name}: grep {g:.2f} s, scan {s:.2f} s", file=sys.stderr)
    print(f"\n{runs} alternating runs per variant, warm cache; median wall time in seconds\n")
    head = ("variant", "size MB", "files", "grep s", "scan s", "ratio", "RSS MB", "JSON bytes", "activations",
            "grep hits")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    print("\n".join(rows))
    print("\ncommands (the last variant's; LITERALS is the library's prefilter literals, one a line):")
    for line in shown[-2:]:
        print(f"    {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    ap.add_argument("--version-runs", type=int, default=20)
    ap.add_argument("--no-python", action="store_true", help="skip the pure-Python engine")
    ap.add_argument("--jobs", type=int, default=None, help="pass --jobs N to the scan (default: its own)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME",
                    help="time this variant of make_corpus.py (repeatable; all; default)")  # fmt: skip
    ap.add_argument("--unbuffered", action="store_true", help="run the scan with PYTHONUNBUFFERED=1")
    ap.add_argument("--verdicts", action="append", default=[], metavar="NAME",
                    help="print the digest of this variant's verdicts (repeatable)")  # fmt: skip
    ap.add_argument("--show", action="store_true", help="with --verdicts: also print the rows")
    ap.add_argument("--root", type=Path, default=HERE, help="holds the corpus-NAME folders")
    args = ap.parse_args(argv)
    if args.verdicts and args.variant:
        ap.error("--verdicts and --variant: one at a time")
    if args.verdicts:
        return verdicts(args.verdicts, args.root, args.jobs, args.show)
    if args.variant:
        return time_variants(args.variant, args.root, args.runs, args.jobs, args.unbuffered)
    if not args.corpus.is_dir():
        raise SystemExit(f"{args.corpus}: no corpus; write one with benchmarks/make_corpus.py")

    scan = scan_command()
    jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    env = {"PYTHONUNBUFFERED": "1"} if args.unbuffered else {}
    corpus = str(args.corpus)
    commands = []
    if shutil.which("grep"):
        commands.append(Command("grep", ["grep", "-E", "-r", "-c", grep_pattern(), corpus],
                                {"LC_ALL": "C"}))  # fmt: skip
    try:
        import hyperscan  # noqa: F401

        commands.append(Command("scan (hyperscan)", [*scan, "scan", corpus, "--format", "json", *jobs], env))
    except ImportError:
        pass
    if not args.no_python:
        commands.append(Command("scan (python)", [*scan, "scan", corpus, "--format", "json", *jobs],
                                {**env, "BES_LOGDIAG_ENGINE": "python"}))  # fmt: skip

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
