"""``timeline USER PATH --follow``: the user's timeline grows as a writer thread plays the BES."""

from __future__ import annotations

import json

import pytest
from builders import run_cli
from test_watch_support import IAN, T0, Bes, started_watch, user, writer


def test_the_timeline_grows_a_line_per_step(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    ian = user(IAN, T0)
    for s in ian.keep[:2]:
        bes.step(ian, s)
    writer(started_watch(monkeypatch), bes.steps(ian, ian.keep[2:]))
    result = run_cli(
        "timeline", IAN[0], bes.root, "--follow", "--interval", "0.05s", "--timeout", "0.5s", "-q"
    )
    assert result.exit_code == 3, result.stderr
    out = result.stdout
    # The timeline as it stood (a table with its heading), then one line per new step, in order.
    assert out.startswith(f"{IAN[0]} · - · UserId=- on server BES_EU_01: in_progress, stage 2")
    grown = [line for line in out.splitlines() if line.startswith("2024-03-11 ") and "  try " in line]
    assert [line.split()[7] for line in grown] == [
        "key_accept_sent", "service_books_requested", "itpolicy_queued", "slowsync_started", "calendar_sync",
        "slowsync_progress", "slowsync_complete",
    ]  # fmt: skip
    assert grown[0].split()[2:6] == ["+0.3s", "try", "1", "stage"]
    assert out.splitlines()[-1].startswith(
        "2024-03-11 09:13:10.000 BES_EU_01 ian.dundas@example.eu (Dundas, Ian · 1002): completed"
    )


def test_the_timeline_as_json_is_one_step_per_line(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    ian = user(IAN, T0, upto="books")
    writer(started_watch(monkeypatch), bes.steps(ian))
    result = run_cli(
        "timeline", IAN[0], bes.root, "--follow", "--format", "json", "--interval", "0.05s", "--timeout", "0.5s",
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr
    told = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(s["milestone"], s["since_previous_seconds"]) for s in told] == [
        ("etp_received", None), ("key_generated", 2.0), ("key_accept_sent", 0.3), ("service_books_requested", 6.7),
    ]  # fmt: skip
    assert result.stderr.startswith(
        f"bes-logdiag: no activation of {IAN[0]!r} in these logs yet; waiting for one\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "1s"], "Invalid value for --timeout: goes with --follow"),
        (["--interval", "1s"], "Invalid value for --interval: goes with --follow"),
        (["--follow", "-o", "t.txt"], "Invalid value for -o: --follow prints the steps as they come"),
    ],
)
def test_follow_options_go_with_follow(bes: Bes, args: list[str], message: str) -> None:
    result = run_cli("timeline", IAN[0], bes.root, *args)
    assert result.exit_code == 2
    assert message in result.stderr
