"""Thread ownership (BES-LOGS.md section 3): the KEY_ACCEPT line names no user; it belongs to the user
whose key was generated on its thread just before it, within the window, whatever the read blocks,
the thread id's spelling, the records glued onto its line or the other users' mail on that pooled
thread in between; across a size rotation or midnight, but never across a service restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    BOOKS_TEXT,
    BUSY_DAY,
    EU1,
    KIM,
    LON,
    LON_SITE,
    Activation,
    accept_text,
    activation,
    bes_line,
    bes_name,
    command_text,
    complete_text,
    etp_text,
    key_text,
    mail_flow,
    mail_text,
    merge,
    only,
    policy_text,
    rows,
    scan_json,
    scan_report,
    unattached_users,
    write_lines,
    write_server,
)


def test_key_accept_belongs_to_the_user_last_named_on_its_thread(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "BB01_MAGT_01_20100521_0001.txt",
        [
            bes_line(
                "05/21 06:51:30.000",
                "New mail has arrived, EntryId=1",
                tid="14D4",
                user="noise.user@example.net",
            ),
            bes_line(
                "05/21 06:51:38.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1AEC",
                user="ian.dundas@example.net",
            ),
            bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="ian.dundas@example.net"),
            bes_line(
                "05/21 06:51:39.010",
                "New mail has arrived, EntryId=2",
                tid="0777",
                user="someone.else@example.net",
            ),
            bes_line("05/21 06:51:39.020", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="14D4"),
        ],
    )
    act = only(scan_report(tmp_path))
    accept = [e for e in act.last.events if e.milestone == "key_accept_sent"]
    assert act.email == "ian.dundas@example.net" and len(accept) == 1
    assert accept[0].identity_from == "thread"


def test_a_key_reject_that_names_no_user_fails_the_user_whose_key_it_answers(tmp_path: Path) -> None:
    """KEY_REJECT is written as KEY_ACCEPT is: where its line names nobody, it is the key's user's
    failure (KB13843), with the line among the evidence, not a stall and an error of no one."""
    write_lines(
        tmp_path / "BB01_MAGT_01_20100521_0001.txt",
        [
            bes_line("05/21 06:51:38.000", etp_text(), tid="1AEC", user="ian.dundas@example.net"),
            bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="ian.dundas@example.net"),
            bes_line("05/21 06:51:39.010", mail_text(2), tid="14D4", user="someone.else@example.net"),
            bes_line("05/21 06:51:40.000", "*** OTAKEYGEN *** sending KEY_REJECT transID = 5", tid="14D4"),
            bes_line("05/21 08:00:00.000", mail_text(3), tid="0777", user="someone.else@example.net"),
        ],
    )
    _, report, _ = scan_json(tmp_path)
    assert rows(report) == [("BB01", "ian.dundas@example.net", None, None, "failed", 2, "KB13843")]
    assert report["activations"][0]["evidence"][0].endswith("BB01_MAGT_01_20100521_0001.txt:4")
    assert report["unattached"] == []


def test_key_accept_outside_the_window_names_nobody(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "BB01_MAGT_01_20100521_0001.txt",
        [
            bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="14D4", user="ian.dundas@example.net"),
            bes_line("05/21 07:30:00.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="14D4"),
        ],
    )
    report = scan_report(tmp_path)
    assert [e.milestone for e in report.unattached] == ["key_accept_sent"]
    assert only(report).last.last_milestone == "key_generated"


def test_without_thread_ids_a_key_accept_belongs_to_the_key_line_just_before_it(tmp_path: Path) -> None:
    """Older builds write no thread id (BES-LOGS.md section 2).  Two users one after the other:
    each KEY_ACCEPT is the user's whose key was generated just before it (it was left without a
    user, and the activation said "no KEY_ACCEPT followed")."""
    lines = []
    for n, user in enumerate(["ian.dundas@example.net", "eva.lind@example.net"]):
        t = datetime(2008, 5, 21, 6, 51 + 2 * n, 38)
        lines += [
            bes_line(t, etp_text(), tid=None, user=user, eid=4, ms=False),
            bes_line(t + timedelta(seconds=1), key_text(), tid=None, user=user, eid=4, ms=False),
            bes_line(t + timedelta(seconds=1), accept_text(5 + n), tid=None, eid=4, ms=False),
        ]
    write_lines(tmp_path / "OLDBES_MAGT_01_20080521_0001.txt", lines)
    report = scan_report(tmp_path)
    assert report.unattached == ()
    for act in report.activations:
        accept = [e for e in act.last.events if e.milestone == "key_accept_sent"]
        assert act.last.last_milestone == "key_accept_sent", act.email
        assert [e.identity_from for e in accept] == ["file_order"]


def test_without_thread_ids_a_key_accept_after_two_users_keys_names_nobody(tmp_path: Path) -> None:
    """``A key, B key, accept``: with no thread id, whose key it accepts cannot be told."""
    t = datetime(2008, 5, 21, 6, 51, 38)
    lines = [
        bes_line(t, key_text(), tid=None, user="ian.dundas@example.net", eid=4, ms=False),
        bes_line(
            t + timedelta(seconds=1), key_text(), tid=None, user="eva.lind@example.net", eid=4, ms=False
        ),
        bes_line(t + timedelta(seconds=2), accept_text(5), tid=None, eid=4, ms=False),
    ]
    write_lines(tmp_path / "OLDBES_MAGT_01_20080521_0001.txt", lines)
    report = scan_report(tmp_path)
    assert [e.milestone for e in report.unattached] == ["key_accept_sent"]
    assert {a.last.last_milestone for a in report.activations} == {"key_generated"}


def test_key_accept_belongs_to_user_last_named_on_its_thread(tmp_path: Path) -> None:
    t0 = datetime(2019, 7, 8, 13, 0, 0)
    A, B, C = "aino.virtanen@example.eu", "bruno.costa@example.eu", "cem.yilmaz@example.eu"
    magt = [
        # thread 14D4 carried someone's mail first
        (
            t0,
            bes_line(
                t0,
                "New mail has arrived, EntryId=99001",
                tid="14D4",
                user="sofia.rossi@example.eu",
                eid="30085",
            ),
        ),
    ]
    for i, u in enumerate((A, B, C)):
        t = t0 + timedelta(seconds=1 + i)
        magt.append(
            (
                t,
                bes_line(
                    t,
                    "Queuing DATA from network@etp2.eu.blackberry.net, Tag=-1, EntryId=1",
                    tid="1AEC",
                    user=u,
                ),
            )
        )

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    magt += [
        (
            at(10),
            bes_line(at(10), "Generating AES key (this is based on server setting)", tid="14D4", user=A),
        ),
        (
            at(10.2),
            bes_line(at(10.2), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 111", tid="14D4"),
        ),  # -> A
        (
            at(15),
            bes_line(at(15), "Generating AES key (this is based on server setting)", tid="14D4", user=B),
        ),
        (
            at(16),
            bes_line(at(16), "Generating AES key (this is based on server setting)", tid="1500", user=C),
        ),
        (
            at(16.3),
            bes_line(at(16.3), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 222", tid="14D4"),
        ),  # -> B
    ]
    parts = merge({"MAGT": magt}, {"MAGT": mail_flow(t0, t0 + timedelta(minutes=40), step=30)})
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert len(rep["activations"]) == 3, rows(rep)
    got = {a["email"]: (a["status"], a["stage"], a["kb"], a["last_milestone"]) for a in rep["activations"]}
    assert got == {
        A: ("stalled", 2, "KB13843", "key_accept_sent"),
        B: ("stalled", 2, "KB13843", "key_accept_sent"),
        C: ("stalled", 2, "KB13843", "key_generated"),
    }


def test_key_accept_on_shared_thread_then_user_goes_on(tmp_path: Path) -> None:
    """Two users activate at once and share the key thread; both complete, none split."""
    t0 = datetime(2019, 7, 8, 13, 0, 0)
    a = activation("aino.virtanen@example.eu", 11, "Virtanen, Aino", t0, key_tid="14D4")
    b = activation(
        "bruno.costa@example.eu",
        12,
        "Costa, Bruno",
        t0 + timedelta(seconds=1),
        key_tid="14D4",
        etp_tid="1AF0",
    )
    # a's books at +9s, policy at +13s; b's books at +10s, policy at +14s: ambiguous in time, but the
    # address shape against the SYNC display names (and the ids on those lines) resolves it
    write_server(tmp_path, EU1, merge(a, b))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [
        (EU1, "aino.virtanen@example.eu", 11, "Virtanen, Aino", "complete", 4, None),
        (EU1, "bruno.costa@example.eu", 12, "Costa, Bruno", "complete", 4, None),
    ]


def test_user_moved_between_magt_instances_and_thread_ids_clash(tmp_path: Path) -> None:
    """The ETP.DAT pickup is in MAGT_01; the user was then moved to agent 2, where the key, KEY_ACCEPT
    and the service-book request are logged.  Agent 1 happens to use thread 0x14D4 for another
    user's mail in the same second: KEY_ACCEPT in MAGT_02 still belongs to the user last named on
    its thread *in agent 2* (threads belong to a process)."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    act = Activation(*KIM, t0, site=LON_SITE)
    day = datetime(2017, 2, 8)
    folder = tmp_path / "20170208"
    by = {s: act.line(s) for s in act.keep}
    other = "li.wei@corp.example"
    magt1 = [
        by["etp"][2],
        bes_line(act.at(1.2), "New mail has arrived, EntryId=812211", tid="14D4", user=other, eid="30085"),
        bes_line(act.at(1.3), "Sending message to device, RefId=1, size=4000", tid="14D4", user=other),
    ]
    magt2 = [by["key"][2], by["accept"][2], by["books"][2], by["cical"][2]]
    write_lines(folder / bes_name(LON, "MAGT", day, inst=1), magt1)
    write_lines(folder / bes_name(LON, "MAGT", day, inst=2), magt2)
    write_lines(folder / bes_name(LON, "POLC", day), [by["policy"][2]])
    write_lines(
        folder / bes_name(LON, "SYNC", day), [by["getconfig"][2], by["progress"][2], by["complete"][2]]
    )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *KIM, "complete", 4, None)]
    ms = [m["milestone"] for m in rep["activations"][0]["milestones"]]
    assert "key_accept_sent" in ms


def _key_thread_file(root: Path, accept_at: int) -> Path:
    """A MAGT file whose KEY_ACCEPT line starts at byte ``accept_at``.  On its thread (0x14D4) Kim's
    key line is followed, in the same second, by a line naming another user (li.wei); the lines
    before are other users' mail on other threads."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    kim, li = "kim.tran@corp.example", "li.wei@corp.example"
    tail = "".join(
        x + "\r\n"
        for x in (
            bes_line(
                t0,
                "Queuing DATA from network@etp3.eu.blackberry.net, Tag=-5, EntryId=4",
                tid="1AEC",
                user=kim,
            ),
            bes_line(
                t0 + timedelta(seconds=1),
                "Generating 3DES key (this is based on server setting)",
                tid="14D4",
                user=kim,
            ),
            bes_line(
                t0 + timedelta(seconds=1.2),
                "New mail has arrived, EntryId=812211",
                tid="14D4",
                user=li,
                eid="30085",
            ),
        )
    )
    accept = bes_line(
        t0 + timedelta(seconds=1.4), "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 77", tid="14D4"
    )
    lines: list[str] = []
    size, n = len(tail), 0
    t = t0 - timedelta(minutes=30)
    while True:
        x = (
            bes_line(
                t,
                f"New mail has arrived, EntryId={n}",
                tid="1C30",
                user="omar.farouk@corp.example",
                eid="30085",
            )
            + "\r\n"
        )
        if size + len(x) > accept_at:
            break
        lines.append(x)
        size, n = size + len(x), n + 1
    lines[-1] = lines[-1][:-2] + " " * (accept_at - size) + "\r\n"
    data = "".join(lines) + tail + accept + "\r\n"
    assert data.index(accept) == accept_at
    return write_lines(
        root / bes_name(LON, "MAGT", datetime(2017, 2, 8)), [data.removesuffix("\r\n")], newline="\r\n"
    )


def test_key_accept_owner_does_not_depend_on_read_block_boundaries(tmp_path: Path) -> None:
    got = []
    for accept_at in (200_000, 256 * 1024 - 10):  # inside the first block / first line of the second
        root = tmp_path / str(accept_at)
        _key_thread_file(root, accept_at)
        code, rep, _ = scan_json(root)
        assert code == 0
        got.append(sorted((a["email"], a["status"], a["last_milestone"]) for a in rep["activations"]))
    # BES-LOGS.md section 3: KEY_ACCEPT "belongs to the user last named on the same thread"
    assert got[0] == got[1]


def _key_probe(tmp_path: Path, gen: str, acc: str, *, glue: str = "") -> list[tuple]:  # type: ignore[type-arg]
    """Another user's mail on the key thread a minute before; then ETP, Generating, KEY_ACCEPT.
    ``glue``: "acc" puts KEY_ACCEPT on Generating's line, "gen" puts Generating on ETP's line."""
    etp = (
        "[40000] (03/12 09:00:30.100):{0x2A00} {anna.berg@corp.example} Queuing DATA from "
        "network@etp1.etp.na.blackberry.net, Tag=1, EntryId=2"
    )
    lines = [
        "[30085] (03/12 09:00:10.000):{0x14D4} {other.user@corp.example} New mail has arrived, EntryId=1"
    ]
    lines += {"": [etp, gen, acc], "acc": [etp, gen + " " + acc], "gen": [etp + " " + gen, acc]}[glue]
    lines.append("[30000] (03/12 09:05:00.000):{0x9C4} Total Msgs Pending 0")
    p = write_lines(tmp_path / bes_name("BES01", "MAGT", BUSY_DAY), lines)
    _, rep, _ = scan_json(p)
    return sorted((a["email"], [m["milestone"] for m in a["milestones"]]) for a in rep["activations"])


GEN = "[40000] (03/12 09:00:32.500):{0x14D4} {anna.berg@corp.example} Generating 3DES key (this is based on server setting)"


ACC = "[40000] (03/12 09:00:32.800):{0x14D4} *** OTAKEYGEN *** sending KEY_ACCEPT transID = 2077103732"


ANNA_KEYS = [("anna.berg@corp.example", ["etp_received", "key_generated", "key_accept_sent"])]


def test_key_accept_owner_with_undamaged_thread_ids(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC) == ANNA_KEYS
    assert _key_probe(tmp_path, GEN, ACC.replace("{0x", "{0×")) == ANNA_KEYS


def test_key_accept_owner_line_with_times_sign_in_thread(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN.replace("{0x", "{0×"), ACC) == ANNA_KEYS


def test_key_accept_glued_to_its_owner_line_as_in_the_seed(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC, glue="acc") == ANNA_KEYS


def test_key_accept_owner_glued_behind_another_record(tmp_path: Path) -> None:
    assert _key_probe(tmp_path, GEN, ACC, glue="gen") == ANNA_KEYS


# --- bystanders on the pooled thread, rotation, midnight, restart ------------------------------

OWN_SERVER = "BESOWN01"
OWN_DAY = datetime(2025, 3, 11)
T0 = datetime(2025, 3, 11, 9, 0, 0)
TID = "1F4C"


def _magt(tmp: Path, lines: list[str], *, it: int = 1, day: datetime = OWN_DAY) -> Path:
    return write_lines(tmp / f"{day:%Y%m%d}" / bes_name(OWN_SERVER, "MAGT", day, inst=2, it=it), lines)


def _rest_of_activation(tmp: Path, email: str, uid: int, display: str, t: datetime) -> None:
    """What MAGT (service books), POLC and SYNC write after the KEY_ACCEPT of a user who completes."""
    day = datetime(t.year, t.month, t.day)
    write_lines(
        tmp / f"{day:%Y%m%d}" / bes_name(OWN_SERVER, "POLC", day),
        [bes_line(t + timedelta(seconds=5), policy_text(uid), tid="E1C")],
    )
    write_lines(
        tmp / f"{day:%Y%m%d}" / bes_name(OWN_SERVER, "SYNC", day),
        [
            bes_line(t + timedelta(minutes=1), command_text("GetConfig", display, uid), tid="D10"),
            bes_line(t + timedelta(minutes=9), complete_text(display, uid), tid="D10"),
        ],
    )


def _head(email: str, t: datetime, tid: str = TID) -> list[str]:
    return [
        bes_line(t, etp_text(), tid=tid, user=email),
        bes_line(t + timedelta(milliseconds=200), key_text(), tid=tid, user=email),
    ]


def _tail(email: str, t: datetime, tid: str = TID) -> list[str]:
    return [
        bes_line(t, accept_text(2077103732), tid=tid),
        bes_line(t + timedelta(seconds=4), BOOKS_TEXT, tid=tid, user=email),
    ]


def _bystanders(t: datetime, n: int, tid: str = TID) -> list[str]:
    """Other users' mail on the same pooled thread, within the same second (a busy agent)."""
    return [
        bes_line(t + timedelta(milliseconds=10 * i), mail_text(9000 + i), tid=tid, user=f"by{i}@example.com")
        for i in range(n)
    ] + [
        bes_line(
            t + timedelta(milliseconds=300),
            "Sending message to device, RefId=42",
            tid=tid,
            user="by0@example.com",
        )
    ]


def test_bystander_mail_on_the_thread_does_not_take_the_key_accept(tmp_path: Path) -> None:
    user = "maria.vogt@example.com"
    _magt(
        tmp_path,
        _head(user, T0)
        + _bystanders(T0 + timedelta(milliseconds=300), 3)
        + _tail(user, T0 + timedelta(seconds=1)),
    )
    _rest_of_activation(tmp_path, user, 4711, "Vogt, Maria", T0 + timedelta(seconds=5))
    code, report, _ = scan_json(tmp_path)
    assert rows(report) == [(OWN_SERVER, user, 4711, "Vogt, Maria", "complete", 4, None)]
    (act,) = report["activations"]
    accept = next(m for m in act["milestones"] if m["milestone"] == "key_accept_sent")
    assert accept["identity_from"] == "thread"
    assert not [u for u in unattached_users(report) if u.get("milestone") == "key_accept_sent"]
    assert code == 0


def test_verdicts_do_not_change_with_the_density_of_bystanders(tmp_path: Path) -> None:
    user = "li.wei@example.com"
    results = []
    for n in (0, 1, 20):
        folder = tmp_path / str(n)
        _magt(
            folder,
            _head(user, T0)
            + _bystanders(T0 + timedelta(milliseconds=250), n)
            + _tail(user, T0 + timedelta(seconds=1)),
        )
        _rest_of_activation(folder, user, 12, "Wei, Li", T0 + timedelta(seconds=5))
        results.append(rows(scan_json(folder)[1]))
    assert results[0] == results[1] == results[2] == [(OWN_SERVER, user, 12, "Wei, Li", "complete", 4, None)]


def test_a_key_accept_whose_key_nobody_generated_is_left_unattached(tmp_path: Path) -> None:
    """Only a bystander is on the thread: the line names nobody, so no activation is invented."""
    _magt(tmp_path, _bystanders(T0, 2) + [bes_line(T0 + timedelta(seconds=1), accept_text(5), tid=TID)])
    code, report, _ = scan_json(tmp_path)
    assert report["activations"] == []
    assert [u["milestone"] for u in unattached_users(report)] == ["key_accept_sent"]
    assert code == 0


def test_size_rotation_between_the_key_and_the_key_accept(tmp_path: Path) -> None:
    user = "omar.haddad@example.com"
    _magt(
        tmp_path,
        [
            bes_line(T0 - timedelta(minutes=5), mail_text(1), tid="AAA", user="x@example.com"),
            *_head(user, T0),
        ],
        it=1,
    )
    _magt(tmp_path, _tail(user, T0 + timedelta(seconds=1)), it=2)
    _rest_of_activation(tmp_path, user, 31, "Haddad, Omar", T0 + timedelta(seconds=5))
    code, report, _ = scan_json(tmp_path)
    assert rows(report) == [(OWN_SERVER, user, 31, "Haddad, Omar", "complete", 4, None)]
    (act,) = report["activations"]
    accept = next(m for m in act["milestones"] if m["milestone"] == "key_accept_sent")
    assert accept["file"].endswith("_0002.txt") and accept["identity_from"] == "thread"
    assert report["unattached"] == []
    assert code == 0


def test_a_partial_copy_of_the_next_file_does_not_stand_between_the_key_and_the_key_accept(
    tmp_path: Path,
) -> None:
    """``Copy of ..._0002.txt``, taken while ``_0002`` was being written, sits beside it: each of
    the two follows ``_0001``, so the KEY_ACCEPT at the start of either is the user's."""
    user = "omar.haddad@example.com"
    _magt(
        tmp_path,
        [
            bes_line(T0 - timedelta(minutes=5), mail_text(1), tid="AAA", user="x@example.com"),
            *_head(user, T0),
        ],
    )
    tail = _tail(user, T0 + timedelta(seconds=1))
    later = [bes_line(T0 + timedelta(minutes=2), mail_text(2), tid="AAA", user="x@example.com")]
    whole = _magt(tmp_path, tail + later, it=2)
    write_lines(whole.with_name(f"Copy of {whole.name}"), tail[:1])
    _rest_of_activation(tmp_path, user, 31, "Haddad, Omar", T0 + timedelta(seconds=5))
    code, report, _ = scan_json(tmp_path)
    assert rows(report) == [(OWN_SERVER, user, 31, "Haddad, Omar", "complete", 4, None)]
    accept = next(m for m in report["activations"][0]["milestones"] if m["milestone"] == "key_accept_sent")
    assert accept["identity_from"] == "thread"
    assert report["unattached"] == []
    assert code == 0


def test_midnight_between_the_key_and_the_key_accept(tmp_path: Path) -> None:
    user = "ana.lima@example.com"
    late = datetime(2025, 3, 11, 23, 59, 59)
    _magt(tmp_path, _head(user, late - timedelta(seconds=1)), it=3)
    next_day = OWN_DAY + timedelta(days=1)
    _magt(tmp_path, _tail(user, late + timedelta(milliseconds=500)), it=1, day=next_day)
    _rest_of_activation(tmp_path, user, 77, "Lima, Ana", late + timedelta(seconds=5))
    _, report, _ = scan_json(tmp_path)
    assert rows(report) == [(OWN_SERVER, user, 77, "Lima, Ana", "complete", 4, None)]


def test_a_restarted_service_carries_no_thread_over(tmp_path: Path) -> None:
    """The newer file begins with the service starting up: its thread ids are new threads."""
    user = "ben.okafor@example.com"
    _magt(tmp_path, _head(user, T0), it=1)
    restart = [
        bes_line(T0 + timedelta(seconds=1), "BlackBerry Messaging Agent starting", tid="100", eid=50000),
        bes_line(T0 + timedelta(seconds=1), "Current Date: 2025/03/11", tid="100", eid=30000),
    ]
    _magt(tmp_path, restart + _tail(user, T0 + timedelta(seconds=2))[:1], it=2)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["email"] == user and act["last_milestone"] == "key_generated"
    assert [u["milestone"] for u in unattached_users(report)] == ["key_accept_sent"]
