"""``words.duration``: the one way a span of time is written, in a reason, a refused-join note and
a timeline's gap column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bes_logdiag.words import duration

REASONS = [  # as diagnose writes them: up to three units, the zero ones left out
    (0, "0s"),
    (-5, "0s"),
    (45, "45s"),
    (60 * 30, "30m"),
    (3600, "1h"),
    (3605, "1h5s"),
    (16 * 3600 + 39 * 60 + 2, "16h39m2s"),
    (2 * 86400 + 9 * 3600 + 19 * 60 + 30, "2d9h19m"),
    (86400 + 5, "1d"),
]
GAPS = [  # as the timeline's Gap column shows them: two units, the second on two digits
    (0.0, "0.0s"),
    (3.25, "3.2s"),
    (9.99, "10.0s"),
    (10.5, "10s"),
    (60, "1m00s"),
    (98.88, "1m38s"),
    (3725, "1h02m"),
    (86400 + 3600, "1d01h"),
]


@pytest.mark.parametrize("seconds, text", REASONS)
def test_a_reason_names_up_to_three_units(seconds: float, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("seconds, text", GAPS)
def test_a_gap_names_two_units_like_a_clock(seconds: float, text: str) -> None:
    assert duration(timedelta(seconds=seconds), units=2, clock=True) == text
