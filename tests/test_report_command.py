"""``bes-logdiag report``: the HTML page of saved JSON reports of several hosts, the same page the scan
of all their logs draws, with no log copied anywhere; what merge refuses, report refuses too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_json

PROD, EAST = "BBPROD01", "BES_EAST_02"
MADE = re.compile(r'<p class="meta">Made by bes-logdiag .*?</p>')


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("saved")
    out = {"folder": folder}
    for server in (PROD, EAST):
        _, doc, _ = scan_json(SAMPLE_LOGS / server, "-q")
        out[server] = folder / f"{server.lower()}.json"
        out[server].write_text(json.dumps(doc), encoding="utf-8")
    return out


def rows(page: str) -> list[str]:
    return re.findall(r'<tr role="row" data-i="\d+" data-status="(\w+)"', page)


def test_the_page_of_two_hosts(saved: dict[str, Path]) -> None:
    target = saved["folder"] / "fleet.html"
    result = run_cli("report", saved[PROD], saved[EAST], "-o", target)
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"from 2 saved reports: <code>{saved[PROD]}</code>, <code>{saved[EAST]}</code>." in page
    assert len(rows(page)) == 19
    assert rows(page).count("stalled") == 7
    assert "<caption>Verdicts per server</caption>" in page
    assert f'<th scope="row">{PROD}</th>' in page and f'<th scope="row">{EAST}</th>' in page


def test_the_page_is_the_one_scan_draws_of_all_the_logs(saved: dict[str, Path]) -> None:
    """One code path: merged saved reports and a scan of every log give the same page."""
    report = run_cli("report", saved[PROD], saved[EAST])
    scan = run_cli("scan", SAMPLE_LOGS, "--format", "html", "-q", "--jobs", "1")
    assert (report.exit_code, scan.exit_code) == (0, 1)
    assert MADE.sub("", report.stdout) == MADE.sub("", scan.stdout)


def test_a_report_and_its_copy_are_one_report(saved: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    copy.write_bytes(saved[PROD].read_bytes())
    result = run_cli("report", saved[PROD], copy)
    assert result.exit_code == 0, result.stderr
    assert len(rows(result.stdout)) == 10


def test_overlapping_reports_are_refused_and_nothing_is_written(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    doc: dict[str, Any] = json.loads(saved[EAST].read_text(encoding="utf-8"))
    doc["activations"] = doc["activations"][1:]
    other = tmp_path / "east-again.json"
    other.write_text(json.dumps(doc), encoding="utf-8")
    target = tmp_path / "fleet.html"
    result = run_cli("report", saved[EAST], other, "-o", target)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"bes-logdiag: error: {other}: server {EAST} is also in {saved[EAST]} ")
    assert result.stderr.count("\n") == 1
    assert not target.exists()


def test_another_schema_version_is_refused(saved: dict[str, Path], tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text('{"schema_version": 1, "activations": [], "inputs": {}}', encoding="utf-8")
    result = run_cli("report", saved[PROD], old)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"bes-logdiag: error: {old}: schema_version 1, but this bes-logdiag reads 3: "
        "scan that host again with this version\n"
    )


def test_a_saved_report_without_stats_or_context_still_draws(saved: dict[str, Path], tmp_path: Path) -> None:
    """A report saved by a bes-logdiag before ``stats`` and ``context`` existed."""
    doc = json.loads(saved[PROD].read_text(encoding="utf-8"))
    del doc["stats"], doc["context"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("report", older)
    assert result.exit_code == 0, result.stderr
    assert len(rows(result.stdout)) == 10
    assert "Activations per hour of the day" in result.stdout
    assert '<pre class="ctx">' not in result.stdout  # no context saved: the evidence lines alone


@pytest.mark.parametrize("command", ["merge", "report"])
def test_help_has_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert f"Example: bes-logdiag {command} " in result.stdout
