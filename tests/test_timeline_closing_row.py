"""A stalled activation's timeline ends with the silence that made it a stall: the end of the
server's logs, the time since the last step and the stage's threshold."""

from __future__ import annotations

import io
import re

import pytest
from builders import SAMPLE_LOGS, scan_report

from bes_logdiag.render.table import Screen
from bes_logdiag.render.timeline import write_table
from bes_logdiag.select import user_matches


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return scan_report(SAMPLE_LOGS)


def timeline(report, user: str, width: int = 200) -> list[str]:  # type: ignore[no-untyped-def]
    acts = [a for a in report.activations if user_matches(user, a)]
    out = io.StringIO()
    write_table(user, acts, out, log_end=report.log_end, screen=Screen(width=width))
    return out.getvalue().splitlines()


def cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]


@pytest.mark.parametrize("width", [200, 80])
def test_a_stall_ends_with_the_logs_end_and_the_threshold(sample, width: int) -> None:  # type: ignore[no-untyped-def]
    lines = timeline(sample, "tom.reed@example.com", width)
    rows = [cells(x) for x in lines if x.startswith("│")]
    first = next(i for i, r in enumerate(rows) if r[0])
    closing = [r for r in rows[first:] if r[0]][-1]  # the last row with a time
    # tom.reed@example.com: ETP.DAT picked up at 07:10:57.893, nothing after it; BBPROD01 ends at 23:50:00.203
    assert closing[0] == "2024-01-01 23:50:00.203" and closing[1] == "+16h39m"
    text = " ".join(" ".join(r[2:]) for r in rows[rows.index(closing) :])
    assert "nothing until the logs end, stage 1 threshold 15m" in " ".join(text.split())


def test_a_stall_in_stage_3_names_its_own_threshold(sample) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(" ".join(timeline(sample, "marco.bianchi@example.com")).split())
    assert "nothing until the logs end, stage 3 threshold 30m" in text


@pytest.mark.parametrize(
    "user", ["anna.berg@example.com", "sara.nilsson@example.com", "omar.haddad@example.com"]
)
def test_other_verdicts_get_no_closing_row(sample, user: str) -> None:  # type: ignore[no-untyped-def]
    assert "nothing until the logs end" not in "\n".join(timeline(sample, user))


def test_without_the_end_of_the_logs_there_is_no_closing_row(sample) -> None:  # type: ignore[no-untyped-def]
    acts = [a for a in sample.activations if user_matches("tom.reed@example.com", a)]
    out = io.StringIO()
    write_table("tom.reed@example.com", acts, out, screen=Screen(width=200))
    assert "nothing until" not in out.getvalue()
