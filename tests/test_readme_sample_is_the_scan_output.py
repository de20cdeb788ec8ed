"""The README's sample (the block under "Set up") is what ``bes-logdiag scan sample_logs -q --width
120`` prints: every line it shows, in order, where ``...`` stands for lines left out and a line
ending in `` ...`` for the rest of that line."""

from __future__ import annotations

import re

import pytest
from builders import ROOT, SAMPLE_LOGS, run_cli

README = ROOT / "README.md"
GAP = "..."


def readme_sample(text: str) -> list[str]:
    """The lines of the README's one fenced block that starts with the table's header."""
    blocks = re.findall(r"^```\n(.*?)^```$", text, flags=re.M | re.S)
    (block,) = [b for b in blocks if b.startswith("Server ")]
    return block.splitlines()


def _same(shown: str, line: str) -> bool:
    if shown.endswith(f" {GAP}"):
        return line.startswith(shown[: -len(GAP) - 1])
    return line == shown


def unmatched(sample: list[str], output: str) -> str | None:
    """The first line of ``sample`` that is not where it should be in ``output`` (None: it is the
    output, less what its ``...`` leave out)."""
    lines = [line.rstrip() for line in output.splitlines()]
    at, gap = 0, False
    for shown in sample:
        if shown == GAP:
            gap = True
            continue
        if gap:
            found = next((i for i in range(at, len(lines)) if _same(shown, lines[i])), None)
        else:
            found = at if at < len(lines) and _same(shown, lines[at]) else None
        if found is None:
            return shown
        at, gap = found + 1, False
    return None


def test_the_matching_reads_gaps_and_cut_lines() -> None:
    output = "head\na\nb\nc long line\nd\n"
    assert unmatched(["head", "...", "c long ...", "d"], output) is None
    assert unmatched(["head", "b"], output) == "b"  # no "..." between them: they must be next
    assert unmatched(["head", "...", "d", "c long line"], output) == "c long line"  # in order


@pytest.mark.skipif(not README.exists(), reason="README.md is not in this checkout")
def test_the_readme_sample_is_the_120_column_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the README names the files as the command in a checkout does
    result = run_cli("scan", SAMPLE_LOGS.relative_to(ROOT), "-q", "--width", "120")
    assert result.exit_code == 1, result.stderr
    sample = readme_sample(README.read_text(encoding="utf-8"))
    assert len([s for s in sample if s != GAP]) > 15
    missing = unmatched(sample, result.stdout)
    assert missing is None, f"not where the README shows it in the scan's output: {missing!r}"
