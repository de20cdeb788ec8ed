"""Verdicts and KB articles: every stall rule, every error, in_progress against stalled at the end."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import line, write_activation, write_log

from bes_logdiag.model import Report, Status
from bes_logdiag.library import load_library
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig

LIB = load_library()
EMAIL, UID, NAME = "ian.dundas@example.net", 2573, "Dundas, Ian"


def scan(folder: Path) -> Report:
    return run_scan(ScanConfig(paths=(str(folder),), jobs=1))


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
            ("MAGT", line("05/21 06:52:40.000", "[CICAL] Starting calendar slow sync, items=152", user=EMAIL))
        ],
        "slowsync_progress": [
            (
                "SYNC",
                line(
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
        write_log(tmp_path, f"BB01_{service}_02_20100521_0001.txt", [text])
    act = scan(tmp_path).activations[0]
    assert act.last.status is Status.STALLED
    assert act.last.last_milestone == after
    assert act.last.diagnosis.kb == rule.kb  # type: ignore[attr-defined]
    assert act.last.diagnosis.kb_title == LIB.articles[rule.kb].title  # type: ignore[attr-defined]
    assert act.last.stage == LIB.milestones[after].stage
    assert act.last.diagnosis.evidence, "a stall names the line it stopped after"
    assert rule.kb not in {c.kb for c in act.last.diagnosis.candidates}  # type: ignore[attr-defined]
    assert act.last.diagnosis.candidates, "the stage's other articles are listed"


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
    write_log(
        tmp_path,
        "BB01_MAGT_03_20100521_0001.txt",
        [
            line("05/21 07:00:00.000", msg, user=EMAIL, eid=int(eid.strip("[]"))),
            line("05/21 07:02:00.000", "Total Msgs Pending 0", eid=30000),
        ],
    )
    (act,) = scan(tmp_path).activations
    assert act.last.status is Status.FAILED
    assert act.last.diagnosis.kb == kb
    assert act.last.stage == stage
    assert any(e.pattern_id == pattern for e in act.last.events)
    assert act.last.diagnosis.evidence[0].endswith(":1")


def test_progress_after_an_error_is_not_a_failure(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME, hour=7)
    write_log(
        tmp_path,
        "BB01_MAGT_03_20100521_0001.txt",
        [
            line("05/21 06:00:00.000", "User not started", user=EMAIL, eid=20000),
        ],
    )
    act = scan(tmp_path).activations[0]
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
    write_log(
        tmp_path,
        "BB02_MAGT_01_20100522_0001.txt",
        [line("05/22 23:00:00.000", "Total Msgs Pending 0", eid=30000)],
    )
    (act,) = scan(tmp_path).activations
    assert act.last.status is status
    assert act.last.diagnosis.kb == (None if status is Status.IN_PROGRESS else "KB03964")
    assert act.last.diagnosis.next_expected == "slowsync_complete"


def test_complete_has_no_kb(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", EMAIL, UID, NAME)
    (act,) = scan(tmp_path).activations
    assert act.last.status is Status.COMPLETE and act.last.diagnosis.kb is None
    assert act.last.completed is not None and act.last.completed == act.last.last_progress
