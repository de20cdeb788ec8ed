"""Who a KEY_ACCEPT belongs to (it names no user): the user whose key was generated on its thread
just before it, even when the Messaging Agent's pooled thread served other users' mail in between,
and across a size rotation or midnight, but never across a service restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    BOOKS_TEXT,
    accept_text,
    bes_line,
    bes_name,
    command_text,
    complete_text,
    etp_text,
    key_text,
    mail_text,
    policy_text,
    rows,
    scan_json,
    write_lines,
)

SERVER = "BESOWN01"
DAY = datetime(2025, 3, 11)
T0 = datetime(2025, 3, 11, 9, 0, 0)
TID = "1F4C"


def magt(tmp: Path, lines: list[str], *, it: int = 1, day: datetime = DAY) -> Path:
    return write_lines(tmp / f"{day:%Y%m%d}" / bes_name(SERVER, "MAGT", day, inst=2, it=it), lines)


def rest_of_activation(tmp: Path, email: str, uid: int, display: str, t: datetime) -> None:
    """What MAGT (service books), POLC and SYNC write after the KEY_ACCEPT of a user who completes."""
    day = datetime(t.year, t.month, t.day)
    write_lines(
        tmp / f"{day:%Y%m%d}" / bes_name(SERVER, "POLC", day),
        [bes_line(t + timedelta(seconds=5), policy_text(uid), tid="E1C")],
    )
    write_lines(
        tmp / f"{day:%Y%m%d}" / bes_name(SERVER, "SYNC", day),
        [
            bes_line(t + timedelta(minutes=1), command_text("GetConfig", display, uid), tid="D10"),
            bes_line(t + timedelta(minutes=9), complete_text(display, uid), tid="D10"),
        ],
    )


def head(email: str, t: datetime, tid: str = TID) -> list[str]:
    return [
        bes_line(t, etp_text(), tid=tid, user=email),
        bes_line(t + timedelta(milliseconds=200), key_text(), tid=tid, user=email),
    ]


def tail(email: str, t: datetime, tid: str = TID) -> list[str]:
    return [
        bes_line(t, accept_text(2077103732), tid=tid),
        bes_line(t + timedelta(seconds=4), BOOKS_TEXT, tid=tid, user=email),
    ]


def bystanders(t: datetime, n: int, tid: str = TID) -> list[str]:
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
    magt(
        tmp_path,
        head(user, T0)
        + bystanders(T0 + timedelta(milliseconds=300), 3)
        + tail(user, T0 + timedelta(seconds=1)),
    )
    rest_of_activation(tmp_path, user, 4711, "Vogt, Maria", T0 + timedelta(seconds=5))
    code, report, _ = scan_json(tmp_path)
    assert rows(report) == [(SERVER, user, 4711, "Vogt, Maria", "complete", 4, None)]
    (act,) = report["activations"]
    accept = next(m for m in act["milestones"] if m["milestone"] == "key_accept_sent")
    assert accept["identity_from"] == "thread"
    assert not [u for u in report["unattached"] if u.get("milestone") == "key_accept_sent"]
    assert code == 0


def test_verdicts_do_not_change_with_the_density_of_bystanders(tmp_path: Path) -> None:
    user = "li.wei@example.com"
    results = []
    for n in (0, 1, 20):
        folder = tmp_path / str(n)
        magt(
            folder,
            head(user, T0)
            + bystanders(T0 + timedelta(milliseconds=250), n)
            + tail(user, T0 + timedelta(seconds=1)),
        )
        rest_of_activation(folder, user, 12, "Wei, Li", T0 + timedelta(seconds=5))
        results.append(rows(scan_json(folder)[1]))
    assert results[0] == results[1] == results[2] == [(SERVER, user, 12, "Wei, Li", "complete", 4, None)]


def test_a_key_accept_whose_key_nobody_generated_is_left_unattached(tmp_path: Path) -> None:
    """Only a bystander is on the thread: the line names nobody, so no activation is invented."""
    magt(tmp_path, bystanders(T0, 2) + [bes_line(T0 + timedelta(seconds=1), accept_text(5), tid=TID)])
    code, report, _ = scan_json(tmp_path)
    assert report["activations"] == []
    assert [u["milestone"] for u in report["unattached"]] == ["key_accept_sent"]
    assert code == 0


def test_size_rotation_between_the_key_and_the_key_accept(tmp_path: Path) -> None:
    user = "omar.haddad@example.com"
    magt(
        tmp_path,
        [bes_line(T0 - timedelta(minutes=5), mail_text(1), tid="AAA", user="x@example.com"), *head(user, T0)],
        it=1,
    )
    magt(tmp_path, tail(user, T0 + timedelta(seconds=1)), it=2)
    rest_of_activation(tmp_path, user, 31, "Haddad, Omar", T0 + timedelta(seconds=5))
    code, report, _ = scan_json(tmp_path)
    assert rows(report) == [(SERVER, user, 31, "Haddad, Omar", "complete", 4, None)]
    (act,) = report["activations"]
    accept = next(m for m in act["milestones"] if m["milestone"] == "key_accept_sent")
    assert accept["file"].endswith("_0002.txt") and accept["identity_from"] == "thread"
    assert report["unattached"] == []
    assert code == 0


def test_midnight_between_the_key_and_the_key_accept(tmp_path: Path) -> None:
    user = "ana.lima@example.com"
    late = datetime(2025, 3, 11, 23, 59, 59)
    magt(tmp_path, head(user, late - timedelta(seconds=1)), it=3)
    next_day = DAY + timedelta(days=1)
    magt(tmp_path, tail(user, late + timedelta(milliseconds=500)), it=1, day=next_day)
    rest_of_activation(tmp_path, user, 77, "Lima, Ana", late + timedelta(seconds=5))
    _, report, _ = scan_json(tmp_path)
    assert rows(report) == [(SERVER, user, 77, "Lima, Ana", "complete", 4, None)]


def test_a_restarted_service_carries_no_thread_over(tmp_path: Path) -> None:
    """The newer file begins with the service starting up: its thread ids are new threads."""
    user = "ben.okafor@example.com"
    magt(tmp_path, head(user, T0), it=1)
    restart = [
        bes_line(T0 + timedelta(seconds=1), "BlackBerry Messaging Agent starting", tid="100", eid=50000),
        bes_line(T0 + timedelta(seconds=1), "Current Date: 2025/03/11", tid="100", eid=30000),
    ]
    magt(tmp_path, restart + tail(user, T0 + timedelta(seconds=2))[:1], it=2)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["email"] == user and act["last_milestone"] == "key_generated"
    assert [u["milestone"] for u in report["unattached"]] == ["key_accept_sent"]
