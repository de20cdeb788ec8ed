"""Completeness: a verdict says what it could not check when the logs of the service expected next
are missing (README, "How it decides": Completeness; ``missing_logs`` in "JSON").

The logs are written whole (MAGT, POLC and SYNC, the seed's lines and times) and then pared down
the way a colleague's ticket pares them: only the Messaging Agent's file, no Synchronization
Service, a Policy Service log that stops early, a day missing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from builders import (
    activation,
    bes_line,
    bes_name,
    merge,
    one,
    rows,
    run_cli,
    scan_json,
    write_activation,
    write_lines,
    write_server,
)

from bes_logdiag.coverage import Coverage, milestone_writers
from bes_logdiag.library import load_library

SERVER = "BBPROD01"
DAY = "20240101"
USERS = [
    ("anna.berg@example.com", 1001, "Berg, Anna"),
    ("ian.dundas@example.com", 1002, "Dundas, Ian"),
    ("maria.lopez@example.com", 1003, "Lopez, Maria"),
]
"""Three users who all complete, at 06:50, 07:50 and 08:50."""
LIB = load_library()


def full_set(folder: Path, day: str = DAY) -> Path:
    """Every user completes; each of the server's MAGT, POLC and SYNC files runs until 23:50."""
    for hour, user in zip((6, 7, 8), USERS):
        write_activation(folder, SERVER, day, *user, hour=hour)
    return folder


def delete(folder: Path, *services: str, day: str = DAY) -> None:
    for service in services:
        (folder / bes_name(SERVER, service, datetime.strptime(day, "%Y%m%d"))).unlink()


def all_attempts(report: dict[str, object]) -> list[dict[str, object]]:
    acts = report["activations"]
    return [x for a in acts for x in (a, *a["attempts"])]  # type: ignore[attr-defined]


def test_the_full_set_has_no_missing_logs(tmp_path: Path) -> None:
    code, report, _ = scan_json(full_set(tmp_path))
    assert code == 0
    assert [r[4] for r in rows(report)] == ["complete"] * 3
    assert all(x["missing_logs"] == [] for x in all_attempts(report))
    assert not any("unconfirmed" in n for n in report["notes"])


def test_magt_only_never_says_the_policy_service_failed(tmp_path: Path) -> None:
    """Only the MAGT file, of users who completed: each stopped, as far as MAGT shows, after the
    service-book request; none is a Policy Service failure, and each says what it could not check."""
    delete(full_set(tmp_path), "POLC", "SYNC")
    code, report, stderr = scan_json(tmp_path)
    assert code == 1, "an unconfirmed stall still counts for --fail-on (README, Exit codes)"
    for user in USERS:
        act = one(report, email=user[0])
        assert act["status"] == "stalled" and act["last_milestone"] == "service_books_requested"
        assert act["kb"] == "KB03410", "still the most likely article"
        assert act["missing_logs"] == ["POLC", "SYNC"]
        reason = act["reason"]
        assert "Policy Service never" not in reason and "never queued" not in reason
        assert reason.startswith("the last step seen was service books requested from the Policy Service;")
        assert reason.endswith(
            "; no POLC or SYNC log was read, so whether the next step (IT policy queued by the Policy "
            "Service) came could not be checked"
        )
    note = "BBPROD01: no POLC or SYNC logs; verdicts from stage 3 on unconfirmed for 3 activations"
    assert note in report["notes"]
    assert f"bes-logdiag: {note}" in stderr


def test_magt_only_in_the_table_markdown_and_junit(tmp_path: Path) -> None:
    delete(full_set(tmp_path), "POLC", "SYNC")
    table = run_cli("scan", tmp_path, "-q")
    assert table.exit_code == 1
    assert table.stdout.count("KB03410?") == 6, "a row and a details heading per user"
    assert table.stdout.count("(unconfirmed: no POLC or SYNC log)") == 6
    assert "3 verdicts unconfirmed: missing POLC and SYNC logs on BBPROD01" in table.stdout
    assert "stalled at stage 3 (Receiving services) (unconfirmed: no POLC or SYNC log)" in table.stdout
    markdown = run_cli("scan", tmp_path, "-q", "--format", "markdown").stdout
    assert (
        markdown.count("KB03410? Activation stops at Waiting for services (unconfirmed: no POLC or SYNC log)")
        == 3
    )
    junit = run_cli("scan", tmp_path, "-q", "--format", "junit").stdout
    assert (
        junit.count('message="stalled: KB03410? Activation stops at Waiting for services (unconfirmed: no')
        == 3
    )
    assert junit.count("missing logs: POLC, SYNC") == 3
    never = run_cli("scan", tmp_path, "-q", "--fail-on", "failed")
    assert never.exit_code == 0


def test_only_sync_missing_leaves_the_policy_verdicts_alone(tmp_path: Path) -> None:
    """SYNC's log is missing: users waiting on the slow synchronization lack it; a user who truly
    stopped after the service-book request, with the POLC log there to show it, is a confirmed stall."""
    full_set(tmp_path)
    write_activation(tmp_path, SERVER, DAY, "tom.reed@example.com", 1004, "Reed, Tom", hour=9,
                     upto="service_books_requested")  # fmt: skip
    delete(tmp_path, "SYNC")
    _, report, _ = scan_json(tmp_path)
    for user in USERS:
        act = one(report, email=user[0])
        assert (act["status"], act["last_milestone"], act["kb"]) == ("stalled", "itpolicy_queued", "KB13847")
        assert act["missing_logs"] == ["SYNC"]
        assert "never started" not in act["reason"]
        assert (
            "no SYNC log was read, so whether the next step (slow synchronization started (GetConfig)) came"
            in act["reason"]
        )
    tom = one(report, email="tom.reed@example.com")
    assert (tom["status"], tom["kb"], tom["missing_logs"]) == ("stalled", "KB03410", [])
    assert tom["reason"].startswith("service books were requested but the Policy Service never queued")
    assert "BBPROD01: no SYNC logs; verdicts from stage 4 on unconfirmed for 3 activations" in report["notes"]
    table = run_cli("scan", tmp_path, "-q").stdout
    assert "KB03410?" not in table and table.count("KB13847?") == 6


def test_a_polc_log_that_ends_before_the_last_progress(tmp_path: Path) -> None:
    """The Policy Service's log stops at 06:51 while the others run until 23:50: a user who stopped
    after the service-book request at 09:51 cannot be checked against it."""
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=6)
    write_activation(tmp_path, SERVER, DAY, *USERS[1], hour=9, upto="service_books_requested")
    polc = tmp_path / bes_name(SERVER, "POLC", datetime(2024, 1, 1))
    whole = polc.read_text(encoding="utf-8").splitlines()
    _, report, _ = scan_json(tmp_path)
    assert one(report, email=USERS[1][0])["missing_logs"] == [], "the whole POLC log covers the time"
    write_lines(polc, [line for line in whole if "(01/01 06:" in line])
    _, report, _ = scan_json(tmp_path)
    assert one(report, email=USERS[0][0])["missing_logs"] == []
    act = one(report, email=USERS[1][0])
    assert (act["status"], act["kb"], act["missing_logs"]) == ("stalled", "KB03410", ["POLC"])
    assert "the POLC logs do not cover 2024-01-01 09:51:45 to 2024-01-01 23:50:00" in act["reason"]
    assert (
        "BBPROD01: no POLC log for 2024-01-01 06:51:49 to 2024-01-01 23:50:00; verdicts from stage 3 on unconfirmed for 1 activation"
        in report["notes"]
    )


def test_a_missing_day_of_polc_logs(tmp_path: Path) -> None:
    """Two days of logs with the second day's POLC file missing: the gap is that day."""
    write_activation(tmp_path, SERVER, "20240101", *USERS[0], hour=6)
    write_activation(tmp_path, SERVER, "20240102", *USERS[1], hour=7, upto="service_books_requested")
    _, report, _ = scan_json(tmp_path)
    assert one(report, email=USERS[1][0])["missing_logs"] == []
    delete(tmp_path, "POLC", day="20240102")
    _, report, _ = scan_json(tmp_path)
    act = one(report, email=USERS[1][0])
    assert act["missing_logs"] == ["POLC"]
    assert "the POLC logs do not cover 2024-01-02 07:51:45 to 2024-01-02 23:50:00" in act["reason"]
    assert any(
        n.startswith("BBPROD01: no POLC log for 2024-01-01 23:50:00 to 2024-01-02 23:50:00;")
        for n in report["notes"]
    )


def test_a_sync_log_that_stops_after_the_threshold_still_leaves_the_stall_unconfirmed(tmp_path: Path) -> None:
    """SYNC's log (a restart file _0002 not sent) stops at 11:00, an hour after a user's IT policy
    was queued; MAGT and POLC run to 23:50.  The stall claims 14 hours of silence, which SYNC's log
    shows only one of: the GetConfig may be in the file that is missing."""
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=9, upto="itpolicy_queued")
    sync = tmp_path / bes_name(SERVER, "SYNC", datetime(2024, 1, 1))
    write_lines(sync, [bes_line("01/01 11:00:00.000", "Total Msgs Pending 0", tid="A2C", eid=30000)])
    _, report, _ = scan_json(tmp_path)
    act = one(report, email=USERS[0][0])
    assert (act["status"], act["kb"], act["missing_logs"]) == ("stalled", "KB13847", ["SYNC"])
    assert "never started" not in act["reason"]
    assert any(
        n.startswith("BBPROD01: no SYNC log for 2024-01-01 11:00:00 to 2024-01-01 23:50:00")
        for n in report["notes"]
    )


def test_a_stall_after_getconfig_without_the_messaging_agents_log_is_unconfirmed(tmp_path: Path) -> None:
    """After GetConfig the article depends on the Messaging Agent's calendar (CICAL) step: without
    it KB03964, with it KB10496.  With no MAGT log that step cannot be seen either way."""
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=9, upto="slowsync_started")
    _, report, _ = scan_json(tmp_path)
    act = one(report, email=USERS[0][0])
    assert (act["status"], act["kb"], act["missing_logs"]) == ("stalled", "KB03964", []), "MAGT there: sure"
    delete(tmp_path, "MAGT")
    _, report, _ = scan_json(tmp_path)
    act = one(report, user_id=USERS[0][1])  # (the address is MAGT's)
    assert (act["status"], act["kb"], act["missing_logs"]) == ("stalled", "KB03964", ["MAGT"])
    assert "no synchronization data followed" not in act["reason"]
    assert "no MAGT log was read, so whether the next step (calendar (CICAL)" in act["reason"]
    assert "KB10496" in [c["kb"] for c in act["candidates"]]
    assert "BBPROD01: no MAGT logs; verdicts from stage 4 on unconfirmed for 1 activation" in report["notes"]


def test_earlier_attempts_carry_missing_logs_too(tmp_path: Path) -> None:
    """A retry: the first attempt stopped after the service books, the second completed; without
    the POLC and SYNC logs the first cannot be checked either."""
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=6, upto="service_books_requested")
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=9)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["status"] == "complete" and act["missing_logs"] == []
    assert [(a["status"], a["missing_logs"]) for a in act["attempts"]] == [("stalled", [])]
    delete(tmp_path, "POLC", "SYNC")
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert [(a["status"], a["missing_logs"]) for a in (*act["attempts"], act)] == [
        ("stalled", ["POLC", "SYNC"]),
        ("stalled", ["POLC", "SYNC"]),
    ]


def test_in_progress_without_the_next_service_says_so(tmp_path: Path) -> None:
    """The logs end 20 minutes after the service books, inside the stage-3 threshold."""
    t0 = datetime(2024, 1, 1, 9, 0)
    parts = activation(*USERS[2], t0, upto="service_books_requested")
    end = datetime(2024, 1, 1, 9, 20)
    write_server(
        tmp_path, SERVER, merge(parts, {"MAGT": [(end, bes_line(end, "Total Msgs Pending 0", eid=30000))]})
    )
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["status"] == "in_progress" and act["missing_logs"] == ["POLC", "SYNC"]
    assert act["reason"].startswith("waiting for IT policy queued by the Policy Service")
    assert "could not be checked" in act["reason"]


def test_which_service_writes_a_milestone_comes_from_the_patterns(tmp_path: Path) -> None:
    writers = milestone_writers(LIB)
    assert writers["itpolicy_queued"] == {"POLC"}
    assert writers["slowsync_started"] == writers["slowsync_complete"] == {"SYNC"}
    assert writers["calendar_sync"] == writers["service_books_requested"] == {"MAGT"}
    # An admin's pattern that finds a milestone in any log (no service): never missing.
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "site.toml").write_text(
        """
[[pattern]]
id = "site.policy-sent"
title = "IT policy sent, as our build words it"
milestone = "itpolicy_queued"
regex = '''ITPOLICY SENT for UserId=(?P<user_id>\\d+)'''
examples = ['''[40000] (06/01 08:04:23.942):{0xC4} ITPOLICY SENT for UserId=1003''']
opens_attempt = false
""",
        encoding="utf-8",
    )
    assert milestone_writers(load_library((folder,)))["itpolicy_queued"] == frozenset()
    assert Coverage().missing(SERVER, "itpolicy_queued", datetime(2024, 1, 1), datetime(2024, 1, 2)) == ()


@pytest.mark.parametrize("folder", [SERVER, "ticket 4711"])
def test_an_excerpt_saved_in_a_servers_day_folder_is_that_servers(tmp_path: Path, folder: str) -> None:
    """The SYNC log was not sent, but an admin saved its lines from a ticket as sync_excerpt.txt
    beside the server's other logs: read as that server's, it completes the user's activation.
    A folder named as no server of the logs gives no server."""
    day = tmp_path / folder / DAY
    write_activation(day, SERVER, DAY, *USERS[0], hour=9)
    sync = day / bes_name(SERVER, "SYNC", datetime(2024, 1, 1))
    sync.rename(day / "sync_excerpt.txt")
    _, report, _ = scan_json(tmp_path)
    if folder == SERVER:
        assert rows(report) == [(SERVER, *USERS[0], "complete", 4, None)]
        assert any(
            n.endswith(
                f"sync_excerpt.txt: no server in its name; read as {SERVER}'s, the folder above its day folder"
            )
            for n in report["notes"]
        )
    else:
        assert [r[0] for r in rows(report)] == [SERVER, None], "the excerpt stays apart"
        assert not any("read as" in n for n in report["notes"])


def test_server_names_that_differ_only_in_case_are_one_server(tmp_path: Path) -> None:
    """Windows machine names know no case: a MAGT log saved as ``bbprod01_MAGT_...`` beside the
    server's ``BBPROD01_POLC_...`` and ``BBPROD01_SYNC_...`` is the same server's."""
    write_activation(tmp_path, SERVER, DAY, *USERS[0], hour=9)
    magt = tmp_path / bes_name(SERVER, "MAGT", datetime(2024, 1, 1))
    magt.rename(tmp_path / magt.name.replace(SERVER, SERVER.lower()))
    ctrl = tmp_path / bes_name(SERVER.lower(), "CTRL", datetime(2024, 1, 1))  # (ignored, but its end counts)
    write_lines(ctrl, [bes_line("01/01 23:55:00.000", "Controller heartbeat", tid="A2C", eid=30000)])
    _, report, _ = scan_json(tmp_path)
    assert report["log_end"] == {SERVER: "2024-01-01T23:55:00.000"}
    assert rows(report) == [(SERVER, *USERS[0], "complete", 4, None)]
    assert f"servers {SERVER}, {SERVER.lower()} differ only in case: read as one, {SERVER}" in report["notes"]
    assert {f["server"] for f in report["inputs"]["files"]} == {SERVER}
