"""``--since`` and ``--until`` take what they leave out from the logs: a date without a year gets the
logs' year (with a note), a time alone their last day, and ``7d`` or ``2h`` count back from their end."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import SAMPLE_LOGS, run_cli, write_activation
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.when import Span, parse_when, resolve

SAMPLE_END = datetime(2024, 1, 1, 23, 50)
"""The sample's last line (``log_end`` of both servers)."""


def scan(*args: object) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    result = run_cli("scan", SAMPLE_LOGS, "-f", "json", "--jobs", "1", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)["activations"], result.stderr


@pytest.fixture(scope="module")
def everything() -> list[dict]:  # type: ignore[type-arg]
    return scan()[1]


def test_a_date_without_a_year_takes_the_year_of_the_logs(everything: list[dict]) -> None:  # type: ignore[type-arg]
    _, acts, stderr = scan("--since", "01/01 09:00")
    expected = [a["email"] for a in everything if a["last_progress"] >= "2024-01-01T09:00"]
    assert expected and [a["email"] for a in acts] == expected
    assert (
        "--since '01/01 09:00' names no year: 2024-01-01 09:00:00, the year taken from the logs, "
        "which run from 2023-12-30 to 2024-01-01" in stderr
    )


def test_the_year_is_the_one_in_which_the_date_falls_within_the_logs(everything: list[dict]) -> None:  # type: ignore[type-arg]
    _, acts, stderr = scan("--until", "12/31")  # the sample runs from 2023-12-30 to 2024-01-01
    assert acts and [a["email"] for a in acts] == [
        a["email"] for a in everything if a["started"] < "2024-01-01"
    ]
    assert "2023-12-31 23:59:59" in stderr


def test_a_relative_time_counts_back_from_the_end_of_the_logs(everything: list[dict]) -> None:  # type: ignore[type-arg]
    _, acts, stderr = scan("--since", "15h")
    since = (SAMPLE_END - timedelta(hours=15)).isoformat()
    expected = [a["email"] for a in everything if a["last_progress"] >= since]
    assert expected and len(expected) < len(everything)
    assert [a["email"] for a in acts] == expected
    assert "--since 15h: from 2024-01-01 08:50:00, 15h before the logs end (2024-01-01 23:50:00)" in stderr


def test_a_time_alone_is_on_the_last_day_of_the_logs(everything: list[dict]) -> None:  # type: ignore[type-arg]
    _, acts, stderr = scan("--since", "09:00")
    assert [a["email"] for a in acts] == [
        a["email"] for a in everything if a["last_progress"] >= "2024-01-01T09:00"
    ]
    assert "names no day: 2024-01-01 09:00:00, on the last day of the logs" in stderr


def test_a_full_date_is_taken_as_written_without_a_note() -> None:
    _, acts, stderr = scan("--since", "2024-01-01 09:00")
    assert acts and "names no" not in stderr and "before the logs end" not in stderr


def test_the_note_is_in_the_json_notes() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "json", "-q", "--since", "2h")
    assert any(
        n.startswith("--since 2h: from 2024-01-01 21:50:00") for n in json.loads(result.stdout)["notes"]
    )
    assert result.stderr == ""  # -q: noted in the report only


def test_logs_of_an_old_year_are_selected_by_day_and_month(tmp_path: Path) -> None:
    write_activation(tmp_path, "BBOLD01", "20190314", "ann.lee@example.com", 3001, "Lee, Ann", hour=8)
    result = run_cli("scan", tmp_path, "-f", "json", "--since", "03/14 08:00", "--until", "03/14")
    assert result.exit_code == 0, result.stderr
    assert [a["email"] for a in json.loads(result.stdout)["activations"]] == ["ann.lee@example.com"]
    assert "2019-03-14 08:00:00" in result.stderr


def test_events_take_times_the_same_way(tmp_path: Path) -> None:
    write_activation(tmp_path, "BBOLD01", "20190314", "ann.lee@example.com", 3001, "Lee, Ann", hour=8)
    result = run_cli("events", tmp_path, "--since", "03/14 08:55", "--until", "03/14 08:59:59")
    assert result.exit_code == 0, result.stderr
    times = [json.loads(x)["time"] for x in result.stdout.splitlines()]
    assert times and all("2019-03-14T08:55" <= t < "2019-03-14T09:00" for t in times)


@pytest.mark.parametrize("text", ["yesterday-ish", "7 parsecs", "13/45"])
def test_what_is_no_time_is_a_usage_error(text: str) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "--since", text)
    assert result.exit_code == 2
    assert (
        f"'{text}' is not a date or time (examples: 2024-01-01 09:00, 01/01 09:00, 7d, 2h)" in result.stderr
    )


SPAN = Span(datetime(2023, 12, 30, 0, 0, 1), SAMPLE_END)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2023, 12, 30), max_value=datetime(2024, 1, 1, 23, 59)))
def test_a_moment_of_the_logs_written_without_its_year_is_found_again(moment: datetime) -> None:
    moment = moment.replace(second=0, microsecond=0)
    found, note = resolve(parse_when(f"{moment:%m/%d %H:%M}", "--since"), SPAN)
    assert found == moment and note is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/31", datetime(2023, 12, 31)),  # a day before the logs: the nearer year
        ("01/02", datetime(2024, 1, 2)),  # a day after them
        ("02/29", datetime(2024, 2, 29)),  # only a leap year has it
        ("2022", datetime(2022, 1, 1)),  # a year alone: its first day
        ("7d", SAMPLE_END - timedelta(days=7)),
        ("1h30m ago", SAMPLE_END - timedelta(hours=1, minutes=30)),
        ("-90m", SAMPLE_END - timedelta(minutes=90)),
    ],
)
def test_what_the_text_leaves_out(text: str, expected: datetime) -> None:
    span = Span(datetime(2024, 1, 1), SAMPLE_END)
    assert resolve(parse_when(text, "--since"), span)[0] == expected
