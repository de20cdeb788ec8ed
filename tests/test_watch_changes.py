"""The changes a watch tells: started, milestone, stalled, failed, completed, resumed; one per
thing that happened, in log time order, for an activation however many of its names it is known
by yet.  Driven through `live.Watch` with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

from builders import bes_line
from test_watch_support import ANNA, IAN, T0, Bes, Clock, user, watching

from bes_logdiag.changes import ChangeKind, diff_reports
from bes_logdiag.live import Watch


def told(w: Watch) -> list[tuple[str, str | None, str | None, int]]:
    """(change, milestone or error, user's address, attempt) of the next poll's changes."""
    return [
        (c.kind.value, c.event and (c.event.milestone or c.event.error), c.activation.email, c.attempt)
        for c in w.next().changes
    ]


def test_an_error_line_is_a_failure_with_its_kb(bes: Bes) -> None:
    w = watching(bes.root)
    ian = user(IAN, T0)
    bes.step(ian, "etp")
    bes.write("MAGT", bes_line(T0 + timedelta(seconds=20), "User not started - the OpenDatabase() failed",
                               tid="1B44", user=IAN[0], eid=10000))  # fmt: skip
    changes = w.next().changes
    assert [(c.kind.value, c.event and (c.event.milestone or c.event.error)) for c in changes] == [
        ("started", "etp_received"),
        ("failed", "user_not_started"),
    ]
    failed = changes[-1].activation.last
    assert (failed.stage, failed.diagnosis.kb) == (1, "KB10321")


def test_a_stall_that_moves_again_is_resumed(bes: Bes) -> None:
    clock = Clock()
    w = watching(bes.root, clock, stall_after={None: timedelta(seconds=10)})
    ian = user(IAN, T0, scale=100)  # (the KEY_ACCEPT 30 s after the key: after the stall, by its clock)
    bes.step(ian, "etp")
    bes.step(ian, "key")
    w.next()
    clock.now += 20
    assert told(w) == [("stalled", None, IAN[0], 1)]
    bes.step(ian, "accept")
    assert told(w) == [("resumed", "key_accept_sent", IAN[0], 1), ("milestone", "key_accept_sent", IAN[0], 1)]


def test_a_retry_starts_a_new_attempt(bes: Bes) -> None:
    clock = Clock()
    w = watching(bes.root, clock, stall_after={1: timedelta(seconds=10)})
    bes.step(user(IAN, T0), "etp")
    w.next()
    clock.now += 20
    assert told(w) == [("stalled", None, IAN[0], 1)]
    again = user(IAN, T0 + timedelta(minutes=20), etp_tid="2AEC")  # (past stage 1's 15 minutes)
    bes.step(again, "etp")
    assert told(w) == [("started", "etp_received", IAN[0], 2)]


def test_a_retry_written_where_a_cleaned_up_log_had_its_lines_is_told(bes: Bes) -> None:
    """The MAGT log is emptied (log cleanup) after Ian's key; he retries, and his new lines land
    on the line numbers his old ones had: the new attempt and its step are told all the same."""
    w = watching(bes.root)
    ian = user(IAN, T0)
    bes.step(ian, "etp")
    magt = bes.step(ian, "key")
    assert [kind for kind, *_ in told(w)] == ["started", "milestone"]
    magt.write_bytes(b"")
    w.next()
    bes.noise(T0 + timedelta(minutes=19))
    again = user(IAN, T0 + timedelta(minutes=20), etp_tid="2AEC")
    bes.step(again, "etp")
    bes.step(again, "key")
    assert told(w) == [("started", "etp_received", IAN[0], 2), ("milestone", "key_generated", IAN[0], 2)]


def test_two_users_in_one_poll_are_told_in_log_time_order(bes: Bes) -> None:
    w = watching(bes.root)
    ian, anna = user(IAN, T0), user(ANNA, T0 + timedelta(seconds=1), etp_tid="2AEC", key_tid="24D4")
    # Anna's lines reach MAGT first in the file: the order told is the order of their times.
    bes.step(anna, "etp")
    bes.step(ian, "etp")
    bes.step(ian, "key")
    bes.step(anna, "key")
    assert told(w) == [
        ("started", "etp_received", IAN[0], 1),
        ("started", "etp_received", ANNA[0], 1),
        ("milestone", "key_generated", IAN[0], 1),
        ("milestone", "key_generated", ANNA[0], 1),
    ]


def test_an_activation_known_by_more_names_later_is_the_same_one(bes: Bes) -> None:
    w = watching(bes.root)
    ian = user(IAN, T0)
    for s in ("etp", "key", "accept", "books"):
        bes.step(ian, s)
    before = w.next().report
    assert [(a.email, a.user_id, a.display_name) for a in before.activations] == [(IAN[0], None, None)]
    bes.step(ian, "policy")
    bes.step(ian, "getconfig")  # [Dundas, Ian:1002]: the display name and the id
    after = w.next()
    assert [(c.kind.value, c.event and c.event.milestone) for c in after.changes] == [
        ("milestone", "itpolicy_queued"),
        ("milestone", "slowsync_started"),
    ]
    assert [(a.email, a.user_id, a.display_name) for a in after.report.activations] == [
        (IAN[0], "1002", IAN[2])
    ]


def test_every_activation_is_new_against_no_report(bes: Bes) -> None:
    w = watching(bes.root)
    ian = user(IAN, T0)
    for s in ian.keep:
        bes.step(ian, s)
    report = w.next().report
    assert [c.kind for c in diff_reports(None, report)] == [
        ChangeKind.STARTED, *[ChangeKind.MILESTONE] * 7, ChangeKind.COMPLETED,
    ]  # fmt: skip
    assert diff_reports(report, report) == []
