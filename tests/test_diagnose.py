"""Verdicts and KB articles: every stall rule, every error, in_progress against stalled at the end.

First ``diagnose_attempt`` on hand-built events (no log files), then through the core entry point.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import bes_line, event, scan_report, write_activation, write_lines

from bes_logdiag.diagnose import diagnose_attempt
from bes_logdiag.library import Library, load_library
from bes_logdiag.model import Event, Status

LIB = load_library()
EMAIL, UID, NAME = "ian.dundas@example.net", 2573, "Dundas, Ian"


# ---------------------------------------------------------------------------------------------
# diagnose_attempt on hand-built events
# ---------------------------------------------------------------------------------------------

T = datetime(2019, 11, 5, 10, 0, 0)
SPINE = [("etp_received", 0), ("key_generated", 2), ("key_accept_sent", 3), ("service_books_requested", 9),
         ("itpolicy_queued", 13), ("slowsync_started", 48), ("slowsync_complete", 790)]  # fmt: skip
"""(milestone, seconds after T) of one activation, timed like the seed."""


def attempt(library: Library, steps: list[tuple[str, float]]) -> list[Event]:
    """One attempt's events, each on the line numbered by its second (the evidence names it)."""
    return [event(library, what, T + timedelta(seconds=s), email=EMAIL, line=int(s) + 1) for what, s in steps]


def upto(library: Library, milestone: str) -> list[Event]:
    names = [m for m, _ in SPINE]
    return attempt(library, SPINE[: names.index(milestone) + 1])


def test_complete(library: Library) -> None:
    a = diagnose_attempt(upto(library, "slowsync_complete"), library, T + timedelta(hours=5), {})
    assert (a.status, a.stage, a.diagnosis.kb, a.last_milestone) == (
        Status.COMPLETE,
        4,
        None,
        "slowsync_complete",
    )
    assert (a.started, a.completed) == (T, T + timedelta(seconds=790))
    assert a.diagnosis.reason == "slow synchronization complete (BB01_SYNC_01_20191105_0001.txt:791)"
    assert a.diagnosis.next_expected is None


def test_an_error_with_no_progress_after_it_fails_with_its_kb(library: Library) -> None:
    events = attempt(library, [("etp_received", 0), ("magt.user-not-started", 20)])
    a = diagnose_attempt(events, library, T + timedelta(hours=2), {})
    assert (a.status, a.stage, a.diagnosis.kb, a.last_milestone) == (
        Status.FAILED,
        1,
        "KB10321",
        "etp_received",
    )
    assert a.diagnosis.next_expected == "key_generated"
    assert a.diagnosis.reason.endswith("(BB01_MAGT_01_20191105_0001.txt:21); no progress after it")
    assert a.diagnosis.evidence == ("BB01_MAGT_01_20191105_0001.txt:21", "BB01_MAGT_01_20191105_0001.txt:1")
    assert "KB10321" not in {c.kb for c in a.diagnosis.candidates}


def test_an_error_with_progress_after_it_is_not_failed(library: Library) -> None:
    events = attempt(library, [("etp_received", 0), ("magt.user-not-started", 20), ("key_generated", 60)])
    a = diagnose_attempt(events, library, T + timedelta(minutes=5), {})
    assert (a.status, a.stage, a.diagnosis.kb, a.last_milestone) == (
        Status.IN_PROGRESS,
        2,
        None,
        "key_generated",
    )


def test_past_the_threshold_is_stalled_with_the_stall_rules_kb(library: Library) -> None:
    """KEY_ACCEPT at 10:00:03 and nothing for 16 minutes (stage 2: 15): KB13843 (patterns/rules.toml)."""
    a = diagnose_attempt(upto(library, "key_accept_sent"), library, T + timedelta(minutes=16, seconds=3), {})
    assert (a.status, a.stage, a.diagnosis.kb) == (Status.STALLED, 2, "KB13843")
    assert (a.diagnosis.last_milestone, a.diagnosis.next_expected) == (
        "key_accept_sent",
        "service_books_requested",
    )
    assert a.diagnosis.evidence == ("BB01_MAGT_01_20191105_0001.txt:4",)
    assert a.diagnosis.reason.endswith("before the logs end at 2019-11-05 10:16:03")
    assert a.stall_after == timedelta(minutes=15)


@pytest.mark.parametrize(("milestone", "stage", "kb"), [("etp_received", 1, "KB13840"), ("service_books_requested", 3, "KB03410"),
                                                         ("slowsync_started", 4, "KB03964")])  # fmt: skip
def test_each_stage_stalls_after_its_own_threshold(
    library: Library, milestone: str, stage: int, kb: str
) -> None:
    events = upto(library, milestone)
    limit = library.stages[stage].stall_after
    a = diagnose_attempt(events, library, events[-1].time + limit + timedelta(seconds=1), {})
    assert (a.status, a.stage, a.diagnosis.kb) == (Status.STALLED, stage, kb)


def test_an_etp_re_sent_while_the_device_waits_is_no_progress(library: Library) -> None:
    """The device re-sends ETP.DAT every 14 minutes and no key follows: stuck at Activating for
    50 minutes, past the stage-1 threshold, whatever the re-sends (KB13840: "Activating or Retrying")."""
    events = attempt(
        library, [("etp_received", 0), ("etp_received", 840), ("etp_received", 1680), ("etp_received", 2520)]
    )
    a = diagnose_attempt(events, library, T + timedelta(minutes=50), {})
    assert (a.status, a.stage, a.diagnosis.kb) == (Status.STALLED, 1, "KB13840")
    assert "no progress for 50m" in a.diagnosis.reason


def test_under_or_at_the_threshold_is_in_progress(library: Library) -> None:
    for waited in (timedelta(minutes=14), timedelta(minutes=15)):
        a = diagnose_attempt(upto(library, "key_accept_sent"), library, T + timedelta(seconds=3) + waited, {})
        assert (a.status, a.stage, a.diagnosis.kb) == (Status.IN_PROGRESS, 2, None)
        assert a.diagnosis.next_expected == "service_books_requested"
        assert a.diagnosis.candidates == ()


def test_stall_after_for_one_stage(library: Library) -> None:
    """GetConfig, then 70 minutes of nothing: stalled after stage 4's hour; ``--stall-after 4=2h``: in progress."""
    events = upto(library, "slowsync_started")
    end = T + timedelta(seconds=48, minutes=70)
    assert diagnose_attempt(events, library, end, {}).status is Status.STALLED
    a = diagnose_attempt(events, library, end, {4: timedelta(hours=2)})
    assert (a.status, a.stage, a.diagnosis.kb, a.stall_after) == (
        Status.IN_PROGRESS,
        4,
        None,
        timedelta(hours=2),
    )


def test_stall_after_for_every_stage_and_a_stages_own_value_beats_it(library: Library) -> None:
    """``--stall-after 10m`` shortens stage 2's 15 minutes; ``--stall-after 3h --stall-after 4=30m``:
    stage 4's own value wins."""
    a = diagnose_attempt(upto(library, "key_accept_sent"), library, T + timedelta(minutes=11, seconds=3),
                         {None: timedelta(minutes=10)})  # fmt: skip
    assert (a.status, a.stage, a.diagnosis.kb, a.stall_after) == (
        Status.STALLED,
        2,
        "KB13843",
        timedelta(minutes=10),
    )
    a = diagnose_attempt(upto(library, "slowsync_started"), library, T + timedelta(seconds=48, minutes=40),
                         {None: timedelta(hours=3), 4: timedelta(minutes=30)})  # fmt: skip
    assert (a.status, a.stage, a.diagnosis.kb, a.stall_after) == (
        Status.STALLED,
        4,
        "KB03964",
        timedelta(minutes=30),
    )


def _stall_lines(after: str) -> list[tuple[str, str]]:
    """(service, line) pairs that reach milestone ``after`` and stop there."""
    spine = [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
    ]
    extra = {
        "calendar_sync": [
            (
                "MAGT",
                bes_line("05/21 06:52:40.000", "[CICAL] Starting calendar slow sync, items=152", user=EMAIL),
            )
        ],
        "slowsync_progress": [
            (
                "SYNC",
                bes_line(
                    "05/21 06:55:00.000",
                    f'[SYNC-DSession] Received "SyncData" command from device. [{NAME}:{UID}]',
                    eid=46047,
                ),
            )
        ],
    }
    return spine, extra.get(after, [])  # type: ignore[return-value]


@pytest.mark.parametrize("rule", LIB.stall_rules.values(), ids=lambda r: f"{r.after}->{r.kb}")
def test_each_stall_rule_gives_its_kb(tmp_path: Path, rule: object) -> None:
    after = rule.after  # type: ignore[attr-defined]
    spine, extra = _stall_lines(after)
    upto = after if after in spine else "slowsync_started"
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME, upto=upto)
    for service, text in extra:
        write_lines(tmp_path / f"BB01_{service}_02_20100521_0001.txt", [text])
    act = scan_report(tmp_path).activations[0]
    assert act.last.status is Status.STALLED
    assert act.last.last_milestone == after
    assert act.last.diagnosis.kb == rule.kb  # type: ignore[attr-defined]
    assert act.last.diagnosis.kb_title == LIB.articles[rule.kb].title  # type: ignore[attr-defined]
    assert act.last.stage == LIB.milestones[after].stage
    assert act.last.diagnosis.evidence, "a stall names the line it stopped after"
    assert rule.kb not in {c.kb for c in act.last.diagnosis.candidates}  # type: ignore[attr-defined]
    # The stage's other articles are listed, except those a milestone reached rules out (kb.toml's
    # ruled_out_by): after key_generated no other article fits.
    reached = {e.milestone for e in act.last.events if e.milestone}
    stages = {act.last.stage, LIB.articles[rule.kb].stage}  # type: ignore[attr-defined]
    fitting = {
        a.id
        for a in LIB.articles.values()
        if a.stage in stages and a.id != rule.kb and LIB.fits(a, reached)  # type: ignore[attr-defined]
    }
    assert fitting <= {c.kb for c in act.last.diagnosis.candidates}
    assert all(LIB.fits(LIB.articles[c.kb], reached) for c in act.last.diagnosis.candidates)


ERRORS = [
    ("magt.user-not-started", None, "[20000]", "User not started", "KB10321", 1),
    (
        "magt.opendatabase-failed",
        None,
        "[20000]",
        "MAPIMailbox::OpenDatabase() failed, error=0x80040111",
        "KB10321",
        1,
    ),
    (
        "magt.mailbox-open-failed",
        "etp_received",
        "[20400]",
        "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=X",
        "KB02276",
        1,
    ),
    (
        "magt.activation-password-rejected",
        "etp_received",
        "[20000]",
        "Enterprise activation failed: ETP.DAT could not be decrypted",
        "KB04829",
        1,
    ),
    (
        "magt.key-rejected",
        "key_generated",
        "[20000]",
        "*** OTAKEYGEN *** Key verification failed, sending KEY_REJECT transID = 5",
        "KB13843",
        2,
    ),
    (
        "bes.itpolicy-rejected",
        "itpolicy_queued",
        "[20000]",
        "IT Policy Rejected by device, PIN=2A3B4C5D",
        "KB04533",
        3,
    ),
]


@pytest.mark.parametrize(("pattern", "upto", "eid", "msg", "kb", "stage"), ERRORS, ids=[e[0] for e in ERRORS])
def test_explicit_errors_fail_with_their_kb(
    tmp_path: Path, pattern: str, upto: str | None, eid: str, msg: str, kb: str, stage: int
) -> None:
    if upto:
        write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME, upto=upto, end=None)
    write_lines(
        tmp_path / "BB01_MAGT_03_20100521_0001.txt",
        [
            bes_line("05/21 07:00:00.000", msg, user=EMAIL, eid=int(eid.strip("[]"))),
            bes_line("05/21 07:02:00.000", "Total Msgs Pending 0", eid=30000),
        ],
    )
    (act,) = scan_report(tmp_path).activations
    assert act.last.status is Status.FAILED
    assert act.last.diagnosis.kb == kb
    assert act.last.stage == stage
    assert any(e.pattern_id == pattern for e in act.last.events)
    assert act.last.diagnosis.evidence[0].endswith(":1")


def test_progress_after_an_error_is_not_a_failure(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME, hour=7)
    write_lines(
        tmp_path / "BB01_MAGT_03_20100521_0001.txt",
        [
            bes_line("05/21 06:00:00.000", "User not started", user=EMAIL, eid=20000),
        ],
    )
    act = scan_report(tmp_path).activations[0]
    assert act.last.status is Status.COMPLETE
    assert [a.status for a in act.attempts] == [Status.FAILED, Status.COMPLETE]


@pytest.mark.parametrize(
    ("end", "status"), [("06:55:00.000", Status.IN_PROGRESS), ("09:00:00.000", Status.STALLED)]
)
def test_in_progress_or_stalled_by_the_end_of_that_servers_logs(
    tmp_path: Path, end: str, status: Status
) -> None:
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME, upto="slowsync_started", end=end)
    # another server's logs run much longer: they must not make BB01's activation stall
    write_lines(
        tmp_path / "BB02_MAGT_01_20100522_0001.txt",
        [bes_line("05/22 23:00:00.000", "Total Msgs Pending 0", eid=30000)],
    )
    (act,) = scan_report(tmp_path).activations
    assert act.last.status is status
    assert act.last.diagnosis.kb == (None if status is Status.IN_PROGRESS else "KB03964")
    assert act.last.diagnosis.next_expected == "slowsync_complete"


def test_complete_has_no_kb(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME)
    (act,) = scan_report(tmp_path).activations
    assert act.last.status is Status.COMPLETE and act.last.diagnosis.kb is None
    assert act.last.completed is not None and act.last.completed == act.last.last_progress
