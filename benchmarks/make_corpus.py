#!/usr/bin/env python3
"""Write a benchmark corpus of any size: the sample-log folder with more noise (and more days).

Reuses ``scripts/make_sample_logs.py``'s ``generate``: the same servers, files and activation
scenarios as ``sample_logs/``, so the scan's verdicts are the sample's, only buried in more
mail-flow noise.  The noise rate is chosen from the wanted size; the size written is printed.

    python benchmarks/make_corpus.py [--mb 850] [--days 0] [--seed 7] [OUT_DIR]

OUT_DIR defaults to ``benchmarks/corpus/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "corpus"
BASE_DAYS = 3
BYTES_PER_NOISE_UNIT = 14_030
"""Bytes written per (noise line per hour per server) over the three base days, measured at seed 7."""


def load_generator() -> ModuleType:
    path = REPO / "scripts" / "make_sample_logs.py"
    spec = importlib.util.spec_from_file_location("make_sample_logs", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: cannot load the sample-log generator")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def noise_for(megabytes: float, extra_days: int) -> int:
    """Noise lines per hour per server that give about ``megabytes`` of logs."""
    per_unit = BYTES_PER_NOISE_UNIT * (BASE_DAYS + extra_days) / BASE_DAYS
    return max(1, round(megabytes * 1e6 / per_unit))


def corpus_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--mb", type=float, default=850.0, help="about this many MB of logs (default 850)")
    ap.add_argument("--days", type=int, default=0, help="extra days after the three base days")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    gen = load_generator()
    noise = noise_for(args.mb, args.days)
    started = time.perf_counter()
    # generate() empties OUT_DIR's log files first; it never writes the tests' ground truth.
    gen.generate(args.out_dir, seed=args.seed, noise_per_hour=noise, extra_days=args.days)
    took = time.perf_counter() - started
    count, size = corpus_size(args.out_dir)
    print(f"{count} files, {size / 1e6:.1f} MB (noise {noise}/hour/server) in {took:.1f} s -> {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
