"""A join by order in time that the tool refuses (README "How it decides", Identities; BES-LOGS.md
section 3: "with no other activation in between") names every address and user id that competed,
nearest first, so the admin knows which rows a user map needs.  The note goes to stderr and under
``notes`` in JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    BOOKS_TEXT,
    bes_line,
    bes_name,
    etp_text,
    key_text,
    policy_text,
    rows,
    run_cli,
    scan_json,
    write_lines,
    write_user_map,
)

SERVER = "BB01"
T = datetime(2019, 11, 5, 10, 0, 0)
END = T + timedelta(minutes=10)
ANNA, PIET, SOFIA = "helpdesk.lead@example.eu", "ops-night@example.eu", "frontdesk@example.eu"
"""Addresses whose shape says nothing about a display name: only time or a map can join them."""


def write_logs(
    root: Path, requests: list[tuple[str, float]], policies: list[tuple[int, float]], end: datetime = END
) -> Path:
    """MAGT: each address's ETP.DAT pickup, key and service-book request (``seconds`` after T, each
    on its own thread); POLC: each id's IT policy.  These and a SYNC file run until ``end``."""
    magt: list[tuple[datetime, str]] = []
    for n, (email, sec) in enumerate(requests):
        tid = f"1A{n:02d}"
        start = T + timedelta(seconds=sec - 30)
        magt.append((start, bes_line(start, etp_text(), tid=tid, user=email)))
        magt.append(
            (
                start + timedelta(seconds=1),
                bes_line(start + timedelta(seconds=1), key_text(), tid=tid, user=email),
            )
        )
        at = T + timedelta(seconds=sec)
        magt.append((at, bes_line(at, BOOKS_TEXT, tid=tid, user=email)))
    polc = [
        (T + timedelta(seconds=s), bes_line(T + timedelta(seconds=s), policy_text(uid), tid="E1C"))
        for uid, s in policies
    ]
    last = bes_line(end, "Total Msgs Pending 0", tid="A2C", eid=30000)
    for code, lines in (("MAGT", magt), ("POLC", polc), ("SYNC", [])):
        path = root / bes_name(SERVER, code, T)
        write_lines(path, [x for _, x in sorted(lines, key=lambda p: p[0])] + [last])
    return root


def policy_where(root: Path, line: int) -> str:
    return f"{root / bes_name(SERVER, 'POLC', T)}:{line}"


def test_three_requests_before_one_policy_are_all_named(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", [(ANNA, 0), (PIET, 3), (SOFIA, 6)], [(301, 10)])
    code, rep, err = scan_json(logs)
    note = (
        f"server {SERVER}: not joining UserId=301 ({policy_where(logs, 1)}) by time: "
        f"{SOFIA}, {PIET} and {ANNA} all asked for service books within 2m before it"
    )
    assert rep["notes"] == [note]
    assert f"bes-logdiag: {note}\n" in err
    assert all(a["user_id"] is None for a in rep["activations"] if a["email"])


def test_a_request_before_three_policies_names_every_id(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", [(ANNA, 0)], [(301, 10), (302, 20), (303, 40)])
    code, rep, err = scan_json(logs)
    note = (
        f"server {SERVER}: not joining {ANNA} by time: user ids 301, 302 and 303 all had the IT "
        "policy queued within 2m after its service-book request"
    )
    assert rep["notes"] == [note]
    assert f"bes-logdiag: {note}\n" in err


def test_two_competitors_keep_the_familiar_wording(tmp_path: Path) -> None:
    logs = write_logs(tmp_path / "logs", [(ANNA, 0), (PIET, 3)], [(301, 10)])
    code, rep, _ = scan_json(logs)
    assert rep["notes"] == [
        f"server {SERVER}: not joining UserId=301 ({policy_where(logs, 1)}) by time: "
        f"{PIET} and {ANNA} both asked for service books within 2m before it"
    ]


@pytest.mark.parametrize("window_seconds", [121, 600])
def test_a_request_outside_the_window_is_no_competitor(tmp_path: Path, window_seconds: int) -> None:
    """Only requests within two minutes before the policy compete; an older one is not named."""
    logs = write_logs(tmp_path / "logs", [(SOFIA, 10 - window_seconds), (ANNA, 0), (PIET, 3)], [(301, 10)])
    code, rep, _ = scan_json(logs)
    assert rep["notes"] == [
        f"server {SERVER}: not joining UserId=301 ({policy_where(logs, 1)}) by time: "
        f"{PIET} and {ANNA} both asked for service books within 2m before it"
    ]


def test_a_user_map_with_the_named_rows_resolves_the_refusal(tmp_path: Path) -> None:
    """What the note is for: the admin adds the rows it names, and the joins are made by the map."""
    logs = write_logs(tmp_path / "logs", [(ANNA, 0), (PIET, 3), (SOFIA, 6)], [(301, 10)])
    users = write_user_map(tmp_path / "users.csv", [(PIET, 301, "Nightly, Ops")])
    code, rep, _ = scan_json(logs, "--users", users)
    assert rep["notes"] == []
    assert (SERVER, PIET, 301, "Nightly, Ops", "in_progress", 3, None) in rows(rep)


def test_a_stall_before_the_policy_names_the_policy_it_could_not_tie(tmp_path: Path) -> None:
    """Anna and Piet ask for service books 3 s apart, then one IT policy comes: whose it is, the
    order in time cannot say.  Each stalls before the policy, as far as the logs tie it, and the
    reason says that UserId=301's policy came just after, and how to tie it."""
    logs = write_logs(tmp_path / "logs", [(ANNA, 0), (PIET, 3)], [(301, 10)], end=T + timedelta(hours=2))
    code, rep, _ = scan_json(logs)
    reasons = {a["email"]: (a["status"], a["kb"], a["reason"]) for a in rep["activations"]}
    for who in (ANNA, PIET):
        status, kb, reason = reasons[who]
        assert (status, kb) == ("stalled", "KB03410")
        assert "an IT policy was queued for UserId=301 just after the service-book request" in reason
        assert reason.endswith("if one is this user's, a user map (--users) ties it")


def mass_activation(root: Path, groups: int) -> Path:
    """``groups`` pairs of users who ask for service books 3 s apart, each pair followed by one IT
    policy 10 s later (every pair refused), the pairs 5 minutes apart: a device-refresh day."""
    requests: list[tuple[str, float]] = []
    policies: list[tuple[int, float]] = []
    for g in range(groups):
        at = g * 300
        requests += [(f"refresh{g:03d}a@example.eu", at), (f"refresh{g:03d}b@example.eu", at + 3)]
        policies.append((400 + g, at + 10))
    return write_logs(root, requests, policies, end=T + timedelta(seconds=groups * 300))


def said(err: str) -> list[str]:
    return [line for line in err.splitlines() if "by time" in line]


def test_a_mass_activation_day_says_ten_refusals_on_stderr_and_counts_the_rest(tmp_path: Path) -> None:
    """One refused join per user would bury stderr on a device-refresh day; the JSON report
    keeps every one, which the count line points to."""
    logs = mass_activation(tmp_path / "logs", 13)
    code, rep, err = scan_json(logs)
    refused = [n for n in rep["notes"] if "not joining UserId=" in n]
    assert len(refused) == 13
    lines = said(err)
    assert lines[:10] == [f"bes-logdiag: {n}" for n in refused[:10]]
    assert lines[10:] == [
        "bes-logdiag: 3 more joins by time refused (scan --format json lists every one under notes)"
    ]


def test_ten_refusals_are_all_said(tmp_path: Path) -> None:
    logs = mass_activation(tmp_path / "logs", 10)
    code, rep, err = scan_json(logs)
    assert said(err) == [f"bes-logdiag: {n}" for n in rep["notes"] if "by time" in n]
    assert len(said(err)) == 10
    assert "more joins" not in err


def test_quiet_says_none_of_them(tmp_path: Path) -> None:
    logs = mass_activation(tmp_path / "logs", 13)
    code, rep, err = scan_json(logs, quiet=True)
    assert err == ""
    assert len(rep["notes"]) == 13


def test_a_live_session_says_ten_refusals_and_then_that_the_rest_are_not_said(tmp_path: Path) -> None:
    logs = mass_activation(tmp_path / "logs", 12)
    result = run_cli("watch", logs, "--format", "lines", "--timeout", "0.3s", "--interval", "0.05s")
    lines = said(result.stderr)
    assert len(lines) == 11, result.stderr
    assert all("not joining UserId=" in line for line in lines[:10])
    assert lines[10] == (
        "bes-logdiag: more joins by time refused are not said one by one "
        "(scan --format json lists every one under notes)"
    )
