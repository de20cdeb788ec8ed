"""Lines that belong to no activation: grouped in the report (one item per server and pattern, one
entry per user in it, README "JSON", `unattached`), listed one by one by ``events``, which streams
them in time order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from builders import (
    EU1,
    SAMPLE_LOGS,
    activation,
    bes_line,
    mailbox_error_text,
    policy_text,
    run_cli,
    scan_json,
    unattached_users,
    write_lines,
    write_server,
    write_user_map,
)

from bes_logdiag.model import Report
from bes_logdiag.render.events import event_records
from bes_logdiag.render.json import user_id_value
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig

T0 = datetime(2010, 5, 21, 3, 0)
IDLE = "idle.user@example.net"
MAGT1 = "BB01_MAGT_01_20100521_0001.txt"
MAGT2 = "BB01_MAGT_02_20100521_0001.txt"


def mailbox_error(t: datetime, user: str) -> str:
    return bes_line(t, mailbox_error_text(f"/o=X/cn={user.split('@')[0]}"), user=user, eid=20400)


def poll_logs(tmp_path: Path) -> Path:
    """A mailbox the service account cannot open, logged on every poll (every 5 minutes) by two
    agents; another idle user's once; two IT policy pushes to a user who is not activating."""
    times = [T0 + timedelta(minutes=5 * i) for i in range(60)]
    once = mailbox_error(T0 - timedelta(minutes=1), "one@x.net")
    write_lines(tmp_path / MAGT1, [once] + [mailbox_error(t, IDLE) for t in times[::2]])
    write_lines(tmp_path / MAGT2, [mailbox_error(t, IDLE) for t in times[1::2]])
    pushes = [bes_line(T0 + timedelta(hours=h), policy_text(77), tid="E1C") for h in (1, 2)]
    write_lines(tmp_path / "BB01_POLC_01_20100521_0001.txt", pushes)
    return tmp_path


def group_of(doc: dict[str, Any], pattern: str, email: str | None = None) -> dict[str, Any]:
    """One user's lines of one pattern, flat (`builders.unattached_users`)."""
    (group,) = [g for g in unattached_users(doc) if g["pattern"] == pattern and g["email"] == email]
    return group


def test_a_mailbox_error_on_every_poll_is_one_entry(tmp_path: Path) -> None:
    _, doc, _ = scan_json(poll_logs(tmp_path), "-q")
    assert doc["activations"] == []
    mailbox, push = doc["unattached"]
    assert mailbox == {
        "server": "BB01",
        "pattern": "magt.mailbox-open-failed",
        "milestone": None,
        "error": "mailbox_not_reachable",
        "kb": "KB02276",
        "count": 61,
        "first": "2010-05-21T02:59:00.000",
        "last": "2010-05-21T07:55:00.000",
        "text": "MAPIMailbox::MAPIMailbox - OpenMsgStore (0x8004011d) failed, MailboxDN=/o=X/cn=one",
        "files": [str(tmp_path / MAGT1), str(tmp_path / MAGT2)],
        "users": [
            {
                "email": "one@x.net",
                "user_id": None,
                "display_name": None,
                "count": 1,
                "first": "2010-05-21T02:59:00.000",
                "last": "2010-05-21T02:59:00.000",
                "evidence": [[0, 1]],
            },
            {
                "email": IDLE,
                "user_id": None,
                "display_name": None,
                "count": 60,
                "first": "2010-05-21T03:00:00.000",
                "last": "2010-05-21T07:55:00.000",
                "evidence": [[0, 2], [1, 30]],
            },
        ],
    }
    assert (push["pattern"], push["milestone"], push["count"], push["first"], push["last"]) == (
        "polc.itpolicy-queued",
        "itpolicy_queued",
        2,
        "2010-05-21T04:00:00.000",
        "2010-05-21T05:00:00.000",
    )
    assert [(u["email"], u["user_id"]) for u in push["users"]] == [(None, 77)]


def test_the_entries_of_many_users_share_the_words_and_paths(tmp_path: Path) -> None:
    """2,000 users whose mailboxes cannot be opened: one item, whose pattern, text and file paths
    are written once; each user's entry is short (schema 3's reason)."""
    users = [f"user{n:04}@example.net" for n in range(2000)]
    write_lines(tmp_path / MAGT1, [mailbox_error(T0 + timedelta(seconds=n), u) for n, u in enumerate(users)])
    _, doc, _ = scan_json(tmp_path, "-q")
    (item,) = doc["unattached"]
    assert (item["count"], len(item["users"]), item["files"]) == (2000, 2000, [str(tmp_path / MAGT1)])
    assert [u["email"] for u in item["users"]] == users
    assert item["users"][1999]["evidence"] == [[0, 2000]]
    longest = max(len(json.dumps(u)) for u in item["users"])
    assert longest < 200, longest


def test_groups_come_in_the_order_of_their_first_lines(tmp_path: Path) -> None:
    _, doc, _ = scan_json(poll_logs(tmp_path), "-q")
    assert [(g["email"], g["user_id"]) for g in unattached_users(doc)] == [
        ("one@x.net", None),
        (IDLE, None),
        (None, 77),
    ]


def test_a_group_carries_the_names_the_user_map_knows(tmp_path: Path) -> None:
    """Its lines name the address only: the map adds the user id and the display name."""
    users = write_user_map(tmp_path / "users.csv", [(IDLE, 5001, "User, Idle")])
    _, doc, _ = scan_json(poll_logs(tmp_path / "logs"), "--users", users, "-q")
    idle = group_of(doc, "magt.mailbox-open-failed", IDLE)
    assert (idle["user_id"], idle["display_name"], idle["count"]) == (5001, "User, Idle", 60)


def test_events_lists_every_line_of_every_group(tmp_path: Path) -> None:
    _, doc, _ = scan_json(poll_logs(tmp_path), "-q")
    records = [json.loads(x) for x in run_cli("events", tmp_path, "-q", "-j", "1").stdout.splitlines()]
    assert len(records) == sum(g["count"] for g in unattached_users(doc)) == 63
    assert all(r["activation"] is None for r in records)
    times = [r["time"] for r in records]
    assert times == sorted(times)
    idle = [r for r in records if r["email"] == IDLE]
    assert [f"{r['file']}:{r['line']}" for r in (idle[0], idle[-1])] == group_of(
        doc, "magt.mailbox-open-failed", IDLE
    )["evidence"]


def test_the_scan_keeps_the_lines_only_when_asked(tmp_path: Path) -> None:
    config = ScanConfig(paths=(str(poll_logs(tmp_path)),), jobs=1)
    assert run_scan(config).unattached_lines == ()
    report = run_scan(config, unattached_lines=True)
    assert len(report.unattached_lines) == sum(g.count for g in report.unattached) == 63
    assert run_scan(config).unattached == report.unattached


def test_lines_of_an_activation_are_in_no_group(tmp_path: Path) -> None:
    t = datetime(2019, 9, 2, 8, 0)
    parts = activation("anja.horvat@example.eu", 101, "Horvat, Anja", t)
    parts["MAGT"].append((t + timedelta(minutes=1), mailbox_error(t + timedelta(minutes=1), IDLE)))
    write_server(tmp_path, EU1, parts)
    _, doc, _ = scan_json(tmp_path, "-q")
    assert [a["email"] for a in doc["activations"]] == ["anja.horvat@example.eu"]
    assert [(g["email"], g["count"]) for g in unattached_users(doc)] == [(IDLE, 1)]


def old_event_records(report: Report) -> list[dict[str, Any]]:
    """What ``events`` wrote before it streamed: every record built, then sorted by time."""
    rows: list[tuple[Any, dict[str, Any]]] = []
    for act in report.activations:
        for n, attempt in enumerate(act.attempts, 1):
            for e in attempt.events:
                who = {"email": act.email, "user_id": user_id_value(act.user_id),
                       "display_name": act.display_name,
                       "activation": act.email or act.display_name or act.user_id, "attempt": n}  # fmt: skip
                rows.append((e, who))
    for e in report.unattached_lines:
        who = {"email": e.email, "user_id": user_id_value(e.user_id), "display_name": e.display_name,
               "activation": None, "attempt": None}  # fmt: skip
        rows.append((e, who))
    rows.sort(key=lambda r: (r[0].time, r[0].file, r[0].line))
    return [
        {
            "time": e.time.isoformat(timespec="milliseconds"),
            "server": e.server,
            "service": e.service,
            "file": e.file,
            "line": e.line,
            "pattern": e.pattern_id,
            "milestone": e.milestone,
            "error": e.error,
            "kb": e.kb,
            "stage": e.stage,
            **who,
            "text": e.text,
        }  # fmt: skip
        for e, who in rows
    ]


def test_streamed_events_are_the_sorted_list_they_were(tmp_path: Path) -> None:
    """Merging the activations' lines with the unattached ones gives the order a full sort gave."""
    for paths in ((str(SAMPLE_LOGS),), (str(poll_logs(tmp_path)), str(SAMPLE_LOGS))):
        report = run_scan(ScanConfig(paths=paths, jobs=1), unattached_lines=True)
        records = event_records(report)
        assert iter(records) is records  # a generator: one record at a time
        assert list(records) == old_event_records(report)
