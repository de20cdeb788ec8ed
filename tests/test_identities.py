"""The identity join (BES-LOGS.md section 3): an address (MAGT), a user id (POLC) and ``Last, First:N``
(SYNC) become one person by the user map, a shared line, the shape of the name or the order in time,
and the tool refuses to guess when two candidates fit.

First ``join_identities`` on hand-built events (no log files), then the same joins end to end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    EU1,
    EU2,
    HELP,
    JOERG,
    LON,
    LON_SITE,
    NYC,
    OPS,
    REACHES_POLC,
    REACHES_SYNC,
    Activation,
    BusyDay,
    Parts,
    activation,
    bes_line,
    bes_name,
    by_email,
    event,
    mail_flow,
    merge,
    one,
    only,
    policy_at,
    rows,
    run_json,
    scan_json,
    scan_report,
    write_activation,
    write_lines,
    write_server,
    write_user_map,
)

from bes_logdiag.identities import Person, join_identities
from bes_logdiag.library import Library
from bes_logdiag.model import Event, Join, Status
from bes_logdiag.usermap import MapEntry

# ---------------------------------------------------------------------------------------------
# join_identities on hand-built events
# ---------------------------------------------------------------------------------------------

T = datetime(2019, 11, 5, 10, 0, 0)


def join(
    library: Library, events: list[Event], user_map: tuple[MapEntry, ...] = ()
) -> tuple[list[Person], list[str]]:
    """The persons and notes of ``join_identities`` with the library's two time-order milestones."""
    persons, orphans, notes = join_identities(
        events, user_map, request=library.milestone_with("request"), answer=library.milestone_with("answer")
    )
    assert orphans == []
    return persons, notes


def names(persons: list[Person]) -> list[tuple[str | None, str | None, str | None, str | None]]:
    return sorted(((p.server, p.email, p.user_id, p.display_name) for p in persons), key=repr)


def test_names_on_one_line_are_one_person(library: Library) -> None:
    """A line that names an address and a user id ties them: kind ``id``."""
    e = event(library, "magt.user-not-started", T, email="marek.zielinski@example.eu", user_id="640", line=3)
    (person,), notes = join(library, [e])
    assert (person.email, person.user_id) == ("marek.zielinski@example.eu", "640")
    assert person.joins == (
        Join("id", "marek.zielinski@example.eu and 640 share a line (BB01_MAGT_01_20191105_0001.txt:3)"),
    )
    assert notes == []


def join_address_and_name(
    library: Library, email: str, user_id: str, display: str
) -> tuple[Person, list[str]]:
    """An address's ETP.DAT line, then a SYNC line of an id and display name a minute later, with
    no IT policy line in between: only the name shape can join them."""
    events = [
        event(library, "etp_received", T, email=email),
        event(library, "slowsync_started", T + timedelta(minutes=1), user_id=user_id, display_name=display),
    ]
    (person,), notes = join(library, events)
    return person, notes


def test_name_shape_joins_an_address_to_an_accented_display_name(library: Library) -> None:
    """``joerg.mueller@`` is ``Müller, Jörg`` (ü -> ue, ö -> oe)."""
    person, notes = join_address_and_name(library, "joerg.mueller@example.eu", "4711", "Müller, Jörg")
    assert (person.email, person.user_id, person.display_name) == (
        "joerg.mueller@example.eu",
        "4711",
        "Müller, Jörg",
    )
    assert [e.milestone for e in person.events] == ["etp_received", "slowsync_started"]
    assert person.joins == (
        Join("name", "joerg.mueller@example.eu has the shape of the name 'Müller, Jörg'"),
    )
    assert notes == []


def test_name_shape_reads_an_address_without_its_plus_tag(library: Library) -> None:
    """``ian.dundas+bb@`` is delivered to ``ian.dundas@``: it has the shape of ``Dundas, Ian``."""
    person, notes = join_address_and_name(library, "ian.dundas+bb@example.net", "2573", "Dundas, Ian")
    assert (person.email, person.user_id) == ("ian.dundas+bb@example.net", "2573")
    assert [j.kind for j in person.joins] == ["name"]
    assert notes == []


def test_name_shape_is_refused_when_two_ids_carry_the_name(library: Library) -> None:
    events = [
        event(library, "etp_received", T, email="ian.dundas@example.net"),
        event(library, "slowsync_started", T, user_id="1", display_name="Dundas, Ian", line=2),
        event(library, "slowsync_started", T, user_id="2", display_name="Dundas,  Ian", line=3),
    ]
    persons, notes = join(library, events)
    assert names(persons) == [
        ("BB01", "ian.dundas@example.net", None, None),
        ("BB01", None, "1", "Dundas, Ian"),
        ("BB01", None, "2", "Dundas,  Ian"),
    ]
    assert notes == [
        "server BB01: not joining by name shape, more than one fits: Dundas,  Ian (2), Dundas, Ian (1), "
        "ian.dundas@example.net"
    ]


def test_time_order_joins_a_request_and_the_policy_just_after_it(library: Library) -> None:
    """MAGT asks for service books for an address; POLC queues the IT policy for an id 4 s later."""
    events = [
        event(library, "service_books_requested", T, email=HELP, line=5),
        event(library, "itpolicy_queued", T + timedelta(seconds=4), user_id="301", line=9),
    ]
    (person,), notes = join(library, events)
    assert (person.email, person.user_id) == (HELP, "301")
    assert person.joins == (
        Join(
            "time",
            f"service books for {HELP} (BB01_MAGT_01_20191105_0001.txt:5) then UserId=301 4s later "
            "(BB01_POLC_01_20191105_0001.txt:9), nothing else in between",
        ),
    )
    assert notes == []


def test_time_order_needs_the_policy_within_the_window(library: Library) -> None:
    events = [
        event(library, "service_books_requested", T, email=HELP),
        event(library, "itpolicy_queued", T + timedelta(minutes=2, seconds=1), user_id="301"),
    ]
    persons, notes = join(library, events)
    assert names(persons) == [("BB01", HELP, None, None), ("BB01", None, "301", None)]
    assert notes == []


def test_time_order_is_off_without_the_two_milestones(library: Library) -> None:
    events = [
        event(library, "service_books_requested", T, email=HELP),
        event(library, "itpolicy_queued", T + timedelta(seconds=4), user_id="301"),
    ]
    persons, _, notes = join_identities(events, (), request=None, answer=None)
    assert names(persons) == [("BB01", HELP, None, None), ("BB01", None, "301", None)]
    assert notes == []


def test_time_order_refuses_two_requests_before_one_policy(library: Library) -> None:
    events = [
        event(library, "service_books_requested", T, email=HELP, line=5),
        event(library, "service_books_requested", T + timedelta(seconds=3), email=OPS, line=6),
        event(library, "itpolicy_queued", T + timedelta(seconds=10), user_id="301", line=9),
        event(library, "itpolicy_queued", T + timedelta(seconds=12), user_id="302", line=10),
    ]
    persons, notes = join(library, events)
    assert all(p.joins == () for p in persons)
    assert names(persons) == [
        ("BB01", HELP, None, None),
        ("BB01", OPS, None, None),
        ("BB01", None, "301", None),
        ("BB01", None, "302", None),
    ]
    assert notes == [
        "server BB01: not joining UserId=301 (BB01_POLC_01_20191105_0001.txt:9) by time: "
        f"{OPS} and {HELP} both asked for service books within 2m before it",
        # (it said nothing of 302, the policy likelier to be the second asker's)
        "server BB01: not joining UserId=302 (BB01_POLC_01_20191105_0001.txt:10) by time: "
        f"{OPS} and {HELP} both asked for service books within 2m before it, with another user id's "
        "IT policy in between",
    ]
    assert {p.email: p.untied for p in persons if p.email} == {HELP: ("301", "302"), OPS: ("301", "302")}


def test_time_order_refuses_one_request_before_two_policies(library: Library) -> None:
    events = [
        event(library, "service_books_requested", T, email=HELP, line=5),
        event(library, "itpolicy_queued", T + timedelta(seconds=10), user_id="301", line=9),
        event(library, "itpolicy_queued", T + timedelta(seconds=40), user_id="302", line=10),
    ]
    persons, notes = join(library, events)
    assert names(persons) == [
        ("BB01", HELP, None, None),
        ("BB01", None, "301", None),
        ("BB01", None, "302", None),
    ]
    assert notes == [
        f"server BB01: not joining {HELP} by time: user ids 301 and 302 both had the IT policy queued "
        "within 2m after its service-book request"
    ]


def test_user_map_joins_names_nothing_else_would(library: Library) -> None:
    """``jsmith@`` has no name shape and no policy line near it: only the map ties it to 41; an entry
    whose names the logs never mention adds nobody."""
    events = [
        event(library, "etp_received", T, email="jsmith@example.net"),
        event(library, "slowsync_started", T + timedelta(hours=1), user_id="41", display_name="Smith, John"),
    ]
    user_map = (
        MapEntry("jsmith@example.net", "41", "Smith, John"),
        MapEntry("nobody@example.net", "99", "Body, No"),
    )
    (person,), notes = join(library, events, user_map)
    assert (person.email, person.user_id, person.display_name) == ("jsmith@example.net", "41", "Smith, John")
    assert person.joins == (Join("map", "user map: jsmith@example.net, 41, smith, john"),)
    assert notes == []


def test_the_same_names_on_two_servers_are_two_people(library: Library) -> None:
    events = [
        event(library, "etp_received", T, server="BB01", email="joerg.mueller@example.eu"),
        event(library, "etp_received", T, server="BB02", email="joerg.mueller@example.eu"),
        event(library, "slowsync_started", T, server="BB02", user_id="4711", display_name="Müller, Jörg"),
    ]
    persons, _ = join(library, events)
    assert names(persons) == [
        ("BB01", "joerg.mueller@example.eu", None, None),
        ("BB02", "joerg.mueller@example.eu", "4711", "Müller, Jörg"),
    ]


def test_complete_activation_joined_by_name_shape(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    act = only(scan_report(tmp_path))
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
    write_lines(
        tmp_path / "BB01_MAGT_02_20100521_0001.txt",
        [
            bes_line(
                "05/21 06:51:44.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="77",
                user="other.person@example.net",
            ),
        ],
    )
    acts = scan_report(tmp_path).activations
    act = next(a for a in acts if a.email == email)
    assert act.user_id == "88" and act.display_name == display


def test_name_shape_join_folds_accents_without_policy_line(tmp_path: Path) -> None:
    """No POLC line: MAGT (address) and SYNC (display name) meet only by name shape (ü -> ue)."""
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    parts = activation(*JOERG, t0)
    parts["POLC"] = []
    write_server(tmp_path, EU1, parts, encoding={"SYNC": "cp1252"})
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["email"], a["user_id"], a["display_name"], a["status"]) == (*JOERG, "complete")


def test_name_shape_refuses_when_two_people_share_the_name(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "BB01_SYNC_01_20100521_0001.txt",
        [
            bes_line(
                "05/21 06:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas, Ian:1]',
                eid=46046,
            ),
            bes_line(
                "05/21 07:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas,  Ian:2]',
                eid=46046,
            ),
        ],
    )
    write_lines(
        tmp_path / "BB01_MAGT_01_20100521_0001.txt",
        [
            bes_line(
                "05/21 06:40:00.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                user="ian.dundas@example.net",
            ),
        ],
    )
    report = scan_report(tmp_path)
    assert any("not joining by name shape" in n for n in report.notes)
    assert {a.user_id for a in report.activations if a.email} == {None}


def test_user_map_joins_names_that_do_not_match(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    users = tmp_path.parent / "users.csv"
    users.write_text('MailboxSMTPAddr,UserConfigId,DisplayName\njsmith@example.net,41,"Smith, John"\n')
    act = only(scan_report(tmp_path, users=((None, users),)))
    assert (act.email, act.user_id, act.last.status) == ("jsmith@example.net", "41", Status.COMPLETE)
    assert "map" in {j.kind for j in act.joins}


@pytest.mark.parametrize(
    "header",
    [
        "email,user_id,display_name",
        "EMAIL,Id,DISPLAYNAME",
        "mailboxsmtpaddr,UserId,displayname",
        "Email Address,User ID,Display Name",
        "Mail,UserConfigId,DisplayName",
    ],
)
def test_user_map_header_names_are_case_insensitive(tmp_path: Path, header: str) -> None:
    write_activation(tmp_path / "logs", "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    users = tmp_path / "users.csv"
    users.write_text(f'{header}\njsmith@example.net,41,"Smith, John"\n')
    act = only(scan_report(tmp_path / "logs", users=((None, users),)))
    assert act.user_id == "41"
    assert any(j.kind == "map" and "jsmith@example.net" in j.detail for j in act.joins), act.joins


def test_users_csv_resolves_what_time_order_cannot(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = merge(
        activation(HELP, 301, "Kowalski, Piotr", t0),
        activation(OPS, 302, "Łukasiewicz, Zoë", t0 + timedelta(seconds=8), upto="getconfig", key_tid="1500"),
    )
    parts["POLC"] = [policy_at(t0 + timedelta(seconds=20), 302), policy_at(t0 + timedelta(seconds=25), 301)]
    write_server(tmp_path / "logs", EU1, parts)
    users = tmp_path / "users.csv"
    users.write_text(
        "MailboxSMTPAddr,UserConfigId,DisplayName\r\n"
        f'{HELP},301,"Kowalski, Piotr"\r\n'
        f'{OPS},302,"Łukasiewicz, Zoë"\r\n'
        'someone.else@example.eu,303,"Else, Someone"\r\n',
        encoding="utf-8",
    )
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert code == 0
    assert rows(rep) == [
        (EU1, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (EU1, OPS, 302, "Łukasiewicz, Zoë", "in_progress", 4, None),
    ]
    assert "map" in {j["kind"] for j in one(rep, email=HELP)["joins"]}
    # without the map the same logs cannot join the addresses to the ids: no guessing
    code, rep2, _ = scan_json(tmp_path / "logs")
    assert not any(a["email"] == HELP and a["user_id"] == 302 for a in rep2["activations"])
    assert not any(a["email"] == OPS and a["user_id"] == 301 for a in rep2["activations"])


def test_users_csv_for_accented_user_in_cp1252_logs(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(
        tmp_path / "logs", EU1, activation(*JOERG, t0, upto="getconfig"), encoding={"SYNC": "cp1252"}
    )
    users = tmp_path / "u.csv"
    users.write_text(
        'MailboxSMTPAddr,UserConfigId,DisplayName\njoerg.mueller@example.eu,4711,"Müller, Jörg"\n',
        encoding="utf-8",
    )
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "in_progress", 4, None)]


def test_users_csv_with_other_column_order_and_extra_columns(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    write_server(tmp_path / "logs", EU1, activation(*JOERG, t0, upto="accept"))
    users = tmp_path / "u.csv"
    users.write_text(
        "DisplayName,ServerName,MailboxSMTPAddr,UserConfigId\r\n"
        '"Müller, Jörg",BES_EU_01,joerg.mueller@example.eu,4711\r\n',
        encoding="utf-8-sig",
    )
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert code == 0
    assert rows(rep) == [(EU1, *JOERG, "in_progress", 2, None)]


def test_time_order_joins_a_lone_pair(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John")
    act = only(scan_report(tmp_path))
    assert (act.email, act.user_id) == ("jsmith@example.net", "41")
    assert any(j.kind == "time" and "41" in j.detail for j in act.joins)


def test_time_order_refuses_two_candidates(tmp_path: Path) -> None:
    write_activation(
        tmp_path, "BB01", "20100521", "jsmith@example.net", 41, "Smith, John", upto="itpolicy_queued"
    )
    write_lines(
        tmp_path / "BB01_MAGT_02_20100521_0001.txt",
        [
            bes_line(
                "05/21 06:51:40.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="99",
                user="kdoe@example.net",
            ),
        ],
    )
    report = scan_report(tmp_path)
    assert not any(a.email == "jsmith@example.net" and a.user_id == "41" for a in report.activations)
    assert any("not joining UserId=41" in n and "kdoe@example.net" in n for n in report.notes)


def test_time_order_join_when_unambiguous(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = activation(HELP, 301, "Kowalski, Piotr", t0)
    # an IT policy push for someone else, well outside the 2-minute window
    parts["POLC"].append(policy_at(t0 + timedelta(minutes=6), 302))
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, HELP, 301, "Kowalski, Piotr", "complete", 4, None)]
    assert "time" in {j["kind"] for j in rep["activations"][0]["joins"]}


def test_ambiguous_time_join_two_requests_two_policies_is_refused(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = merge(
        activation(HELP, 301, "x", t0, upto="books"),
        activation(OPS, 302, "y", t0 + timedelta(seconds=8), upto="books", key_tid="1500"),
    )
    parts["POLC"] = [policy_at(t0 + timedelta(seconds=20), 301), policy_at(t0 + timedelta(seconds=25), 302)]
    write_server(tmp_path, EU1, parts)
    code, rep, stderr = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [
        (EU1, HELP, None, None, "in_progress", 3, None),
        (EU1, OPS, None, None, "in_progress", 3, None),
    ]
    assert rep["notes"]


def test_ambiguous_time_join_one_request_two_policies_is_refused(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    parts = activation(HELP, 301, "x", t0, upto="books")
    parts["POLC"] = [policy_at(t0 + timedelta(seconds=12), 301), policy_at(t0 + timedelta(seconds=40), 302)]
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, HELP, None, None, "in_progress", 3, None)]
    assert rep["notes"]


def test_time_order_join_of_back_to_back_activations(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0, 0)
    # A: books 10:00:09, policy 301 at 10:00:13; B: books 10:00:39, policy 302 at 10:00:43
    parts = merge(
        activation(HELP, 301, "Kowalski, Piotr", t0),
        activation(OPS, 302, "Nowak, Ewa", t0 + timedelta(seconds=30), key_tid="1500"),
    )
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [
        (EU1, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (EU1, OPS, 302, "Nowak, Ewa", "complete", 4, None),
    ]


def test_time_join_across_new_year_day_files(tmp_path: Path) -> None:
    write_server(tmp_path, EU1, activation(HELP, 301, "Kowalski, Piotr", datetime(2019, 12, 31, 23, 59, 50)))
    assert (tmp_path / "20200101" / bes_name(EU1, "POLC", datetime(2020, 1, 1))).exists()
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(EU1, HELP, 301, "Kowalski, Piotr", "complete", 4, None)]


@pytest.mark.parametrize("second_email", ["john.smith2@corp.example", "john.smith@branch.example"])
def test_same_display_name_for_two_people_on_one_server(tmp_path: Path, second_email: str) -> None:
    """Two different "Smith, John" (ids 101 and 102): the id on the SYNC line keeps them apart, and
    each address finds its id by the unambiguous time order of its own service-book request."""
    t1 = datetime(2014, 5, 6, 9, 0, 0)
    t2 = datetime(2014, 5, 6, 9, 30, 0)
    a = Activation("john.smith@corp.example", 101, "Smith, John", t1, site=LON_SITE)
    b = Activation(second_email, 102, "Smith, John", t2, upto="progress", key_tid="1500", site=LON_SITE)
    parts = merge(a.parts(), b.parts(), {"MAGT": mail_flow(t1, t2 + timedelta(minutes=20), site=LON_SITE)})
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == sorted(
        [
            (LON, "john.smith@corp.example", 101, "Smith, John", "complete", 4, None),
            (LON, second_email, 102, "Smith, John", "in_progress", 4, None),
        ],
        key=lambda r: tuple(str(x) for x in r),
    )


def two_john_smiths() -> Parts:
    """John Smith (101) completes at 09:00; another, at a subsidiary (102), stops after KEY_ACCEPT an
    hour later: both addresses have the shape of the one name."""
    t1 = datetime(2014, 5, 6, 9, 0, 0)
    a = Activation("john.smith@corp.example", 101, "Smith, John", t1, site=LON_SITE)
    b = Activation(
        "john.smith@sub.corp.example", 102, "Smith, John", t1 + timedelta(hours=1), upto="accept",
        key_tid="1500", site=LON_SITE,
    )  # fmt: skip
    return merge(a.parts(), b.parts(), {"MAGT": mail_flow(t1, t1 + timedelta(hours=2), site=LON_SITE)})


@pytest.mark.parametrize("server_map", [False, True])
def test_a_name_whose_person_has_an_address_takes_no_second_one_by_shape(
    tmp_path: Path, server_map: bool
) -> None:
    """A map row gives "Smith, John" (101) the address john.smith@corp.example; another John Smith,
    at a subsidiary, starts an activation an hour later and stops after KEY_ACCEPT.  His address
    has the shape of the name too, but a person has one address: he is not merged into the first,
    whose completed activation stays complete."""
    write_server(tmp_path / "logs", LON, two_john_smiths())
    users = write_user_map(tmp_path / "users.csv", [("john.smith@corp.example", 101, "Smith, John")])
    code, rep, _ = scan_json(tmp_path / "logs", "--users", f"{LON}={users}" if server_map else users)
    assert rows(rep) == [
        (LON, "john.smith@corp.example", 101, "Smith, John", "complete", 4, None),
        (LON, "john.smith@sub.corp.example", None, None, "stalled", 2, "KB13843"),
    ]


def test_a_refused_name_shape_is_noted_once(tmp_path: Path) -> None:
    write_server(tmp_path, LON, two_john_smiths())
    code, rep, _ = scan_json(tmp_path)
    shape = [n for n in rep["notes"] if "by name shape" in n]
    assert len(shape) == 1, shape


def test_same_display_name_completion_of_one_does_not_complete_the_other(tmp_path: Path) -> None:
    """Smith, John:101 completes; Smith, John:102 sits at 0 % for two hours: stalled, KB03964."""
    t1 = datetime(2014, 5, 6, 9, 0, 0)
    a = Activation("jsmith@corp.example", 101, "Smith, John", t1, site=LON_SITE)
    b = Activation(
        "john.s@corp.example",
        102,
        "Smith, John",
        t1 + timedelta(minutes=5),
        upto="getconfig",
        key_tid="1500",
        site=LON_SITE,
    )
    parts = merge(a.parts(), b.parts(), {"MAGT": mail_flow(t1, t1 + timedelta(hours=2), site=LON_SITE)})
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert one(rep, user_id=101)["status"] == "complete"
    b_row = one(rep, user_id=102)
    assert (b_row["email"], b_row["status"], b_row["stage"], b_row["kb"]) == (
        "john.s@corp.example",
        "stalled",
        4,
        "KB03964",
    )
    assert len(rep["activations"]) == 2


def test_same_display_name_activating_in_the_same_minute_is_not_cross_joined(tmp_path: Path) -> None:
    """Both "Smith, John" ask for service books, then both ids get the IT policy, within seconds:
    time order cannot tell them apart and the names are the same, so no address may get the other's
    id (README: when two candidates fit, the tool refuses to guess and says so)."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    a = Activation("john.smith@corp.example", 101, "Smith, John", t0, site=LON_SITE)
    b = Activation(
        "john.smith@branch.example",
        102,
        "Smith, John",
        t0 + timedelta(seconds=2),
        key_tid="1500",
        etp_tid="1AF0",
        books_tid="1AB0",
        site=LON_SITE,
    )
    write_server(tmp_path, LON, merge(a.parts(), b.parts()))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    pairs = {(x["email"], x["user_id"]) for x in rep["activations"]}
    assert ("john.smith@corp.example", 102) not in pairs
    assert ("john.smith@branch.example", 101) not in pairs
    assert rep["notes"]
    assert {x["status"] for x in rep["activations"] if x["user_id"] in (101, 102)} == {"complete"}


def test_same_user_on_two_servers_is_two_activations(tmp_path: Path) -> None:
    write_activation(tmp_path, "BB01", "20100521", "ian.dundas@example.net", 2573, "Dundas, Ian")
    write_activation(
        tmp_path, "BES_EAST_02", "20100521", "ian.dundas@example.net", 9, "Dundas, Ian", upto="key_generated"
    )
    acts = scan_report(tmp_path).activations
    assert sorted((a.server, a.last.status.value) for a in acts) == [
        ("BB01", "complete"),
        ("BES_EAST_02", "stalled"),
    ]


def _lon_and_nyc(tmp_path: Path, a: Activation, b: Activation, *, nyc_for: timedelta) -> Path:
    """Activation ``a`` on LON (20 minutes of mail flow), ``b`` on NYC (``nyc_for`` of it)."""
    t0 = a.t0
    write_server(
        tmp_path / "lon",
        LON,
        merge(a.parts(), {"MAGT": mail_flow(t0, t0 + timedelta(minutes=20), site=LON_SITE)}),
    )
    write_server(
        tmp_path / "nyc", NYC, merge(b.parts(), {"MAGT": mail_flow(t0, t0 + nyc_for, site=LON_SITE)})
    )
    return tmp_path


def test_same_user_id_on_two_servers_is_two_activations(tmp_path: Path) -> None:
    """UserId=2573 on each server is a different person (each BES has its own database)."""
    t0 = datetime(2014, 8, 19, 14, 0, 0)
    a = Activation("ian.dundas@corp.example", 2573, "Dundas, Ian", t0, site=LON_SITE)
    b = Activation(
        "eva.berg@corp.example", 2573, "Berg, Eva", t0 + timedelta(seconds=3), upto="policy", site=LON_SITE
    )
    code, rep, _ = scan_json(_lon_and_nyc(tmp_path, a, b, nyc_for=timedelta(hours=1)))
    assert code == 1
    assert rows(rep) == [
        (LON, "ian.dundas@corp.example", 2573, "Dundas, Ian", "complete", 4, None),
        (NYC, "eva.berg@corp.example", 2573, None, "stalled", 3, "KB13847"),
    ]


def test_one_user_activating_on_two_servers_at_the_same_time(tmp_path: Path) -> None:
    """The same address on two servers within the same seconds (a migration test): one activation
    per server, each with that server's id and its own verdict."""
    t0 = datetime(2014, 8, 19, 14, 0, 0)
    a = Activation("ian.dundas@corp.example", 2573, "Dundas, Ian", t0, site=LON_SITE)
    b = Activation(
        "ian.dundas@corp.example", 88, "Dundas, Ian", t0 + timedelta(seconds=1), upto="books", site=LON_SITE
    )
    code, rep, _ = scan_json(_lon_and_nyc(tmp_path, a, b, nyc_for=timedelta(minutes=50)))
    assert code == 1
    assert rows(rep) == [
        (LON, "ian.dundas@corp.example", 2573, "Dundas, Ian", "complete", 4, None),
        (NYC, "ian.dundas@corp.example", None, None, "stalled", 3, "KB03410"),
    ]
    assert one(rep, server=NYC)["attempts"] == []
    assert rep["log_end"][LON].startswith("2014-08-19T14:19")
    assert rep["log_end"][NYC].startswith("2014-08-19T14:49")


def test_simultaneous_activations_on_two_servers_are_not_ambiguous(tmp_path: Path) -> None:
    t0 = datetime(2019, 11, 5, 10, 0)
    write_server(tmp_path / "a", EU1, activation(HELP, 301, "Kowalski, Piotr", t0))
    write_server(tmp_path / "b", EU2, activation(OPS, 302, "Nowak, Ewa", t0 + timedelta(seconds=2)))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [
        (EU1, HELP, 301, "Kowalski, Piotr", "complete", 4, None),
        (EU2, OPS, 302, "Nowak, Ewa", "complete", 4, None),
    ]
    assert rep["notes"] == [] or not any("not joining" in n for n in rep["notes"])


def test_busy_day_joins_say_how(busy_world: BusyDay, busy_report: tuple[int, dict, str]) -> None:  # type: ignore[type-arg]
    """map users by the CSV, time-only users by time, first.last users by name shape."""
    _, rep, _ = busy_report
    got = by_email(rep)
    wrong = []
    for u in busy_world.users:
        if u.kind == "amb":
            continue
        kinds = {j["kind"] for j in got[u.email][0]["joins"]}
        want = {"map": "map", "time": "time"}.get(u.kind)
        if u.kind == "shape":
            want = "name" if u.outcome in REACHES_SYNC else ("time" if u.outcome in REACHES_POLC else None)
        if (want is None and kinds) or (want is not None and want not in kinds):
            wrong.append((u.email, u.kind, u.outcome, kinds, want))
    assert not wrong, "\n".join(map(str, wrong))


def test_full_user_map_resolves_the_refused_pair(
    busy_world: BusyDay, busy_logs: Path, busy_maps: tuple[Path, Path]
) -> None:
    _, rep, _ = run_json("scan", busy_logs, "--users", busy_maps[1])
    assert len(rep["activations"]) == len(busy_world.users)
    got = by_email(rep)
    for u in busy_world.users:
        assert len(got[u.email]) == 1
        assert {k: got[u.email][0][k] for k in u.expect} == {
            **u.expect,
            **({"user_id": u.uid, "display_name": u.display} if u.kind == "amb" else {}),
        }, u.email


def test_without_any_map_nobody_else_changes(busy_world: BusyDay, busy_logs: Path) -> None:
    """No CSV: the other users keep their verdicts and names; map users who never reach the Policy
    Service keep their verdict, without the id and name only the map gave."""
    _, rep, _ = run_json("scan", busy_logs)
    got = by_email(rep)
    for u in busy_world.users:
        if u.kind != "map":
            continue
        assert len(got[u.email]) == 1, u.email
        if u.outcome not in REACHES_POLC:
            want = {**u.expect, "user_id": None, "display_name": None}
            assert {k: got[u.email][0][k] for k in want} == want, u.email
    others = [u for u in busy_world.users if u.kind in ("shape", "time")]
    for u in others:
        assert {k: got[u.email][0][k] for k in u.expect} == u.expect, u.email


def test_a_user_map_typed_with_curly_apostrophes_joins_the_logs_plain_ones(tmp_path: Path) -> None:
    """The map says ``O’Brien, Seán`` (a word processor's apostrophe), the logs ``O'Brien, Seán``:
    one name, compared as the logs' own text is read.  The row is used, not refused as a
    contradiction, and Seán's activation is whole."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("sob@example.com", 2003, "O'Brien, Seán", t0, site=LON_SITE).parts(),
        Activation("x7@example.com", 2004, "Diaye, Awa", t0 + timedelta(seconds=2), site=LON_SITE).parts(),
    )
    write_server(tmp_path / "logs", LON, parts)
    users = write_user_map(tmp_path / "users.csv", [("sob@example.com", 2003, "O’Brien, Seán")])
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert not [n for n in rep["notes"] if "not using user map row" in n]
    sean = one(rep, email="sob@example.com")
    assert (sean["user_id"], sean["status"]) == (2003, "complete")


@pytest.mark.parametrize("server_column", [False, True])
def test_a_map_without_ids_joins_the_id_its_display_name_is_logged_under(
    tmp_path: Path, server_column: bool
) -> None:
    """A map of addresses and display names only (two of the three columns): SYNC logs the name
    beside its id, ``[Müller, Jörg:4711]``, so the row's name leads to that id, the one logged
    under it.  Two users who asked for service books in the same second, with addresses that have
    no shape of their names, are each one whole activation, not split in halves."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("jm4711@example.eu", 4711, "Müller, Jörg", t0, site=LON_SITE).parts(),
        Activation("fo2@example.eu", 4712, "Okafor, Ruth", t0, key_tid="1500", site=LON_SITE).parts(),
    )
    write_server(tmp_path / "logs", LON, parts)
    users = tmp_path / "users.csv"
    server = f",{LON}" if server_column else ""
    header = "email,display_name" + (",server" if server_column else "")
    users.write_text(
        f'{header}\njm4711@example.eu,"Müller, Jörg"{server}\nfo2@example.eu,"Okafor, Ruth"{server}\n'
    )
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert rows(rep) == [
        (LON, "fo2@example.eu", 4712, "Okafor, Ruth", "complete", 4, None),
        (LON, "jm4711@example.eu", 4711, "Müller, Jörg", "complete", 4, None),
    ]


def test_a_map_row_that_writes_the_name_first_name_first_is_the_same_name(tmp_path: Path) -> None:
    """The map writes ``Jörg Müller``, SYNC logs ``[Müller, Jörg:4711]``: one name in two orders,
    no contradiction to refuse the row for."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("jm4711@example.eu", 4711, "Müller, Jörg", t0, site=LON_SITE).parts(),
        Activation("fo2@example.eu", 4712, "Okafor, Ruth", t0, key_tid="1500", site=LON_SITE).parts(),
    )
    write_server(tmp_path / "logs", LON, parts)
    users = write_user_map(
        tmp_path / "users.csv",
        [("jm4711@example.eu", 4711, "Jörg Müller"), ("fo2@example.eu", 4712, "Ruth Okafor")],
    )
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert not [n for n in rep["notes"] if "not using user map row" in n], rep["notes"]
    assert [(r[1], r[2], r[4]) for r in rows(rep)] == [
        ("fo2@example.eu", 4712, "complete"),
        ("jm4711@example.eu", 4711, "complete"),
    ]


def test_a_map_without_ids_leaves_a_namesakes_id_to_him(tmp_path: Path) -> None:
    """The map gives only ``jsmith@``'s name, "Smith, John"; he stops at the ETP.DAT message.  Another
    John Smith, not in the map, activates later and reaches SYNC as ``[Smith, John:200]``; the order
    in time joins his address to 200.  The map row does not take 200 for jsmith@: his stall stays a
    stall, the other's activation stays whole."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("jsmith@example.com", 100, "Smith, John", t0, upto="etp", site=LON_SITE).parts(),
        Activation(
            "john.smith2@sub.example.com", 200, "Smith, John", t0 + timedelta(hours=4), site=LON_SITE
        ).parts(),
    )
    write_server(tmp_path / "logs", LON, parts)
    users = tmp_path / "users.csv"
    users.write_text('email,display_name\njsmith@example.com,"Smith, John"\n')
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert [(r[1], r[2], r[4]) for r in rows(rep)] == [
        ("john.smith2@sub.example.com", 200, "complete"),
        ("jsmith@example.com", None, "stalled"),
    ]


def test_a_display_name_with_a_bracketed_tag_is_one_person_to_the_end(tmp_path: Path) -> None:
    """Directories tag contractors and shared mailboxes (``Dundas, Ian [EXT]``); SYNC writes the tag
    inside its own brackets, ``[Dundas, Ian [EXT]:2573]``.  The slow synchronization is still
    read as his, and completes his activation."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    tagged = "Dundas, Ian [EXT]"
    write_server(tmp_path, LON, Activation("ian.dundas@example.com", 2573, tagged, t0, site=LON_SITE).parts())
    assert "[Dundas, Ian [EXT]:2573]" in "".join(p.read_text() for p in tmp_path.rglob("*SYNC*"))
    code, rep, _ = scan_json(tmp_path)
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows(rep)] == [
        ("ian.dundas@example.com", 2573, tagged, "complete", 4)
    ]
    assert code == 0


def test_a_map_row_names_the_user_in_the_other_order_than_the_logs(tmp_path: Path) -> None:
    """The directory writes display names "First Last", so SYNC logs ``[Anna Berg:3001]``; the
    admin's map says "Berg, Anna".  One name in two orders: the row is used, not refused."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    write_server(
        tmp_path / "logs", LON, Activation("aberg@example.com", 3001, "Anna Berg", t0, site=LON_SITE).parts()
    )
    users = tmp_path / "users.csv"
    users.write_text('email,user_id,display_name\naberg@example.com,3001,"Berg, Anna"\n')
    code, rep, _ = scan_json(tmp_path / "logs", "--users", users)
    assert not [n for n in rep["notes"] if "not using user map row" in n], rep["notes"]
    (act,) = rep["activations"]
    assert (act["email"], act["user_id"], act["status"]) == ("aberg@example.com", 3001, "complete")
    assert [j["kind"] for j in act["joins"]] == ["map"]


@pytest.mark.parametrize(
    ("ian", "john"),
    [
        ("Dundas, Ian J.", "Smith Jr., John"),
        ("Dundas, Ian [EXT]", "Smith, John III"),
        ("Ian Dundas (Sales)", "John Smith Jr."),
        ("DUNDAS, IAN J.", "JOHN SMITH JR."),
    ],
)
def test_name_shape_passes_over_initials_suffixes_and_tags(tmp_path: Path, ian: str, john: str) -> None:
    """Two users activate in the same minute, so the order in time joins neither (requests A, B,
    then policies 1, 2); only the shape of their addresses joins them to the names SYNC writes.
    A middle initial, a generational suffix or a directory tag is no part of an address: each
    activation is whole, and complete, not split into a false stall at stage 3 and a stray SYNC."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("ian.dundas@example.com", 2573, ian, t0, site=LON_SITE).parts(),
        Activation("john.smith@example.com", 2574, john, t0 + timedelta(seconds=2), site=LON_SITE).parts(),
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert [(r[1], r[2], r[3], r[4]) for r in rows(rep)] == [
        ("ian.dundas@example.com", 2573, ian, "complete"),
        ("john.smith@example.com", 2574, john, "complete"),
    ]
    assert all("name" in {j["kind"] for j in a["joins"]} for a in rep["activations"])


def test_name_shape_reads_a_name_without_its_apostrophe(tmp_path: Path) -> None:
    """``patrick.obrien@`` is ``O'Brien, Patrick`` and ``jean.darcy@`` is ``D'Arcy, Jean``: two users
    in the same minute, whom the order in time cannot tell apart, joined by their addresses' shape."""
    t0 = datetime(2014, 5, 6, 9, 0, 0)
    parts = merge(
        Activation("patrick.obrien@example.com", 2573, "O'Brien, Patrick", t0, site=LON_SITE).parts(),
        Activation(
            "jean.darcy@example.com", 2574, "D'Arcy, Jean", t0 + timedelta(seconds=2), site=LON_SITE
        ).parts(),
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert [(r[1], r[2], r[4]) for r in rows(rep)] == [
        ("jean.darcy@example.com", 2574, "complete"),
        ("patrick.obrien@example.com", 2573, "complete"),
    ]
