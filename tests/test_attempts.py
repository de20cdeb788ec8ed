"""Attempts: a retry starts a new attempt, the last attempt decides, earlier ones stay in the history;
re-sent ETP.DAT, routine lines after completion and a slow sync that pauses and moves again do not.

First ``split_attempts`` on hand-built events (no log files), then retries end to end.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    BUSY_SERVERS,
    ERROR_USER,
    EU1,
    JOERG,
    LON,
    LON_SITE,
    RUTH,
    TOM,
    Activation,
    BusyDay,
    activation,
    bes_line,
    event,
    mail_flow,
    merge,
    one,
    only,
    policy_at,
    rows,
    run_cli,
    scan_json,
    scan_report,
    tries,
    write_activation,
    write_server,
)

from bes_logdiag.attempts import split_attempts
from bes_logdiag.library import Library
from bes_logdiag.model import Status

# ---------------------------------------------------------------------------------------------
# split_attempts on hand-built events
# ---------------------------------------------------------------------------------------------

T = datetime(2019, 11, 5, 10, 0, 0)
ATTACH = timedelta(hours=1)
"""How long after an attempt's last line a line that opens nothing may still join it (the scan
uses the longest stage threshold)."""


def cut(
    library: Library, steps: list[tuple[str, float]], *, email: str = "marek.zielinski@example.eu"
) -> tuple[list[list[str]], list[str]]:
    """``split_attempts`` over (pattern, seconds after T) of one user: each attempt's milestones and
    errors, and those of the lines that fit no attempt."""
    events = [event(library, what, T + timedelta(seconds=s), email=email) for what, s in steps]
    attempts, loose = split_attempts(events, library, ATTACH)
    return [[e.milestone or e.error for e in a] for a in attempts], [e.milestone or e.error for e in loose]


def test_etp_re_sent_within_the_stage_one_threshold_is_the_same_attempt(library: Library) -> None:
    limit = library.stages[1].stall_after.total_seconds()
    assert cut(library, [("etp_received", 0), ("etp_received", limit)]) == (
        [["etp_received", "etp_received"]],
        [],
    )


def test_etp_re_sent_past_the_stage_one_threshold_is_a_retry(library: Library) -> None:
    limit = library.stages[1].stall_after.total_seconds()
    assert cut(library, [("etp_received", 0), ("etp_received", limit + 1)]) == (
        [["etp_received"], ["etp_received"]],
        [],
    )


def test_a_new_etp_after_progress_is_a_retry_however_soon(library: Library) -> None:
    steps = [("etp_received", 0), ("key_generated", 2), ("service_books_requested", 9), ("etp_received", 180)]
    assert cut(library, steps) == (
        [["etp_received", "key_generated", "service_books_requested"], ["etp_received"]],
        [],
    )


def test_an_earlier_stage_starting_again_is_a_new_attempt(library: Library) -> None:
    """Stage 3 reached, then a key is generated again (stage 2): the user started over."""
    steps = [("etp_received", 0), ("key_generated", 2), ("key_accept_sent", 3), ("service_books_requested", 9),
             ("key_generated", 60)]  # fmt: skip
    assert cut(library, steps) == (
        [["etp_received", "key_generated", "key_accept_sent", "service_books_requested"], ["key_generated"]],
        [],
    )


def test_lines_the_services_write_seconds_out_of_order_are_one_attempt(library: Library) -> None:
    """SYNC logs GetConfig 3 s before MAGT's service-book request (another process, another clock);
    the ETP.DAT line comes again a second after the key; the completing line is written twice."""
    steps = [("etp_received", 0), ("key_generated", 3), ("etp_received", 4), ("key_accept_sent", 5),
             ("slowsync_started", 6), ("service_books_requested", 9), ("itpolicy_queued", 12),
             ("slowsync_complete", 60), ("slowsync_complete", 60.5)]  # fmt: skip
    attempts, loose = cut(library, steps)
    assert (len(attempts), loose) == (1, [])
    assert attempts[0] == [m for m, _ in steps]


def test_a_step_it_had_passed_long_after_the_attempt_stalled_is_a_retrys(library: Library) -> None:
    """A key generated hours after the KEY_ACCEPT (stage 2 sits 15 minutes at most) belongs to a
    retry whose ETP.DAT the logs lack; the seed's own excerpt, an ETP.DAT line weeks before the
    rest, moves on and stays one attempt."""
    hours = 4 * 3600
    assert cut(
        library,
        [
            ("etp_received", 0),
            ("key_generated", 2),
            ("key_accept_sent", 3),
            ("key_generated", hours),
            ("key_accept_sent", hours + 1),
        ],
    ) == (  # fmt: skip
        [["etp_received", "key_generated", "key_accept_sent"], ["key_generated", "key_accept_sent"]],
        [],
    )
    weeks = 55 * 86400
    assert cut(library, [("etp_received", 0), ("key_generated", weeks)]) == (
        [["etp_received", "key_generated"]],
        [],
    )


def test_an_old_slow_syncs_last_command_joins_no_retry(library: Library) -> None:
    """A retry's ETP.DAT, then one more command of the old session's slow sync: the device's own
    command belongs to no attempt short of stage 4 (it made the retry a phantom stage-4 attempt)."""
    steps = [("etp_received", 0), ("key_generated", 3), ("key_accept_sent", 4), ("service_books_requested", 8),
             ("itpolicy_queued", 12), ("slowsync_started", 60), ("slowsync_progress", 120),
             ("etp_received", 1800), ("slowsync_progress", 1820), ("key_generated", 1830)]  # fmt: skip
    attempts, loose = cut(library, steps)
    assert [a[0] for a in attempts] == ["etp_received", "etp_received"]
    assert attempts[1] == ["etp_received", "key_generated"]
    assert loose == ["slowsync_progress"]


def test_a_slow_sync_that_pauses_or_meets_an_error_goes_on_in_its_attempt(library: Library) -> None:
    """GetConfig again two hours after the device's last command, and the device's commands just
    after an error line: the same slow sync, not a retry, nothing loose."""
    spine = [("etp_received", 0), ("key_generated", 2), ("key_accept_sent", 3), ("service_books_requested", 8),
             ("itpolicy_queued", 12), ("slowsync_started", 60), ("slowsync_progress", 70)]  # fmt: skip
    paused = [*spine, ("slowsync_started", 7270), ("slowsync_complete", 7370)]
    assert cut(library, paused) == ([[m for m, _ in paused]], [])
    erred = [*spine, ("bes.itpolicy-rejected", 80), ("slowsync_progress", 90), ("slowsync_progress", 100)]
    attempts, loose = cut(library, erred)
    assert (len(attempts), loose) == (1, [])


def test_a_line_that_opens_nothing_joins_a_recent_attempt(library: Library) -> None:
    """The IT policy (``opens_attempt = false``: POLC also pushes it to idle users) 4 s after the request."""
    steps = [("etp_received", 0), ("service_books_requested", 9), ("itpolicy_queued", 13)]
    assert cut(library, steps) == ([["etp_received", "service_books_requested", "itpolicy_queued"]], [])


def test_a_line_that_opens_nothing_does_not_join_an_old_attempt(library: Library) -> None:
    later = 9 + ATTACH.total_seconds() + 1
    steps = [("etp_received", 0), ("service_books_requested", 9), ("itpolicy_queued", later)]
    assert cut(library, steps) == ([["etp_received", "service_books_requested"]], ["itpolicy_queued"])


def test_a_line_that_opens_nothing_opens_nothing(library: Library) -> None:
    assert cut(library, [("itpolicy_queued", 0), ("magt.mailbox-open-failed", 5)]) == (
        [],
        ["itpolicy_queued", "mailbox_not_reachable"],
    )


def test_a_resuming_line_continues_a_paused_slow_sync(library: Library) -> None:
    """The device's own command (``resumes = true``) three hours after GetConfig: the same attempt."""
    steps = [("etp_received", 0), ("slowsync_started", 48), ("slowsync_progress", 3 * 3600)]
    assert cut(library, steps) == ([["etp_received", "slowsync_started", "slowsync_progress"]], [])


def test_after_a_pause_only_a_resuming_line_of_the_same_stage_continues(library: Library) -> None:
    """The calendar line does not resume (it opens nothing and comes after the window), nor does a
    device command continue an attempt that never reached the slow sync."""
    paused = [("etp_received", 0), ("slowsync_started", 48), ("calendar_sync", 3 * 3600)]
    assert cut(library, paused) == ([["etp_received", "slowsync_started"]], ["calendar_sync"])
    stage3 = [("etp_received", 0), ("service_books_requested", 9), ("slowsync_progress", 3 * 3600)]
    assert cut(library, stage3) == ([["etp_received", "service_books_requested"]], ["slowsync_progress"])


def test_lines_after_completion_start_nothing_and_join_nothing(library: Library) -> None:
    steps = [
        ("etp_received", 0),
        ("slowsync_complete", 600),
        ("slowsync_progress", 700),
        ("magt.user-not-started", 800),
    ]
    assert cut(library, steps) == (
        [["etp_received", "slowsync_complete"], ["user_not_started"]],
        ["slowsync_progress"],
    )


def test_an_error_belongs_to_the_attempt_it_interrupts(library: Library) -> None:
    steps = [("etp_received", 0), ("magt.user-not-started", 20), ("etp_received", 20 * 60)]
    assert cut(library, steps) == ([["etp_received", "user_not_started"], ["etp_received"]], [])


U = ERROR_USER[0]


def test_retry_keeps_attempts_apart_and_the_last_decides(tmp_path: Path) -> None:
    write_activation(
        tmp_path, "BB01", "20100520", "ian.dundas@example.net", 2573, "Dundas, Ian", upto="etp_received"
    )
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    act = only(scan_report(tmp_path))
    assert [a.status for a in act.attempts] == [Status.STALLED, Status.COMPLETE]
    assert act.attempts[0].diagnosis.kb == "KB13840"
    assert act.last.status is Status.COMPLETE


def test_retry_after_stall_then_complete(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = datetime(2019, 10, 1, 11, 0, 0)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t1, upto="accept"),
        activation(U, 640, "Zielinski, Marek", t2),
        {"MAGT": mail_flow(t1, t2 + timedelta(minutes=30), step=60)},
    )
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"], a["user_id"]) == ("complete", 4, None, 640)
    assert a["started"].startswith("2019-10-01T11:00")
    assert [(x["status"], x["stage"], x["kb"]) for x in a["attempts"]] == [("stalled", 2, "KB13843")]
    assert (
        "after the last progress, at 2019-10-01 11:00:00 (past the stage 2 threshold"
        in a["attempts"][0]["reason"]
    )


def test_three_attempts_failed_stalled_then_in_progress(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    e = t1 + timedelta(seconds=5)
    a1 = activation(U, 640, "Zielinski, Marek", t1, upto="etp")
    a1["MAGT"].append(
        (
            e,
            bes_line(
                e,
                "Could not process ETP.DAT attachment: invalid activation password",
                tid="1AEC",
                user=U,
                eid="20000",
            ),
        )
    )
    t2 = datetime(2019, 10, 1, 9, 30, 0)
    a2 = activation(U, 640, "Zielinski, Marek", t2, upto="etp")  # nothing for 30 min: stalled
    t3 = datetime(2019, 10, 1, 10, 0, 0)
    a3 = activation(U, 640, "Zielinski, Marek", t3, upto="getconfig")  # 20 min before the end
    end = t3 + timedelta(minutes=20)
    parts = merge(a1, a2, a3, {"MAGT": mail_flow(t1, end, step=45)})
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0  # the last attempt decides
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"], a["user_id"], a["display_name"]) == (
        "in_progress",
        4,
        None,
        640,
        "Zielinski, Marek",
    )
    assert [(x["status"], x["stage"], x["kb"]) for x in a["attempts"]] == [
        ("failed", 1, "KB04829"),
        ("stalled", 1, "KB13840"),
    ]


def test_complete_then_new_device_fails(tmp_path: Path) -> None:
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = datetime(2019, 10, 3, 14, 0, 0)
    second = activation(U, 640, "Zielinski, Marek", t2, upto="etp")
    e = t2 + timedelta(seconds=4)
    second["MAGT"].append((e, bes_line(e, "User not started", tid="1B44", user=U, eid="20000")))
    parts = merge(activation(U, 640, "Zielinski, Marek", t1), second)
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("failed", 1, "KB10321")
    assert [(x["status"], x["stage"]) for x in a["attempts"]] == [("complete", 4)]


def test_retry_from_stage_three_back_to_new_etp_within_minutes(tmp_path: Path) -> None:
    """The admin resets the password and the user retries at once: a new ETP.DAT after progress
    to stage 3 begins a new attempt even though little time passed."""
    t1 = datetime(2019, 10, 1, 9, 0, 0)
    t2 = t1 + timedelta(minutes=3)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t1, upto="books"), activation(U, 640, "Zielinski, Marek", t2)
    )
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    a = one(rep, email=U)
    assert (a["status"], len(a["attempts"])) == ("complete", 1)
    first = a["attempts"][0]
    assert (first["status"], first["stage"]) == ("stalled", 3), "given up on, not in progress"
    # Judged up to the retry, not the logs' end: minutes, not the hours after it.
    assert "no progress for" not in first["reason"] and "before the logs end" not in first["reason"]
    assert "the next attempt began 2m" in first["reason"], first["reason"]
    assert "at 2019-10-01 09:03:00 (within the stage 3 threshold of" in first["reason"]


def test_duplicate_etp_within_stage_one_is_the_same_attempt(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = merge(activation(*JOERG, t0, upto="etp"), activation(*JOERG, t0 + timedelta(minutes=5)))
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "complete", 4, None)]
    assert rep["activations"][0]["attempts"] == []


def test_repeated_user_not_started_then_retry(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0, upto="etp")
    for i in range(5):
        t = t0 + timedelta(minutes=1 + i)
        parts["MAGT"].append((t, bes_line(t, "User not started", tid="1B44", user=U, eid="20000")))
    parts = merge(parts, activation(U, 640, "Zielinski, Marek", t0 + timedelta(minutes=20)))
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, U, 640, "Zielinski, Marek", "complete", 4, None)]
    assert [(x["status"], x["kb"]) for x in rep["activations"][0]["attempts"]] == [("failed", "KB10321")]


def test_routine_lines_after_completion_keep_it_complete(tmp_path: Path) -> None:
    """An IT policy push, an organizer-data command and a mailbox error hours later are not a new
    activation and do not turn a complete one into failed."""
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = activation(U, 640, "Zielinski, Marek", t0)
    t = t0 + timedelta(hours=3)
    parts["POLC"].append(policy_at(t, 640))
    parts["SYNC"].append(
        (
            t + timedelta(minutes=1),
            bes_line(
                t + timedelta(minutes=1),
                '[SYNC-DSession] Received "ContactsData" command from device. [Zielinski, Marek:640]',
                tid="1294",
                eid="46047",
            ),
        )
    )
    parts["MAGT"].append(
        (
            t + timedelta(minutes=2),
            bes_line(
                t + timedelta(minutes=2),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU",
                tid="21AC",
                user=U,
                eid="20400",
            ),
        )
    )
    parts["MAGT"] += mail_flow(t, t + timedelta(hours=2), step=60)
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, U, 640, "Zielinski, Marek", "complete", 4, None)]
    assert rep["activations"][0]["attempts"] == []


def test_retry_across_midnight_in_day_folders(tmp_path: Path) -> None:
    first = Activation(*RUTH, datetime(2016, 3, 14, 23, 40, 0), upto="key", site=LON_SITE)
    second = Activation(*RUTH, datetime(2016, 3, 15, 0, 25, 0), site=LON_SITE)
    parts = merge(
        first.parts(),
        second.parts(),
        {
            "MAGT": mail_flow(
                datetime(2016, 3, 14, 23, 30), datetime(2016, 3, 15, 0, 50), step=60, site=LON_SITE
            )
        },
    )
    write_server(tmp_path, LON, parts)
    assert (tmp_path / "20160315").is_dir() and (tmp_path / "20160314").is_dir()
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-03-15T00:25")
    assert tries(a) == [("stalled", 2, "KB13843")]
    assert a["attempts"][0]["started"].startswith("2016-03-14T23:40")


def test_retry_after_a_completed_activation(tmp_path: Path) -> None:
    """A new device the next afternoon: a second attempt, now in slow sync; the first stays complete."""
    first = Activation(*RUTH, datetime(2016, 6, 1, 9, 0, 0), site=LON_SITE)
    second = Activation(*RUTH, datetime(2016, 6, 2, 15, 0, 0), upto="progress", key_tid="2208", site=LON_SITE)
    end = second.last() + timedelta(minutes=10)
    parts = merge(
        first.parts(),
        second.parts(),
        {"DISP": [(end, bes_line(end, "Total Msgs Pending 0", tid="9C4", eid="30000"))]},
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *RUTH, "in_progress", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-06-02T15:00") and a["completed"] is None
    assert tries(a) == [("complete", 4, None)]
    assert a["attempts"][0]["completed"].startswith("2016-06-01T09:14")


def test_retry_hours_after_a_stall_in_slow_sync(tmp_path: Path) -> None:
    first = Activation(*RUTH, datetime(2016, 6, 1, 8, 0, 0), upto="progress", site=LON_SITE)
    second = Activation(*RUTH, datetime(2016, 6, 1, 13, 30, 0), site=LON_SITE)
    parts = merge(
        first.parts(),
        second.parts(),
        {"MAGT": mail_flow(datetime(2016, 6, 1, 8, 0), datetime(2016, 6, 1, 14, 0), step=120, site=LON_SITE)},
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert tries(a) == [("stalled", 4, "KB13461")]
    assert a["attempts"][0]["started"].startswith("2016-06-01T08:00")
    assert a["started"].startswith("2016-06-01T13:30")


@pytest.mark.parametrize("error", ["itpolicy-rejected", "key-reject", "password"])
def test_explicit_error_then_successful_retry_is_complete(tmp_path: Path, error: str) -> None:
    t1 = datetime(2018, 9, 3, 10, 0, 0)
    if error == "itpolicy-rejected":
        first = Activation(*TOM, t1, upto="policy", site=LON_SITE)
        e = t1 + timedelta(seconds=30)
        err = {
            "POLC": [
                (
                    e,
                    bes_line(
                        e,
                        "SCS::ProcessITPolicyResult - IT Policy rejected by device for UserId=6060",
                        tid="E1C",
                        eid="20000",
                    ),
                )
            ]
        }
        want = ("failed", 3, "KB04533")
    elif error == "key-reject":
        first = Activation(*TOM, t1, upto="key", site=LON_SITE)
        e = t1 + timedelta(seconds=2)
        err = {
            "MAGT": [
                (
                    e,
                    bes_line(
                        e,
                        "*** OTAKEYGEN *** key verification failed, sending KEY_REJECT transID = 9",
                        tid="14D4",
                        user=TOM[0],
                        eid="20000",
                    ),
                )
            ]
        }
        want = ("failed", 2, "KB13843")
    else:
        first = Activation(*TOM, t1, upto="etp", site=LON_SITE)
        e = t1 + timedelta(seconds=1)
        err = {
            "MAGT": [
                (
                    e,
                    bes_line(
                        e,
                        "Enterprise activation: the ETP.DAT message could not be decrypted, "
                        "activation password incorrect",
                        tid="1AEC",
                        user=TOM[0],
                        eid="20000",
                    ),
                )
            ]
        }
        want = ("failed", 1, "KB04829")
    second = Activation(*TOM, t1 + timedelta(minutes=45), site=LON_SITE)
    parts = merge(
        first.parts(),
        err,
        second.parts(),
        {"MAGT": mail_flow(t1, t1 + timedelta(hours=1, minutes=10), step=60, site=LON_SITE)},
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *TOM, "complete", 4, None)]
    assert tries(rep["activations"][0]) == [want]


def test_slow_sync_that_pauses_over_an_hour_then_moves_again_is_in_progress(tmp_path: Path) -> None:
    """Organizer data moves, pauses 80 minutes (device out of coverage), then moves again until
    ten minutes before the logs end: the last progress is recent, so not stalled (README: stalled =
    no progress for longer than the threshold before the end of the logs)."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Activation(
        "pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="progress", site=LON_SITE
    )  # data at 09:05
    parts = act.parts()
    for minutes in (90, 100, 110):  # 10:30, 10:40, 10:50
        t = t0 + timedelta(minutes=minutes)
        parts["SYNC"].append(
            (
                t,
                bes_line(
                    t,
                    '[SYNC-DSession] Received "ContactsData" command from device. [Ruiz, Pablo:321]',
                    tid="1294",
                    eid="46047",
                ),
            )
        )
    end = t0 + timedelta(hours=2)
    parts["CTRL"] = [(end, bes_line(end, "Performing system health check", tid="A2C", eid="30000"))]
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("in_progress", 4, None)
    assert a["last_progress"].startswith("2011-04-18T10:50")
    assert code == 0


def test_slow_sync_complete_after_a_long_pause_is_complete(tmp_path: Path) -> None:
    """The contrast to the test above: the same 80-minute pause, then SLOWSYNC COMPLETE."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Activation(
        "pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="progress", site=LON_SITE
    )  # data at 09:05
    parts = act.parts()
    t = t0 + timedelta(minutes=90)
    parts["SYNC"].append(
        (
            t,
            bes_line(
                t, "[SYNC-DSession] *** SLOWSYNC COMPLETE *** [Ruiz, Pablo:321]", tid="12AC", eid="36023"
            ),
        )
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, "pablo.ruiz@corp.example", 321, "Ruiz, Pablo", "complete", 4, None)]
    assert rep["activations"][0]["completed"].startswith("2011-04-18T10:30")


def test_timeline_of_a_retry_shows_both_attempts(
    busy_world: BusyDay, busy_logs: Path, busy_maps: tuple[Path, Path]
) -> None:
    for s in BUSY_SERVERS:
        u = next(x for x in busy_world.users if x.outcome == "retry_complete" and x.server == s)
        result = run_cli(
            *[
                "timeline",
                u.email,
                str(busy_logs),
                "--users",
                str(busy_maps[0]),
                "--format",
                "json",
                "--jobs",
                "1",
            ]
        )
        assert result.exit_code == 0, result.stderr
        tl = json.loads(result.stdout)
        assert len(tl["activations"]) == 1
        act = tl["activations"][0]
        assert (act["status"], act["server"], len(act["attempts"])) == ("complete", s, 1)
        first = act["attempts"][0]
        assert (first["status"], first["stage"], first["kb"]) == ("stalled", 1, "KB13840")
        ms = tl["milestones"]
        assert [m["attempt"] for m in ms] == [1] + [2] * (len(ms) - 1)
        assert ms[0]["milestone"] == ms[1]["milestone"] == "etp_received"
        assert ms[0]["since_previous_seconds"] is None and ms[1]["since_previous_seconds"] is None
        assert all(m["since_previous_seconds"] is not None for m in ms[2:])
        assert ms[-1]["milestone"] == "slowsync_complete"
        assert [m["time"] for m in ms] == sorted(m["time"] for m in ms)
