"""``scan --format html --history FILE`` (issue 20): the page shows the history's trend, week by week,
this scan included; a history that cannot be used leaves the page without it, and the exit code 2."""

from __future__ import annotations

import re
from pathlib import Path

from builders import SAMPLE_LOGS, run_cli


def _history_rows(page: str) -> list[list[str]]:
    section = page.split('<section id="history"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_the_page_shows_the_weeks_of_the_history_this_scan_included(tmp_path: Path) -> None:
    db, page = tmp_path / "h.sqlite", tmp_path / "report.html"
    result = run_cli("scan", SAMPLE_LOGS, "-f", "html", "-o", page, "--history", db, "-q", "-j", "1")
    assert result.exit_code == 1, result.stderr  # (the sample holds stalls)
    html = page.read_text(encoding="utf-8")
    assert '<a href="#history">History</a>' in html
    rows = _history_rows(html)
    # The sample's 20 attempts start in ISO weeks 2023-W52 (12/30, 12/31) and 2024-W01 (01/01).
    assert [r[0] for r in rows] == ["2023-W52", "2024-W01", "all"]
    started = [int(r[1]) for r in rows]
    assert started[0] + started[1] == started[2] == 20
    assert "1 scan recorded in" in html


def test_without_history_the_page_has_no_history_section(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run_cli("scan", SAMPLE_LOGS, "-f", "html", "-o", page, "-q", "-j", "1")
    assert 'id="history"' not in page.read_text(encoding="utf-8")


def test_an_unusable_history_leaves_the_page_whole_without_it(tmp_path: Path) -> None:
    db, page = tmp_path / "h.sqlite", tmp_path / "report.html"
    db.write_bytes(b"not a database, " * 64)
    result = run_cli("scan", SAMPLE_LOGS, "-f", "html", "-o", page, "--history", db, "-q", "-j", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: {db}: ")
    html = page.read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and 'id="history"' not in html
