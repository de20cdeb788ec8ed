#!/usr/bin/env python3
"""How long a large HTML report takes to open in a browser (issue 17: 10,000 activations, under 3 s).

Builds a saved report of N activations, draws it with ``bes-logdiag report``, then opens the page
in Debian's headless Chromium (through Playwright, ``executable_path``) and times, per run in a
fresh tab, from the start of navigation to:

    load      the page's load event (everything parsed);
    ready     its script has run (``<html data-ready>``): sorting and filtering work;
    painted   two animation frames later: the first screen is on the glass.

and once with JavaScript off (the load event).  It prints each run, then medians.

The report is, by default, ``sample_logs/``'s 19 activations copied with new names and times until
there are N (13 of every 19 stalled, failed or in progress, each with its card and the log lines
around its evidence: heavier than real fleets); ``--corpus DIR`` scans a corpus instead, e.g. the
``acts-10000`` variant of make_corpus.py.

    python benchmarks/html.py [--activations 10000] [--runs 5] [--corpus DIR] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOL = [sys.executable, "-m", "bes_logdiag"]


def scan(path: Path, out: Path) -> None:
    code = subprocess.run([*TOOL, "scan", str(path), "--format", "json", "-o", str(out), "-q"]).returncode
    if code not in (0, 1):
        raise SystemExit(f"scan {path} failed with exit code {code}")


def shift(value: Any, days: int) -> Any:
    """Every ISO time in ``value`` moved ``days`` later."""
    if isinstance(value, dict):
        return {k: shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift(v, days) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()
        except ValueError:
            return value
    return value


def grown(doc: dict[str, Any], count: int) -> dict[str, Any]:
    """``doc`` with its activations copied, under new names a day apart each round, until there
    are ``count``; the statistics are counted again as merge counts them."""
    from bes_logdiag.merge import Saved, merge_reports

    base = doc["activations"]
    acts = []
    for n in range(count):
        a = copy.deepcopy(base[n % len(base)])
        round_ = n // len(base)
        if round_:
            a = shift(a, round_)
            for key in ("email", "display_name"):
                if a.get(key):
                    a[key] = (
                        f"{a[key]}{round_}" if key == "display_name" else a[key].replace("@", f"{round_}@", 1)
                    )
            if isinstance(a.get("user_id"), int):
                a["user_id"] += 100_000 * round_
        acts.append(a)
    big = {**doc, "activations": acts}
    return merge_reports([Saved("grown", big)])


def open_times(url: str, chromium: str, runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for javascript in [True] * runs + [False]:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
            )
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url, wait_until="load", timeout=300_000)
            loaded = time.perf_counter() - start
            row = {"js": float(javascript), "load": loaded}
            if javascript:
                page.wait_for_selector("html[data-ready]", state="attached")
                row["ready"] = time.perf_counter() - start
                page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                row["painted"] = time.perf_counter() - start
            out.append(row)
            print(
                " ".join(f"{k} {v:.2f}s" for k, v in row.items() if k != "js")
                + ("" if javascript else " (JavaScript off)")
            )
            context.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--activations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, help="scan this folder instead of growing sample_logs/")
    parser.add_argument(
        "--chromium", default=os.environ.get("BES_LOGDIAG_CHROMIUM") or shutil.which("chromium")
    )
    args = parser.parse_args()
    if not args.chromium:
        raise SystemExit("no Chromium: apt-get install chromium, or give --chromium PATH")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        saved = folder / "report.json"
        if args.corpus:
            scan(args.corpus, saved)
        else:
            scan(ROOT / "sample_logs", folder / "sample.json")
            doc = json.loads((folder / "sample.json").read_text(encoding="utf-8"))
            saved.write_text(json.dumps(grown(doc, args.activations)), encoding="utf-8")
        acts = len(json.loads(saved.read_text(encoding="utf-8"))["activations"])
        page = folder / "report.html"
        start = time.perf_counter()
        subprocess.run([*TOOL, "report", str(saved), "-o", str(page)], check=True)
        drawn = time.perf_counter() - start
        print(
            f"{acts:,} activations; bes-logdiag report: {drawn:.2f}s, "
            f"{page.stat().st_size / 1e6:.1f} MB of HTML"
        )
        rows = open_times(page.as_uri(), args.chromium, args.runs)
        timed = [r for r in rows if r["js"]]
        medians = {k: statistics.median(r[k] for r in timed) for k in ("load", "ready", "painted")}
        print("median of", len(timed), "runs:", ", ".join(f"{k} {v:.2f}s" for k, v in medians.items()))
        print(f"JavaScript off: load {rows[-1]['load']:.2f}s")


if __name__ == "__main__":
    main()
