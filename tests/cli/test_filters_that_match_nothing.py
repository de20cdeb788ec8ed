"""A ``--user`` or ``--server`` that names no one in the logs fails the run with exit code 4 and the
nearest names; one the logs name elsewhere (a server with no activation, a user with lines
outside any) is only nothing to show."""

from __future__ import annotations

import json

import pytest
from builders import SAMPLE_LOGS, run_cli

EXIT_NO_MATCH = 4


@pytest.mark.parametrize(
    ("option", "value", "near"),
    [
        ("--user", "ian.dundas@exmaple.com", "ian.dundas@example.com"),
        ("--user", "tom.red", "tom.reed@example.com"),
        ("--user", "Muller, Jurgen", "Müller, Jürgen"),
        ("--server", "BBPROD1", "BBPROD01"),
        ("--server", "bes-east-02", "BES_EAST_02"),
    ],
)
def test_a_typo_fails_the_run_and_names_the_near_match(option: str, value: str, near: str) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "junit", "--jobs", "1", option, value)
    assert result.exit_code == EXIT_NO_MATCH, result.stderr
    assert f"bes-logdiag: {option} {value!r}: no activation" in result.stderr
    assert f"did you mean {near}" in result.stderr


def test_no_suggestion_when_nothing_is_near() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--user", "2040")
    assert result.exit_code == EXIT_NO_MATCH
    assert result.stderr.endswith("--user '2040': no activation of this user in the logs\n")


def test_quiet_still_says_why_the_run_failed() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-q", "-f", "csv", "--user", "nobody@example.com")
    assert result.exit_code == EXIT_NO_MATCH
    assert (
        result.stderr == "bes-logdiag: --user 'nobody@example.com': no activation of this user in the logs\n"
    )


def test_one_typo_among_good_values_still_fails() -> None:
    result = run_cli(
        "scan", SAMPLE_LOGS, "-f", "json", "--user", "anna.berg@example.com", "--user", "anna.brg@example.com"
    )
    assert result.exit_code == EXIT_NO_MATCH
    assert [a["email"] for a in json.loads(result.stdout)["activations"]] == ["anna.berg@example.com"]
    assert "did you mean anna.berg@example.com" in result.stderr


def test_a_user_with_only_lines_outside_activations_is_no_typo() -> None:
    # david.dietz@example.com: a mailbox the service account cannot open, and no activation
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--user", "david.dietz@example.com")
    assert result.exit_code == 0, result.stderr
    assert (
        "--user 'david.dietz@example.com': no activation of this user in the logs, only 1 line outside "
        in result.stderr
    )


def test_a_server_whose_logs_hold_no_activation_is_no_typo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    for server in ("BBPROD01", "BES_EAST_02"):
        shutil.copytree(SAMPLE_LOGS / server, tmp_path / server)
    quiet = tmp_path / "BBQUIET01_MAGT_01_20240101_0001.txt"
    quiet.write_text("[30000] (01/01 10:00:00.000):{0xA2C} Total Msgs Pending 0\n")
    result = run_cli("scan", tmp_path, "-f", "csv", "--server", "BBQUIET01")
    assert result.exit_code == 0, result.stderr
    assert "--server 'BBQUIET01': no activation on this server" in result.stderr


def test_a_good_filter_says_nothing() -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", "--server", "bbprod01", "--user", "Ian Dundas")
    assert result.exit_code == 0 and "no activation" not in result.stderr


def test_events_fail_the_same_way() -> None:
    result = run_cli("events", SAMPLE_LOGS, "--user", "ian.dundas@exmaple.com")
    assert result.exit_code == EXIT_NO_MATCH and result.stdout == ""
    assert "did you mean ian.dundas@example.com" in result.stderr


def test_a_user_and_a_server_each_in_the_logs_but_not_together_are_told() -> None:
    """tom.reed stalled on BBPROD01, asked for on BES_EAST_02: an empty report, exit code 0 and no
    word of why."""
    result = run_cli(
        "scan", SAMPLE_LOGS, "-f", "csv", "--user", "tom.reed@example.com", "--server", "BES_EAST_02"
    )
    assert result.exit_code == 0
    assert result.stderr == (
        "bes-logdiag: --user 'tom.reed@example.com': no activation on the --server given (theirs: BBPROD01)\n"
    )


def test_since_after_until_is_a_usage_error() -> None:
    """Two whole dates (or two spans back) are refused before a log is read; a date without its
    year once the logs have placed it."""
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--since", "2024-01-02", "--until", "2024-01-01")
    assert result.exit_code == 2
    assert "Invalid value for --since: 2024-01-02 is after --until 2024-01-01" in result.stderr
    result = run_cli("scan", SAMPLE_LOGS, "-q", "--since", "01/02", "--until", "2024-01-01")
    assert result.exit_code == 2
    assert result.stderr == (
        "bes-logdiag: error: --since (2024-01-02 00:00:00) is after --until (2024-01-01 23:59:59)\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "note"),
    [
        ("--since", "2030-01-01", "--since 2030-01-01 00:00:00 is after the logs end (2024-01-01 23:50:00)"),
        (
            "--until",
            "2001-01-01",
            "--until 2001-01-01 23:59:59 is before the logs begin (2023-12-30 00:00:15)",
        ),
    ],
)
def test_a_window_the_logs_do_not_reach_is_told(option: str, value: str, note: str) -> None:
    result = run_cli("scan", SAMPLE_LOGS, "-f", "csv", option, value)
    assert result.exit_code == 0
    assert f"bes-logdiag: {note}\n" in result.stderr


@pytest.mark.parametrize(
    "query", ["jörg.meier@example.com", "JÖRG.MEIER@example.com", "joerg.meier@example.com"]
)
def test_an_address_past_ascii_is_found_as_written_and_folded(query: str) -> None:
    """``--user jörg.meier@example.com`` folded the query (``joerg``) but not the address, and
    found nobody (exit code 4)."""
    from bes_logdiag.select import names_match

    assert names_match(query, "jörg.meier@example.com", None, None)
    assert not names_match("jörg.meyer@example.com", "jörg.meier@example.com", None, None)
