"""``events`` takes the filters ``scan`` takes: ``--user`` (the user's lines, in activations and
outside them), ``--server``, ``--since`` and ``--until`` (by each line's own time)."""

from __future__ import annotations

import json

import pytest
from builders import SAMPLE_LOGS, run_cli


def events(*args: object) -> list[dict]:  # type: ignore[type-arg]
    result = run_cli("events", SAMPLE_LOGS, "-q", "--jobs", "1", *args)
    assert result.exit_code == 0, result.stderr
    return [json.loads(x) for x in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def every() -> list[dict]:  # type: ignore[type-arg]
    return events()


def test_user_keeps_that_users_lines_only(every: list[dict]) -> None:  # type: ignore[type-arg]
    mine = events("--user", "eva.lindqvist@example.com")
    assert mine == [e for e in every if e["activation"] == "eva.lindqvist@example.com"]
    assert {e["service"] for e in mine} == {"MAGT", "POLC"}  # the POLC line names only UserId=2004
    assert events("--user", "2004") == mine


def test_user_keeps_lines_outside_any_activation(every: list[dict]) -> None:  # type: ignore[type-arg]
    loose = events("--user", "2102")
    assert loose and all(e["activation"] is None and e["user_id"] == 2102 for e in loose)
    assert loose == [e for e in every if e["user_id"] == 2102]


def test_server_keeps_that_servers_lines(every: list[dict]) -> None:  # type: ignore[type-arg]
    east = events("--server", "bes_east_02")
    assert east and east == [e for e in every if e["server"] == "BES_EAST_02"]


def test_since_and_until_go_by_each_lines_time(every: list[dict]) -> None:  # type: ignore[type-arg]
    window = events("--since", "2024-01-01 07:00", "--until", "2024-01-01 07:59:59")
    assert window == [e for e in every if "2024-01-01T07:00" <= e["time"] < "2024-01-01T08:00"]
    assert 0 < len(window) < len(every)


def test_the_filters_combine(every: list[dict]) -> None:  # type: ignore[type-arg]
    both = events("--user", "tom.reed@example.com", "--server", "BES_EAST_02")
    assert both == []
    assert events("--user", "tom.reed@example.com", "--server", "BBPROD01") == [
        e for e in every if e["activation"] == "tom.reed@example.com"
    ]


def test_user_is_not_mistaken_for_users() -> None:
    result = run_cli("events", SAMPLE_LOGS, "--user", "ian.dundas@example.com", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "No such option" not in result.stderr and "--users" not in result.stderr
    assert result.stdout.count("ian.dundas@example.com") >= 10
