"""Every output writes its times one way: for people ``2023-12-30 10:26:32`` (the year always, in
ISO 8601's order; with ``.mmm`` in timelines and watch's lines), for machines ISO 8601 to the
millisecond, ``2023-12-30T10:26:32.717`` (never 6 digits of microseconds, never none).  ``merge``
still takes reports written with microseconds, and writes milliseconds."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, run_cli, scan_report, write_activation

from bes_logdiag.changes import diff_reports
from bes_logdiag.render.live import write_lines, write_ndjson

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")
HUMAN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
HUMAN_MS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
ANY_MACHINE = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+")
ANY_HUMAN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(?:\.\d+)?")
MONTH_DAY = re.compile(r"\b\d\d/\d\d \d\d:\d\d")
"""The logs' own ``MM/DD HH:MM``: in a report for people it is log text, never the report's own."""
TIME_KEYS = {"started", "last_progress", "completed", "time", "first_time", "last_time", "first", "last"}


@pytest.fixture(scope="module")
def sample_json() -> dict[str, Any]:
    result = run_cli("scan", SAMPLE_LOGS, "--format", "json", "-q")
    assert result.exit_code == 1, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def machine_times(text: str) -> list[str]:
    times = ANY_MACHINE.findall(text)
    assert times, text[:500]
    return times


def assert_machine(text: str) -> None:
    bad = [t for t in machine_times(text) if not ISO_MS.fullmatch(t)]
    assert not bad, bad[:5]


def assert_human(text: str, form: re.Pattern[str]) -> None:
    """Every time of the report's own in ``form`` (log lines, which carry the logs' own stamps,
    are taken out by the caller), and none in the logs' ``MM/DD`` form."""
    assert not MONTH_DAY.search(text), MONTH_DAY.findall(text)[:5]
    found = ANY_HUMAN.findall(text)
    assert found, text[:500]
    assert [t for t in found if not form.fullmatch(t)] == []


def walk_times(value: Any, key: str = "") -> list[Any]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in walk_times(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in walk_times(v, key)]
    return [value] if key in TIME_KEYS else []


# --- machine formats ------------------------------------------------------------------------------


def test_json_times_are_iso_8601_to_the_millisecond(sample_json: dict[str, Any]) -> None:
    times = walk_times(sample_json) + list(sample_json["log_end"].values())
    assert len(times) > 200
    assert [t for t in times if t is not None and not ISO_MS.fullmatch(t)] == []
    # BBPROD01's last line, as the log wrote it: (01/01 23:50:00.203)
    assert sample_json["log_end"]["BBPROD01"] == "2024-01-01T23:50:00.203"
    assert_machine(json.dumps(sample_json))


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--format", "ndjson"],
        ["scan", "--format", "csv"],
        ["scan", "--format", "csv", "--raw"],
        ["events", "--format", "ndjson"],
        ["events", "--format", "csv"],
        ["events", "--format", "json"],
    ],
    ids=lambda a: " ".join(a),
)
def test_machine_formats_write_milliseconds(argv: list[str]) -> None:
    result = run_cli(argv[0], SAMPLE_LOGS, *argv[1:], "-q")
    assert result.exit_code in (0, 1), result.stderr
    assert_machine(result.stdout)


def test_junit_carries_no_microseconds() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--format", "junit", "-q")
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{4,}", result.stdout)


def test_timeline_json_writes_milliseconds() -> None:
    result = run_cli("timeline", "ian.dundas@example.com", SAMPLE_LOGS, "--format", "json", "-q")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["milestones"][0]["time"] == "2023-12-30T14:30:32.447"
    assert_machine(result.stdout)


def test_watch_changes_as_ndjson_and_as_lines() -> None:
    changes = diff_reports(None, scan_report(SAMPLE_LOGS))
    out = io.StringIO()
    write_ndjson(changes, out)
    assert_machine(out.getvalue())
    lines = io.StringIO()
    write_lines(changes, lines)
    heads = [line.split(" ", 2)[:2] for line in lines.getvalue().splitlines()]
    assert heads and all(HUMAN_MS.fullmatch(" ".join(h)) for h in heads), heads[:3]


# --- merge: reports with microseconds still merge -------------------------------------------------


def with_microseconds(doc: Any, key: str = "") -> Any:
    """``doc`` as the previous version wrote it: ``isoformat()``, 6 digits, none at a whole second."""
    if isinstance(doc, dict):
        if key == "log_end":
            return {k: datetime.fromisoformat(v).isoformat() for k, v in doc.items()}
        return {k: with_microseconds(v, k) for k, v in doc.items()}
    if isinstance(doc, list):
        return [with_microseconds(v, key) for v in doc]
    if key in TIME_KEYS and isinstance(doc, str):
        return datetime.fromisoformat(doc).isoformat()
    return doc


def test_merge_takes_a_report_with_microseconds(tmp_path: Path, sample_json: dict[str, Any]) -> None:
    old = with_microseconds(sample_json)
    assert ".717000" in json.dumps(old) and '"2024-01-01T23:50:00.203000"' in json.dumps(old)
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(sample_json), encoding="utf-8")
    # the same logs scanned by both versions are one report, not two that contradict each other
    result = run_cli("merge", tmp_path / "old.json", tmp_path / "new.json")
    assert result.exit_code == 0, result.stderr
    merged = json.loads(result.stdout)
    assert len(merged["activations"]) == len(sample_json["activations"])
    assert merged["activations"] == sample_json["activations"]
    assert merged["unattached"] == sample_json["unattached"]
    assert_machine(result.stdout)
    alone = run_cli("merge", tmp_path / "old.json")
    assert alone.exit_code == 0 and json.loads(alone.stdout)["log_end"] == sample_json["log_end"]
    page = run_cli("report", tmp_path / "old.json")
    assert page.exit_code == 0, page.stderr
    assert "2024-01-01 23:50:00" in page.stdout


# --- formats for people ---------------------------------------------------------------------------


def test_scan_table_and_details_write_every_time_one_way() -> None:
    out = run_cli("scan", SAMPLE_LOGS, "-q", "--width", "120").stdout
    assert_human(out, HUMAN)
    # the details' evidence lines as the table's cells: tom.reed's ETP.DAT line, 2024-01-01 07:10:57
    assert re.search(r"^  - 2024-01-01 07:10:57 \S+BBPROD01_MAGT_02_20240101_0001\.txt:326$", out, flags=re.M)


def test_markdown_writes_every_time_one_way() -> None:
    md = run_cli("scan", SAMPLE_LOGS, "-q", "--format", "markdown").stdout
    # the excerpts are log lines, with the logs' own stamps: fenced, and left out here
    own = re.sub(r"^(`{3,})text\n.*?^\1$", "", md, flags=re.M | re.S)
    assert_human(own, HUMAN)


def test_html_writes_every_time_one_way() -> None:
    page = run_cli("scan", SAMPLE_LOGS, "-q", "--format", "html").stdout
    own = re.sub(r'<pre class="ctx">.*?</pre>', "", page, flags=re.S)
    own = re.sub(r'<p class="meta">.*?</p>', "", own, flags=re.S)  # when the page was made: today
    assert_human(own, HUMAN)
    assert '<text class="tick" x="' in own and re.search(r'class="tick"[^>]*>\d{4}-\d\d-\d\d \d\d:', own)


def test_timeline_within_one_year_still_writes_the_year(tmp_path: Path) -> None:
    write_activation(tmp_path, "MYBES", "20100521", "jane.doe@corp.com", 2001, "Doe, Jane", hour=9)
    result = run_cli("timeline", "jane.doe@corp.com", tmp_path, "-q", "--width", "200")
    assert result.exit_code == 0, result.stderr
    times = re.findall(r"^│ (\S+ \S+) +│", result.stdout, flags=re.M)
    assert times and all(HUMAN_MS.fullmatch(t) for t in times), times
    assert times[0] == "2010-05-21 09:50:00.100"
