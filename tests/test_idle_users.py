"""Lines of users who are not activating (BES-LOGS.md section 2: most of any log): mail flow, mailbox
errors, IT policy pushes and other users' errors are no activation and never join one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    EU1,
    EU2,
    LON,
    LON_SITE,
    TOM,
    Activation,
    activation,
    bes_line,
    mail_flow,
    merge,
    one,
    rows,
    scan_json,
    scan_report,
    write_lines,
    write_server,
)


def test_heavy_mail_noise_two_servers_no_activation_invented_or_split(tmp_path: Path) -> None:
    datetime(2019, 9, 2)
    t = datetime(2019, 9, 2, 8, 0)
    # server 1: three activations ten minutes apart (distinct threads for keys), noise all day
    s1 = merge(
        activation("anja.horvat@example.eu", 101, "Horvat, Anja", t),
        activation(
            "bram.peeters@example.eu", 102, "Peeters, Bram", t + timedelta(minutes=10), key_tid="1500"
        ),
        activation(
            "chiara.bianchi@example.eu", 103, "Bianchi, Chiara", t + timedelta(minutes=35), upto="books"
        ),
        {"MAGT": mail_flow(t - timedelta(hours=1), t + timedelta(hours=1), step=2)},
    )
    # mailbox errors and IT policy pushes for idle users, far from any activation: not activations
    s1["MAGT"].append(
        (
            t - timedelta(minutes=30),
            bes_line(
                t - timedelta(minutes=30),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU/ou=Exchange/"
                "cn=Recipients/cn=sofia.rossi",
                tid="21AC",
                user="sofia.rossi@example.eu",
                eid="20400",
            ),
        )
    )
    s1["POLC"] += [
        (
            t - timedelta(minutes=40),
            bes_line(
                t - timedelta(minutes=40),
                f"SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId={u}",
                tid="E1C",
            ),
        )
        for u in (201, 202, 203)
    ]
    s1["SYNC"] += [
        (
            t + timedelta(minutes=50),
            bes_line(
                t + timedelta(minutes=50),
                '[SYNC-DSession] Received "ContactsData" command from device. [Lind, Anna:204]',
                tid="1294",
                eid="46047",
            ),
        ),
        (
            t + timedelta(minutes=51),
            bes_line(
                t + timedelta(minutes=51),
                "[SYNC-DSession] CheckResponseReceived - no changes detected.",
                tid="C4",
                eid="40089",
            ),
        ),
    ]
    # server 2 (name also with "_"): the same address activating there too, and a user in progress
    t2 = datetime(2019, 9, 2, 8, 5)
    s2 = merge(
        activation("anja.horvat@example.eu", 7, "Horvat, Anja", t2),
        activation(
            "dario.ricci@example.eu", 8, "Ricci, Dario", t2 + timedelta(minutes=110), upto="getconfig"
        ),
        {"MAGT": mail_flow(t2, t2 + timedelta(hours=2), step=5)},
    )
    write_server(tmp_path / EU1, EU1, s1)
    write_server(tmp_path / EU2, EU2, s2)
    lines = sum(1 for p in tmp_path.rglob("*.txt") for _ in p.open("rb"))
    assert lines > 5000
    code, rep, _ = scan_json(tmp_path)
    assert code == 0  # chiara has been at stage 3 for 25 min when server 1's logs end: in progress
    assert rows(rep) == sorted(
        [
            (EU1, "anja.horvat@example.eu", 101, "Horvat, Anja", "complete", 4, None),
            (EU1, "bram.peeters@example.eu", 102, "Peeters, Bram", "complete", 4, None),
            (EU1, "chiara.bianchi@example.eu", None, None, "in_progress", 3, None),
            (EU2, "anja.horvat@example.eu", 7, "Horvat, Anja", "complete", 4, None),
            (EU2, "dario.ricci@example.eu", 8, "Ricci, Dario", "in_progress", 4, None),
        ]
    )


def test_mailbox_errors_of_idle_users_are_not_activations(tmp_path: Path) -> None:
    t0 = datetime(2019, 2, 11, 15, 0, 0)
    lines = mail_flow(t0, t0 + timedelta(hours=1), step=10)
    for i, u in enumerate(("anna.lind@example.eu", "piet.devries@example.eu")):
        t = t0 + timedelta(minutes=5 + i)
        lines.append(
            (
                t,
                bes_line(
                    t,
                    "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=EU",
                    tid="21AC",
                    user=u,
                    eid="20400",
                ),
            )
        )
    pol = [
        (
            t0 + timedelta(minutes=9),
            bes_line(
                t0 + timedelta(minutes=9),
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=77",
                tid="E1C",
            ),
        )
    ]
    write_server(tmp_path, EU1, {"MAGT": lines, "POLC": pol})
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rep["activations"] == []
    code, rep, _ = scan_json(tmp_path, "--fail-if-none")
    assert code == 1


def test_it_policy_push_for_an_idle_user_is_no_activation(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "BB01_POLC_01_20100521_0001.txt",
        [
            bes_line(
                "05/21 03:00:00.000",
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=77",
                tid="E1C",
            ),
        ],
    )
    write_lines(
        tmp_path / "BB01_MAGT_01_20100521_0001.txt",
        [
            bes_line(
                "05/21 03:10:00.000",
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=X",
                user="idle.user@example.net",
                eid=20400,
            ),
        ],
    )
    report = scan_report(tmp_path)
    assert report.activations == ()
    assert sorted(e.pattern_id for e in report.unattached) == [
        "magt.mailbox-open-failed",
        "polc.itpolicy-queued",
    ]


def test_other_users_errors_interleaved_with_an_activation(tmp_path: Path) -> None:
    """While Tomasz activates, other users' error lines appear in every service, on other threads:
    his activation stays complete and nothing of theirs lands in it."""
    t0 = datetime(2018, 9, 3, 10, 0, 0)
    act = Activation(*TOM, t0, site=LON_SITE)
    parts = act.parts()

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    parts["MAGT"] += [
        (at(0.5), bes_line(at(0.5), "User not started", tid="1B44", user="li.wei@corp.example", eid="20000")),
        (
            at(3),
            bes_line(
                at(3),
                "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=Corp/"
                "ou=Exchange/cn=Recipients/cn=ofarouk",
                tid="21AC",
                user="omar.farouk@corp.example",
                eid="20400",
            ),
        ),
        (
            at(8),
            bes_line(
                at(8),
                "IT Policy Rejected by device, PIN=2A3B4C5D",
                tid="1C30",
                user="li.wei@corp.example",
                eid="20000",
            ),
        ),
    ]
    parts["POLC"] += [
        (
            at(12),
            bes_line(
                at(12),
                "SCS::ProcessITPolicyResult - IT policy rejected by device for UserId=9911",
                tid="E20",
                eid="20000",
            ),
        ),
    ]
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    tom = one(rep, email=TOM[0])
    assert (tom["user_id"], tom["display_name"], tom["status"], tom["stage"], tom["kb"]) == (
        6060,
        "Wolski, Tomasz",
        "complete",
        4,
        None,
    )
    assert tom["errors"] == [] and tom["attempts"] == []
    assert not any(a["email"] == "omar.farouk@corp.example" for a in rep["activations"])
    assert not any(a["user_id"] == 6060 and a is not tom for a in rep["activations"])
