"""Which KB article (BES-LOGS.md section 4): every stall rule of patterns/rules.toml and every explicit
error of patterns/errors.toml, end to end; explicit errors outrank silence, progress after an error
clears it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    ERROR_USER,
    ERRORS,
    EU1,
    STEPS,
    activation,
    bes_line,
    bes_name,
    explicit_error,
    mail_flow,
    merge,
    rows,
    scan_json,
    write_lines,
    write_server,
)

U = ERROR_USER[0]


STALLS = [
    # upto, stage, KB (BES-LOGS.md section 4 / seed KB table)
    ("etp", 1, "KB13840"),  # stuck at Activating
    ("key", 2, "KB13843"),  # verifying encryption: contact service administrator
    ("accept", 2, "KB13843"),
    ("books", 3, "KB03410"),  # waiting for services
    ("policy", 3, "KB13847"),  # services received, slow sync never starts ("Initializing")
    ("getconfig", 4, "KB03964"),  # stuck at 0%
    ("cical", 4, "KB10496"),  # stuck at 11% (calendar first)
    ("progress", 4, "KB13461"),  # stops part way
]


@pytest.mark.parametrize(("upto", "stage", "kb"), STALLS, ids=[s[0] for s in STALLS])
def test_each_stall_rule_gives_its_kb(tmp_path: Path, upto: str, stage: int, kb: str) -> None:
    t0 = datetime(2009, 4, 7, 10, 0, 0)
    parts = merge(
        activation("tomas.novak@example.eu", 5150, "Novák, Tomáš", t0, upto=upto),
        {"MAGT": mail_flow(t0 - timedelta(minutes=10), t0 + timedelta(hours=2, minutes=30), step=30)},
    )
    write_server(tmp_path, EU1, parts, encoding={"SYNC": "cp1252", "MAGT": "cp1252"})
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("stalled", stage, kb)
    assert a["email"] == "tomas.novak@example.eu"
    if STEPS.index(upto) >= STEPS.index("policy"):
        assert a["user_id"] == 5150
    if STEPS.index(upto) >= STEPS.index("getconfig"):
        assert a["display_name"] == "Novák, Tomáš"
    assert a["started"].startswith("2009-04-07T10:00")
    assert a["completed"] is None


@pytest.mark.parametrize("name", ERRORS)
def test_each_explicit_error_fails_with_its_kb(tmp_path: Path, name: str) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = explicit_error(name, t0)
    # the logs go on for a while (so silence alone would also be a stall): the error must outrank it
    parts = merge(parts, {"MAGT": mail_flow(t0 - timedelta(minutes=2), t0 + timedelta(hours=2), step=30)})
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["email"], a["status"], a["stage"], a["kb"]) == (U, "failed", stage, kb)
    assert a["errors"] and a["errors"][-1]["kb"] == kb


@pytest.mark.parametrize("name", ["user-not-started", "itpolicy-rejected-polc"])
def test_explicit_error_is_failed_even_right_at_the_end_of_the_logs(tmp_path: Path, name: str) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts, stage, kb = explicit_error(name, t0)
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert rows(rep)[0][4:] == ("failed", stage, kb)
    code2, _, _ = scan_json(tmp_path, "--fail-on", "stalled")
    assert code2 == 0


def test_error_followed_by_progress_is_not_failed(tmp_path: Path) -> None:
    """A mailbox hiccup, then the activation goes on to the end: complete (errors only count with no
    progress after them)."""
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0)
    e = t0 + timedelta(seconds=1)
    parts["MAGT"].append(
        (
            e,
            bes_line(
                e,
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x80040115) failed, MailboxDN=/o=EU",
                tid="21AC",
                user=U,
                eid="20400",
            ),
        )
    )
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, U, 640, "Zielinski, Marek", "complete", 4, None)]


def test_a_user_not_started_as_real_agents_write_it_fails_that_user(tmp_path: Path) -> None:
    """KB22568 quotes an agent that names the user inside the line, with no {user} field, after a
    line giving the cause: "User can not be started, ServerDN not defined".  Both are read: the
    user fails at stage 1 with KB10321, and the cause, which names nobody, is listed apart."""
    write_lines(
        tmp_path / bes_name("BBX01", "MAGT", datetime(2010, 5, 19)),
        [
            "[30000] (05/19 09:00:00.000):{0x1408} Agent 1 running",
            "[30463] (05/19 09:02:51.292):{0x1408} User can not be started, ServerDN not defined, "
            "user may restart after ScanGAL",
            "[20154] (05/19 09:02:51.324):{0x1408} User Test_User not started",
            "[30000] (05/19 09:30:00.000):{0x1408} Total Msgs Pending 0",
        ],
    )
    code, rep, _ = scan_json(tmp_path)
    assert [(a["display_name"], a["status"], a["stage"], a["kb"]) for a in rep["activations"]] == [
        ("Test_User", "failed", 1, "KB10321")
    ]
    assert [(u["error"], u["count"]) for u in rep["unattached"]] == [("user_not_started", 1)]
    assert code == 1
