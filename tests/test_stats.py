"""Fleet statistics (``stats`` in JSON, the HTML report's charts): counts per verdict, time in each
stage (median, 90th percentile) and activations per hour, per server and overall; the same numbers
from the scan's values and from a saved JSON report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, scan_json, scan_report, write_activation
from hypothesis import given
from hypothesis import strategies as st

from bes_logdiag.render.json import activation_dict, stats_dict
from bes_logdiag.stats import facts_of, facts_of_dict, fleet_stats, percentile

# SEED_SITE's steps (builders): key 98.9 s after the ETP.DAT pickup, service books at 104.9 s,
# GetConfig at 143.9 s, SLOWSYNC COMPLETE at 575.9 s.
STAGE_SECONDS = {1: 98.9, 2: 6.0, 3: 39.0, 4: 432.0}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MYBES: Jane completes at 06:50, John at 07:50, Joe stops after his key at 09:50.
    OTHER: Ann completes at 09:50."""
    folder = tmp_path_factory.mktemp("logs")
    write_activation(folder, "MYBES", "20100521", "jane.doe@corp.com", 2001, "Doe, Jane", hour=6)
    write_activation(folder, "MYBES", "20100521", "john.roe@corp.com", 2002, "Roe, John", hour=7)
    write_activation(
        folder, "MYBES", "20100521", "joe.bloggs@corp.com", 2003, "Bloggs, Joe", hour=9, upto="key_generated"
    )
    write_activation(folder, "OTHER", "20100521", "ann.lee@corp.com", 3001, "Lee, Ann", hour=9)
    return folder


@pytest.fixture(scope="module")
def stats(logs: Path) -> dict[str, Any]:
    code, doc, _ = scan_json(logs, "-q")
    assert code == 1  # Joe is stalled
    return doc["stats"]  # type: ignore[no-any-return]


def stage(group: dict[str, Any], n: int) -> dict[str, Any]:
    return next(t for t in group["stages"] if t["stage"] == n)


def test_counts_per_verdict_overall_and_per_server(stats: dict[str, Any]) -> None:
    overall = stats["overall"]
    assert "server" not in overall
    assert (overall["activations"], overall["attempts"]) == (4, 4)
    assert (overall["complete"], overall["in_progress"], overall["stalled"], overall["failed"]) == (
        3,
        0,
        1,
        0,
    )
    assert overall["stalled_by_stage"] == [0, 1, 0, 0]  # Joe stopped in stage 2
    assert overall["failed_by_stage"] == [0, 0, 0, 0]
    assert [g["server"] for g in stats["servers"]] == ["MYBES", "OTHER"]
    mybes, other = stats["servers"]
    assert (mybes["activations"], mybes["complete"], mybes["stalled"]) == (3, 2, 1)
    assert (other["activations"], other["complete"], other["stalled"]) == (1, 1, 0)


def test_time_in_each_stage_counts_only_the_stages_left(stats: dict[str, Any]) -> None:
    overall = stats["overall"]
    # Joe left stage 1 (his key came) but never stage 2
    assert [stage(overall, n)["count"] for n in (1, 2, 3, 4)] == [4, 3, 3, 3]
    for n, seconds in STAGE_SECONDS.items():
        assert stage(overall, n)["median_seconds"] == pytest.approx(seconds, abs=0.002)
        assert stage(overall, n)["p90_seconds"] == pytest.approx(seconds, abs=0.002)
    assert stage(stats["servers"][1], 2)["count"] == 1


def test_activations_per_hour_of_the_day_by_verdict(stats: dict[str, Any]) -> None:
    hours = stats["overall"]["by_hour"]
    assert set(hours) == {"complete", "in_progress", "stalled", "failed"}
    assert all(len(v) == 24 for v in hours.values())
    assert [h for h, n in enumerate(hours["complete"]) if n] == [6, 7, 9]
    assert [h for h, n in enumerate(hours["stalled"]) for _ in range(n)] == [9]
    assert stats["servers"][0]["by_hour"]["complete"][9] == 0


def test_no_activation_gives_zeros_and_no_durations() -> None:
    empty = stats_dict(fleet_stats([]))
    assert empty["servers"] == []
    assert empty["overall"]["activations"] == 0
    assert all(t["count"] == 0 and t["median_seconds"] is None for t in empty["overall"]["stages"])


def test_the_scan_and_a_saved_report_give_the_same_numbers() -> None:
    """`merge` and `report` count again from JSON: the same numbers as the scan's own."""
    report = scan_report(SAMPLE_LOGS)
    from_values = stats_dict(fleet_stats(facts_of(a) for a in report.activations))
    from_json = stats_dict(fleet_stats(facts_of_dict(activation_dict(a)) for a in report.activations))
    assert from_values == from_json
    assert from_values["overall"]["activations"] == len(report.activations) == 19
    assert from_values["overall"]["attempts"] == 20  # Ian Dundas tried twice


@pytest.mark.parametrize(
    "values, q, expected",
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([1, 2, 3, 4], 0.5, 2.5),
        (list(range(1, 11)), 0.9, 9.1),
        ([3, 1, 2], 0.5, 2),
    ],
)
def test_percentile_interpolates_between_ranks(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_percentiles_lie_within_the_values_in_order(values: list[float]) -> None:
    median, p90 = percentile(values, 0.5), percentile(values, 0.9)
    assert median is not None and p90 is not None
    assert round(min(values), 3) - 0.001 <= median <= p90 <= round(max(values), 3) + 0.001
