"""A BES Logs folder as an admin really collects it: two servers, a size rotation between a key and its
KEY_ACCEPT, bystanders' mail on the pooled threads, the night daylight saving ends, a copy, a .bak and a
zip of one file, other services' logs, Windows clutter, one server of which only the MAGT log was sent,
and one user map exported from the first server used for both."""

from __future__ import annotations

import json
import shutil
import zipfile
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
    run_cli,
    scan_json,
    write_lines,
    write_user_map,
)


def messy_folder(base: Path) -> Path:
    root = base / "Logs"
    A, B = "BESA01", "BESB02"
    d = datetime(2024, 11, 3)  # fall-back Sunday

    def w(server, svc, day, lines, it=1, inst=1, suffix=""):
        name = bes_name(server, svc, day, inst=inst, it=it).replace(".txt", suffix + ".txt")
        return write_lines(root / server / f"{day:%Y%m%d}" / name, lines)

    def noise(day, hh, mm, n, tid="0AA", step=3):
        t = day.replace(hour=hh, minute=mm)
        out = []
        for i in range(n):
            out.append(bes_line(t, mail_text(1000 + i), tid=tid, user=f"by{i % 7}@corp.example", eid=30085))
            t += timedelta(seconds=step)
        return out

    # --- server A, MAGT with rotation: user1 key at end of _0001, KEY_ACCEPT at start of _0002; user2 across DST
    u1, u2, u3 = "ian.dundas@corp.example", "maria.vogt@corp.example", "li.wei@corp.example"
    t = d.replace(hour=0, minute=40)
    magt1 = noise(d, 0, 30, 50) + [
        bes_line(t, etp_text(), tid="1F4", user=u1),
        bes_line(t + timedelta(seconds=1), key_text(), tid="1F4", user=u1),
        bes_line(
            t + timedelta(seconds=1, milliseconds=100), mail_text(5), tid="1F4", user="by1@corp.example"
        ),
    ]
    magt2 = [
        bes_line(t + timedelta(seconds=1, milliseconds=400), accept_text(77), tid="1F4"),
        bes_line(t + timedelta(seconds=5), BOOKS_TEXT, tid="1F4", user=u1),
    ]
    # user2: ETP 01:50 first pass, key, accept (bystander on same thread between), books
    t2 = d.replace(hour=1, minute=50)
    magt2 += (
        noise(d, 1, 45, 20)
        + [
            bes_line(t2, etp_text(), tid="2C8", user=u2),
            bes_line(t2 + timedelta(seconds=1), key_text(), tid="2C8", user=u2),
            bes_line(
                t2 + timedelta(seconds=1, milliseconds=50),
                "Sending message to device, RefId=4",
                tid="2C8",
                user="by3@corp.example",
            ),
            bes_line(t2 + timedelta(seconds=1, milliseconds=90), accept_text(78), tid="2C8"),
            bes_line(t2 + timedelta(seconds=5), BOOKS_TEXT, tid="2C8", user=u2),
        ]
        + noise(d, 1, 59, 15, step=4)
        + noise(d, 1, 0, 30)
        + noise(d, 3, 0, 20)
    )
    w(A, "MAGT", d, magt1, it=1, inst=2)
    w(A, "MAGT", d, magt2, it=2, inst=2)
    polc = [
        bes_line(t + timedelta(seconds=8), policy_text(1002), tid="E1C"),
        bes_line(t2 + timedelta(seconds=8), policy_text(1003), tid="E1C"),
        bes_line(d.replace(hour=1, minute=59, second=50), "SCS::Heartbeat ok", tid="E1C", eid=30000),
        bes_line(d.replace(hour=1, minute=0, second=20), "SCS::Heartbeat ok", tid="E1C", eid=30000),
        bes_line(d.replace(hour=3, minute=0, second=20), "SCS::Heartbeat ok", tid="E1C", eid=30000),
    ]
    w(A, "POLC", d, polc)
    sync = [
        bes_line(t + timedelta(minutes=1), command_text("GetConfig", "Dundas, Ian", 1002), tid="D10"),
        bes_line(t + timedelta(minutes=9), complete_text("Dundas, Ian", 1002), tid="D10"),
        bes_line(
            d.replace(hour=1, minute=58),
            "CheckResponseReceived - no changes detected.",
            tid="D10",
            user="Idle, Ivy",
            eid=40089,
        ),
        bes_line(d.replace(hour=1, minute=5), command_text("GetConfig", "Vogt, Maria", 1003), tid="D11"),
        bes_line(d.replace(hour=1, minute=20), complete_text("Vogt, Maria", 1003), tid="D11"),
        bes_line(
            d.replace(hour=3, minute=0),
            "CheckResponseReceived - no changes detected.",
            tid="D10",
            user="Idle, Ivy",
            eid=40089,
        ),
    ]
    w(A, "SYNC", d, sync)
    # other services, copies and junk
    w(
        A,
        "CTRL",
        d,
        [bes_line(d.replace(hour=3, minute=30), "Performing system health check", tid="A2C", eid=30000)],
    )
    w(A, "MDAT", d, [bes_line(d.replace(hour=2, minute=30), "MDS-CS heartbeat", tid="A2C", eid=30000)])
    src = root / A / f"{d:%Y%m%d}" / bes_name(A, "SYNC", d)
    shutil.copy(src, src.with_name(src.stem + " - Copy.txt"))
    shutil.copy(src, str(src) + ".bak")
    (root / A / "Thumbs.db").write_bytes(b"\x00\x01junk")
    (root / A / "desktop.ini").write_text("[.ShellClassInfo]\n")
    with zipfile.ZipFile(root / "sent_by_colleague.zip", "w") as z:
        z.write(src, src.name)
    # --- server B: only MAGT (colleague sent one file); user3 completes in reality
    t3 = d.replace(hour=9)
    w(
        B,
        "MAGT",
        d,
        [
            bes_line(t3, etp_text(), tid="3A0", user=u3),
            bes_line(t3 + timedelta(seconds=1), key_text(), tid="3A0", user=u3),
            bes_line(t3 + timedelta(seconds=1), accept_text(9), tid="3A0"),
            bes_line(t3 + timedelta(seconds=5), BOOKS_TEXT, tid="3A0", user=u3),
        ]
        + noise(d, 9, 1, 400, step=10),
    )
    # one user map exported from server A, applied to both; id 1002 on B would be someone else
    write_user_map(
        base / "users_A.csv",
        [(u1, 1002, "Dundas, Ian"), (u2, 1003, "Vogt, Maria"), ("x.other@corp.example", 1004, "Other, X")],
        encoding="utf-16",
    )
    return root


def test_the_messy_folder_gives_the_verdicts_of_a_tidy_one(tmp_path: Path) -> None:
    root = messy_folder(tmp_path)
    code, report, stderr = scan_json(root, "--users", tmp_path / "users_A.csv")
    assert rows(report) == [
        ("BESA01", "ian.dundas@corp.example", 1002, "Dundas, Ian", "complete", 4, None),
        ("BESA01", "maria.vogt@corp.example", 1003, "Vogt, Maria", "complete", 4, None),
        ("BESB02", "li.wei@corp.example", None, None, "stalled", 3, "KB03410"),
    ]
    assert [a["attempts"] for a in report["activations"]] == [[], [], []]
    li = report["activations"][2]
    assert li["missing_logs"] == ["POLC", "SYNC"] and "could not be checked" in li["reason"]
    assert not any("Policy Service never" in a["reason"] for a in report["activations"])
    inputs = report["inputs"]
    assert len(inputs["duplicates"]) == 3 and len(inputs["ignored"]) == 4 and inputs["skipped"] == []
    assert report["unattached"] == []
    steps = [n for n in report["notes"] if "local time goes back 1h" in n]
    assert len(steps) == 1 and "BESA01" in steps[0]
    assert code == 1  # li.wei's stall counts, unconfirmed as it is


def test_the_messy_folder_passes_strict_and_its_timeline_runs_forward(tmp_path: Path) -> None:
    root = messy_folder(tmp_path)
    strict = run_cli("scan", root, "--strict", "-q", "-f", "json")
    assert strict.exit_code == 1, strict.stderr  # problems found, nothing unreadable
    result = run_cli("timeline", "maria.vogt@corp.example", root, "--format", "json")
    gaps = [s["since_previous_seconds"] for s in json.loads(result.stdout)["milestones"]]
    assert all(g is None or g >= 0 for g in gaps)
    assert sum(g for g in gaps if g) == 30 * 60  # ETP 01:50 (first pass) to SLOWSYNC COMPLETE 01:20 (second)
