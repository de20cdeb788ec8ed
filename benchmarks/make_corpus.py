#!/usr/bin/env python3
"""Write a benchmark corpus of any size: the sample-log folder with more noise, or a variant.

Reuses ``scripts/make_sample_logs.py``'s ``generate``: the same servers, files and activation
scenarios as ``sample_logs/``, so the scan's verdicts are the sample's, only buried in more
mail-flow noise.  The noise rate is chosen from the wanted size; the size written is printed.

    python benchmarks/make_corpus.py [--mb 850] [--days 0] [--seed 7] [OUT_DIR]

OUT_DIR defaults to ``benchmarks/corpus/`` (git-ignored).  ``--variant NAME`` (repeatable, or
``all``) writes a variant instead, each into ``benchmarks/corpus-NAME/`` (benchmarks/corpora.py
says what each holds), at its default size unless ``--mb`` is given:

    python benchmarks/make_corpus.py --variant dense-3 --variant acts-100 [--mb 50]
    python benchmarks/make_corpus.py --dense 1.6          # the same as --variant dense-1.6
    python benchmarks/make_corpus.py --variant all --mb 50
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from corpora import HERE, expand, gen, noise_for, parse_variant, write_variant

DEFAULT_OUT = HERE / "corpus"


def corpus_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out_dir", nargs="?", type=Path, default=None)
    ap.add_argument("--mb", type=float, help="about this many MB of logs (default 850, or the variant's)")
    ap.add_argument("--days", type=int, default=0, help="extra days after the three base days")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variant", action="append", default=[], metavar="NAME",
                    help="dense-P, pushes-P, acts-N, files-N, gz or all (repeatable)")  # fmt: skip
    ap.add_argument("--dense", type=float, action="append", default=[], metavar="PERCENT",
                    help="the dense variant with this percentage of mailbox error lines")  # fmt: skip
    ap.add_argument("--root", type=Path, default=HERE, help="holds the corpus-NAME folders")
    args = ap.parse_args(argv)
    names = args.variant + [parse_variant(f"dense-{p:g}").name for p in args.dense]
    if not names:
        out = args.out_dir or DEFAULT_OUT
        megabytes = 850.0 if args.mb is None else args.mb
        noise = noise_for(megabytes, args.days)
        started = time.perf_counter()
        # generate() empties OUT_DIR's log files first; it never writes the tests' ground truth.
        gen.generate(out, seed=args.seed, noise_per_hour=noise, extra_days=args.days)
        took = time.perf_counter() - started
        count, size = corpus_size(out)
        print(f"{count} files, {size / 1e6:.1f} MB (noise {noise}/hour/server) in {took:.1f} s -> {out}")
        return 0
    if args.out_dir is not None or args.days:
        ap.error("OUT_DIR and --days are for the default corpus; variants go to --root/corpus-NAME")
    for variant in expand(names):
        out = variant.folder(args.root)
        megabytes = variant.default_mb if args.mb is None else args.mb
        started = time.perf_counter()
        written = write_variant(variant, out, megabytes=megabytes, seed=args.seed)
        took = time.perf_counter() - started
        count, size = corpus_size(out)
        what = written.note
        if written.extras:
            what = f"{written.extras / written.lines:.2%} of {written.lines} lines are {what}"
        elif written.lines:
            what = f"{written.lines} lines, {what}"
        print(f"{variant.name}: {count} files, {size / 1e6:.1f} MB ({what}; noise {written.noise_per_hour}"
              f"/hour/server) in {took:.1f} s -> {out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
