"""Identity joins, thread inheritance, attempts and verdicts, through the core entry point."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import line, write_activation, write_log

from bes_logdiag.model import Report, Status
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig


def scan(*paths: Path, **kw: object) -> Report:
    return run_scan(ScanConfig(paths=tuple(str(p) for p in paths), jobs=1, **kw))  # type: ignore[arg-type]


def only(report: Report):  # type: ignore[no-untyped-def]
    assert len(report.activations) == 1, [(a.email, a.user_id) for a in report.activations]
    return report.activations[0]


def test_complete_activation_joined_by_name_shape(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    act = only(scan(tmp_path))
    assert (act.server, act.email, act.user_id, act.display_name) == (
        "BB01",
        "ian.dundas@example.net",
        "2573",
        "Dundas, Ian",
    )
    assert act.last.status is Status.COMPLETE and act.last.stage == 4
    assert [e.milestone for e in act.last.events] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
        "itpolicy_queued",
        "slowsync_started",
        "slowsync_complete",
    ]
    assert "name" in {j.kind for j in act.joins}


@pytest.mark.parametrize(
    ("email", "display"),
    [("juergen.mueller@example.net", "Müller, Jürgen"), ("helene.dubois@example.net", "Dubois, Hélène")],
)
def test_name_shape_folds_accents(tmp_path: Path, email: str, display: str) -> None:
    write_activation(tmp_path, "BB01", "20100521", email, 88, display, upto="slowsync_started")
    # a second user's service books in the same minute: time order alone cannot decide
    write_log(
        tmp_path,
        "BB01_MAGT_02_20100521_0001.txt",
        [
            line(
                "05/21 06:51:44.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="77",
                user="other.person@example.net",
            ),
        ],
    )
    acts = scan(tmp_path).activations
    act = next(a for a in acts if a.email == email)
    assert act.user_id == "88" and act.display_name == display


def test_user_map_joins_names_that_do_not_match(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    users = tmp_path.parent / "users.csv"
    users.write_text('MailboxSMTPAddr,UserConfigId,DisplayName\njsmith@example.net,41,"Smith, John"\n')
    act = only(scan(tmp_path, users=users))
    assert (act.email, act.user_id, act.last.status) == ("jsmith@example.net", "41", Status.COMPLETE)
    assert "map" in {j.kind for j in act.joins}


@pytest.mark.parametrize(
    "header", ["email,user_id,display_name", "EMAIL,Id,DISPLAYNAME", "mailboxsmtpaddr,UserId,displayname"]
)
def test_user_map_header_names_are_case_insensitive(tmp_path: Path, header: str) -> None:
    write_activation(tmp_path / "logs", "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    users = tmp_path / "users.csv"
    users.write_text(f'{header}\njsmith@example.net,41,"Smith, John"\n')
    act = only(scan(tmp_path / "logs", users=users))
    assert act.user_id == "41"


def test_time_order_joins_a_lone_pair(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    act = only(scan(tmp_path))
    assert (act.email, act.user_id) == ("jsmith@example.net", "41")
    assert any(j.kind == "time" and "41" in j.detail for j in act.joins)


def test_time_order_refuses_two_candidates(tmp_path: Path) -> None:
    write_activation(
        tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John", upto="itpolicy_queued"
    )
    write_log(
        tmp_path,
        "BB01_MAGT_02_20100521_0001.txt",
        [
            line(
                "05/21 06:51:40.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="99",
                user="kdoe@example.net",
            ),
        ],
    )
    report = scan(tmp_path)
    assert not any(a.email == "jsmith@example.net" and a.user_id == "41" for a in report.activations)
    assert any("not joining UserId=41" in n and "kdoe@example.net" in n for n in report.notes)


def test_name_shape_refuses_when_two_people_share_the_name(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "BB01_SYNC_01_20100521_0001.txt",
        [
            line(
                "05/21 06:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas, Ian:1]',
                eid=46046,
            ),
            line(
                "05/21 07:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas,  Ian:2]',
                eid=46046,
            ),
        ],
    )
    write_log(
        tmp_path,
        "BB01_MAGT_01_20100521_0001.txt",
        [
            line(
                "05/21 06:40:00.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                user="ian.dundas@example.net",
            ),
        ],
    )
    report = scan(tmp_path)
    assert any("not joining by name shape" in n for n in report.notes)
    assert {a.user_id for a in report.activations if a.email} == {None}


def test_key_accept_belongs_to_the_user_last_named_on_its_thread(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "BB01_MAGT_01_20100521_0001.txt",
        [
            line(
                "05/21 06:51:30.000",
                "New mail has arrived, EntryId=1",
                tid="14D4",
                user="noise.user@example.net",
            ),
            line(
                "05/21 06:51:38.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1AEC",
                user="ian.dundas@example.net",
            ),
            line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="ian.dundas@example.net"),
            line(
                "05/21 06:51:39.010",
                "New mail has arrived, EntryId=2",
                tid="0777",
                user="someone.else@example.net",
            ),
            line("05/21 06:51:39.020", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="14D4"),
        ],
    )
    act = only(scan(tmp_path))
    accept = [e for e in act.last.events if e.milestone == "key_accept_sent"]
    assert act.email == "ian.dundas@example.net" and len(accept) == 1
    assert accept[0].identity_from == "thread"


def test_key_accept_outside_the_window_names_nobody(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "BB01_MAGT_01_20100521_0001.txt",
        [
            line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="ian.dundas@example.net"),
            line("05/21 07:30:00.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="14D4"),
        ],
    )
    report = scan(tmp_path)
    assert [e.milestone for e in report.unattached] == ["key_accept_sent"]
    assert only(report).last.last_milestone == "key_generated"


def test_rotated_iterations_and_services_merge_in_time_order(tmp_path: Path) -> None:
    lines = {
        "BB01_MAGT_01_20100521_0001.txt": [
            line(
                "05/21 06:50:00.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1",
                user="ian.dundas@example.net",
            ),
        ],
        "BB01_MAGT_01_20100521_0002.txt": [
            line("05/21 06:51:39.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
            line("05/21 06:51:39.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="2"),
            line(
                "05/21 06:51:45.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="3",
                user="ian.dundas@example.net",
            ),
        ],
    }
    for name, ls in lines.items():
        write_log(tmp_path, name, ls)
    act = only(scan(tmp_path))
    assert [e.milestone for e in act.last.events] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
    ]
    assert len(act.attempts) == 1


def test_retry_keeps_attempts_apart_and_the_last_decides(tmp_path: Path) -> None:
    write_activation(
        tmp_path, "BB01", "20100520", "ian.dundas@example.net", 2573, "Dundas, Ian", upto="etp_received"
    )
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    act = only(scan(tmp_path))
    assert [a.status for a in act.attempts] == [Status.STALLED, Status.COMPLETE]
    assert act.attempts[0].diagnosis.kb == "KB13840"
    assert act.last.status is Status.COMPLETE


def test_same_user_on_two_servers_is_two_activations(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    write_activation(
        tmp_path, "BES_EAST_02", "20100521", "ian.dundas@example.net", 9, "Dundas, Ian", upto="key_generated"
    )
    acts = scan(tmp_path).activations
    assert sorted((a.server, a.last.status.value) for a in acts) == [
        ("BB01", "complete"),
        ("BES_EAST_02", "stalled"),
    ]


def test_it_policy_push_for_an_idle_user_is_no_activation(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "BB01_POLC_01_20100521_0001.txt",
        [
            line(
                "05/21 03:00:00.000",
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=77",
                tid="E1C",
            ),
        ],
    )
    write_log(
        tmp_path,
        "BB01_MAGT_01_20100521_0001.txt",
        [
            line(
                "05/21 03:10:00.000",
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=X",
                user="idle.user@example.net",
                eid=20400,
            ),
        ],
    )
    report = scan(tmp_path)
    assert report.activations == ()
    assert sorted(e.pattern_id for e in report.unattached) == [
        "magt.mailbox-open-failed",
        "polc.itpolicy-queued",
    ]


def test_year_comes_from_the_file_and_rolls_over_in_the_file(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "BB01_MAGT_01_20091231_0001.txt",
        [
            line(
                "12/31 23:59:50.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1",
                user="ian.dundas@example.net",
            ),
            line("01/01 00:00:10.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
            line("01/01 00:00:10.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="2"),
        ],
    )
    act = only(scan(tmp_path))
    times = [e.time for e in act.last.events]
    assert [t.year for t in times] == [2009, 2010, 2010]
    assert act.last.started.year == 2009


def test_year_option_for_undated_input(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "excerpt.txt",
        [
            line("05/21 06:51:39.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
        ],
    )
    act = only(scan(tmp_path, year=2007))
    assert act.last.started.year == 2007 and act.server is None


def test_service_comes_from_the_line_when_the_name_says_nothing(tmp_path: Path) -> None:
    write_log(
        tmp_path,
        "excerpt.txt",
        [
            line(
                "05/21 06:51:45.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="1AA8",
                user="ian.dundas@example.net",
            ),
            line(
                "05/21 06:51:49.000",
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=5",
                tid="E1C",
            ),
            line(
                "05/21 06:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas, Ian:5]',
                eid=46046,
            ),
        ],
    )
    act = only(scan(tmp_path, year=2010))
    assert [e.service for e in act.last.events] == ["MAGT", "POLC", "SYNC"]


def test_stall_threshold_override(tmp_path: Path) -> None:
    write_activation(
        tmp_path,
        "BB01",
        "20100521",
        "ian.dundas@example.net",
        2573,
        "Dundas, Ian",
        upto="slowsync_started",
        end="08:00:00.000",
    )
    assert only(scan(tmp_path)).last.status is Status.STALLED  # 1h08m after GetConfig, threshold 1h
    assert only(scan(tmp_path, stall_after={4: timedelta(hours=2)})).last.status is Status.IN_PROGRESS
    assert only(scan(tmp_path, stall_after={None: timedelta(hours=3)})).last.status is Status.IN_PROGRESS
