"""``bes-logdiag history``: its figures for sample_logs/ checked against numbers worked out by
hand from the sample's lines, per day and per week, with --since and --server, in every format;
and the README's sqlite3 query on the schema."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from builders import SAMPLE_LOGS, data_file, run_cli, scan_report

from bes_logdiag.history.choices import HistoryFormat
from bes_logdiag.history.record import record_scan
from bes_logdiag.history.render import CSV_COLUMNS

# BES_EAST_02's milestone lines in sample_logs/ (grep "Queuing DATA from|Generating|service
# book|SET_ITPOLICY|GetConfig|SLOWSYNC COMPLETE|CICAL] Starting") and the seconds between them,
# by hand.  A stage's time runs from its first milestone to the first of the next stage (stage 4:
# to SLOWSYNC COMPLETE); medians and 90th percentiles interpolate between ranks (Excel's
# PERCENTILE.INC).
#
# 12/30 peter.novak  ETP 11:00:48.488, key 11:00:50.014, books 11:00:56.130, GetConfig 11:01:42.941,
#                    complete 11:14:10.590: 1.526, 6.116, 46.811, 747.649 s
# 12/31 jsmith       ETP 10:05:13.393, key 10:05:21.384, books 10:05:27.353, GetConfig 10:06:17.771,
#                    complete 10:14:13.300: 7.991, 5.969, 50.418, 475.529 s
#       juergen      ETP 15:20:09.905, key 15:20:14.079, books 15:20:20.222, GetConfig 15:21:24.340,
#                    complete 15:31:45.261: 4.174, 6.143, 64.118, 620.921 s
# 01/01 eva          failed (IT Policy Rejected, KB04533) at stage 3: 4.615, 2.737 s
#       marco        stalled at stage 3 (KB03410): 5.427, 4.297 s
#       nina         stalled at stage 3 (KB13847): 6.348, 3.176 s
#       pierre       stalled at stage 4 (KB03964): 6.813, 3.544, 45.383 s
#       hana         stalled at stage 4 (KB10496): 4.381, 5.542, 56.466 s
#       lucas        stalled at stage 4 (KB13461): 4.059, 4.467, 58.757 s
Day = tuple[str, int, int, int, int, int, list[tuple[float | None, float | None]], list[str]]
EAST_DAYS: list[Day] = [
    # period, started, complete, in progress, stalled, failed, (median, p90) of stages 1-4, top KB
    ("2023-12-30", 1, 1, 0, 0, 0, [(1.526, 1.526), (6.116, 6.116), (46.811, 46.811), (747.649, 747.649)], []),
    ("2023-12-31", 2, 2, 0, 0, 0,
     [(6.0825, 7.6093), (6.056, 6.1256), (57.268, 62.748), (548.225, 606.3818)], []),
    ("2024-01-01", 6, 0, 0, 5, 1,
     [(5.021, 6.5805), (3.9205, 5.0045), (56.466, 58.2988), (None, None)], ["KB03410", "KB03964", "KB04533"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("history") / "sample.sqlite"
    record_scan(db, scan_report(SAMPLE_LOGS), inputs=[str(SAMPLE_LOGS)])
    return db


def history_json(*args: object) -> dict[str, Any]:
    result = run_cli("history", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["period"], row["started"], row["complete"], row["in_progress"], row["stalled"], row["failed"],
        [(s["median_seconds"], s["p90_seconds"]) for s in row["stages"]], [k["kb"] for k in row["kb"]],
    )  # fmt: skip


def test_one_servers_days_are_the_hand_counted_figures(sample_db: Path) -> None:
    doc = history_json(sample_db, "--server", "BES_EAST_02")
    for got, want in zip(doc["periods"], EAST_DAYS, strict=True):
        assert figures(got)[:6] == want[:6]
        assert figures(got)[7] == want[7]
        for (median, p90), (m, p) in zip(figures(got)[6], want[6], strict=True):
            assert median == pytest.approx(m, abs=0.001) and p90 == pytest.approx(p, abs=0.001)
    total = doc["total"]
    assert (total["period"], total["started"], total["complete"], total["stalled"], total["failed"]) == (
        "all",
        9,
        3,
        5,
        1,
    )
    # Stage 4 over all three days: 475.529, 620.921, 747.649 s.
    assert total["stages"][3]["count"] == 3 and total["stages"][3]["median_seconds"] == pytest.approx(620.921)


def test_the_totals_are_the_samples_expected_verdicts(sample_db: Path) -> None:
    """Every attempt of the sample once: each activation's last attempt with the status the
    sample generator planned (tests/data/sample_expected.json), and Ian Dundas's first attempt
    on BBPROD01, given up and retried the next day, stalled."""
    expected = json.loads(data_file("sample_expected.json").read_text(encoding="utf-8"))
    planned = {
        s: sum(a["status"] == s for a in expected) for s in ("complete", "in_progress", "stalled", "failed")
    }
    earlier = sum(a["attempts"] - 1 for a in expected)
    total = history_json(sample_db)["total"]
    assert total["started"] == len(expected) + earlier == 20
    assert (total["complete"], total["in_progress"], total["stalled"], total["failed"]) == (
        planned["complete"], planned["in_progress"], planned["stalled"] + earlier, planned["failed"],
    )  # fmt: skip
    kbs = {k["kb"]: k["count"] for k in total["kb"]}
    assert kbs == {"KB13840": 2, "KB13843": 2, "KB02276": 1}, "Tom Reed's stall and Ian's first try: KB13840"


def test_per_week_and_since(sample_db: Path) -> None:
    weeks = history_json(sample_db, "--per", "week")["periods"]
    assert [(w["period"], w["first_day"], w["started"]) for w in weeks] == [
        ("2023-W52", "2023-12-25", 7),
        ("2024-W01", "2024-01-01", 13),
    ]
    # Counted back from the newest attempt (Sara Nilsson's, 2024-01-01 23:40): that day alone.
    one_day = history_json(sample_db, "--since", "1d")
    assert one_day["since"] == "2024-01-01T00:00:00.000"
    assert [p["period"] for p in one_day["periods"]] == ["2024-01-01"]
    assert [p["period"] for p in history_json(sample_db, "--since", "2023-12-31")["periods"]] == [
        "2023-12-31",
        "2024-01-01",
    ]
    assert history_json(sample_db, "--since", "30d")["total"]["started"] == 20


def test_csv_has_a_row_per_period_and_the_total(sample_db: Path) -> None:
    result = run_cli("history", sample_db, "--server", "bes_east_02", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["period"], r["started"], r["stalled"], r["failed"]) for r in rows] == [
        ("2023-12-30", "1", "0", "0"),
        ("2023-12-31", "2", "0", "0"),
        ("2024-01-01", "6", "5", "1"),
        ("all", "9", "5", "1"),
    ]
    assert rows[2]["stage3_median_seconds"] == "56.466" and rows[2]["stage4_count"] == "0"
    assert rows[2]["top_kb"] == "KB03410 (1); KB03964 (1); KB04533 (1)"


def test_the_table_shows_each_period_and_the_scans(sample_db: Path) -> None:
    result = run_cli("history", sample_db, "--server", "BES_EAST_02")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out
    for text in (
        "2023-12-30",
        "2023-12-31",
        "2024-01-01",
        "all",
        "56s / 58s",
        "KB03410 (1)",
        "1 scan recorded",
    ):
        assert text in out, text


@pytest.mark.parametrize("fmt", list(HistoryFormat))
def test_every_format_writes_the_same_periods(sample_db: Path, fmt: HistoryFormat, tmp_path: Path) -> None:
    target = tmp_path / f"trend.{fmt.value}"
    result = run_cli("history", sample_db, "--format", fmt.value, "-o", target)
    assert (result.exit_code, result.stdout) == (0, "")
    text = target.read_text(encoding="utf-8")
    assert all(day in text for day in ("2023-12-30", "2023-12-31", "2024-01-01"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday-ish"], "Invalid value for --since: 'yesterday-ish' is neither a span"),
        (["--since", "0d"], "Invalid value for --since: '0d': give a span longer than zero"),
        # (read as in the year 2000, it counted every attempt without a word)
        (["--since", "01/01"], "Invalid value for --since: '01/01' names no year: give it (2024-01-01)"),
        # (an internal OverflowError)
        (["--since", "99999999d"], "Invalid value for --since: '99999999d': longer than any history"),
        (["--raw"], "Invalid value for --raw: applies to --format csv only"),
        (["--per", "month"], "Invalid value for '--per'"),
    ],
)
def test_bad_options_are_usage_errors(sample_db: Path, args: list[str], message: str) -> None:
    result = run_cli("history", sample_db, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_empty_file_is_a_history_with_no_periods(tmp_path: Path) -> None:
    """And stays empty: reading it wrote the history's tables into it (57,344 bytes)."""
    db = tmp_path / "empty.sqlite"
    db.write_bytes(b"")
    doc = history_json(db)
    assert (doc["runs"], doc["periods"], doc["total"]["started"]) == (0, [], 0)
    assert db.read_bytes() == b""


README_QUERY = """SELECT a.server, a.email, c.status, c.stage, r.recorded
  FROM changes AS c JOIN activations AS a ON a.id = c.activation_id JOIN runs AS r ON r.id = c.run_id
 WHERE a.status = 'complete' ORDER BY a.server, a.started, r.id"""
"""The README's sqlite3 example (History section): each attempt's statuses as the scans found them."""


def test_the_readme_query_runs_on_the_schema(sample_db: Path) -> None:
    with sqlite3.connect(sample_db) as conn:
        got = conn.execute(README_QUERY).fetchall()
    assert [(server, email, status) for server, email, status, _, _ in got] == [
        ("BBPROD01", "anna.berg@example.com", "complete"),
        ("BBPROD01", "ian.dundas@example.com", "complete"),
        ("BBPROD01", "maria.lopez@example.com", "complete"),
        ("BES_EAST_02", "peter.novak@example.com", "complete"),
        ("BES_EAST_02", "jsmith@example.com", "complete"),
        ("BES_EAST_02", "juergen.mueller@example.com", "complete"),
    ]


def test_history_has_help_with_an_example() -> None:
    result = run_cli("history", "--help")
    assert result.exit_code == 0
    assert "Example: bes-logdiag history" in result.stdout


def test_stages_no_attempt_ended_at_are_named_too(tmp_path: Path) -> None:
    """Every recorded attempt completed (the healthy case): stages 1 to 3 were "stage 1" to
    "stage 3" in the table, the JSON and the CSV, their names taken only from attempts that ended
    there."""
    db = tmp_path / "h.sqlite"
    record_scan(db, scan_report(SAMPLE_LOGS / "BES_EAST_02" / "20231230"), inputs=["x"])
    (period,) = history_json(db)["periods"]
    assert [s["name"] for s in period["stages"]] == [
        "Activation", "Verifying encryption", "Receiving services", "Slow synchronization",
    ]  # fmt: skip


def test_a_span_in_hours_counts_hours_back(sample_db: Path) -> None:
    """``--since 24h`` was read as ``1d``, from the newest attempt's midnight: maria.lopez, who
    started 2023-12-31 23:52, 48 minutes before the newest (2024-01-01 23:40:13), was left out."""
    hours = history_json(sample_db, "--since", "24h")
    days = history_json(sample_db, "--since", "1d")
    assert hours["since"] == "2023-12-31T23:40:13.628"
    assert days["since"] == "2024-01-01T00:00:00.000"
    assert hours["total"]["started"] == days["total"]["started"] + 1


def test_a_server_not_in_the_file_is_told_and_exits_4(sample_db: Path) -> None:
    result = run_cli("history", sample_db, "--server", "BES_EAST_2", "--format", "json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["total"]["started"] == 0, "the (empty) report is still written"
    assert "--server 'BES_EAST_2': no attempt on this server" in result.stderr
    assert "BES_EAST_02" in result.stderr and "BBPROD01" in result.stderr, "the file's servers are named"
    both = run_cli("history", sample_db, "--server", "bes_east_02", "--server", "BBPROD01")
    assert both.exit_code == 0 and both.stderr == ""
