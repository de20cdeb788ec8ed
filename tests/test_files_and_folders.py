"""Files and folders (BES-LOGS.md section 1): server names with ``_``, restarts (``_0002``), Messaging
Agent instances, services nobody diagnoses, and files without BES names (service from the lines).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    EU1,
    JOERG,
    KIM,
    LON,
    LON_SITE,
    Activation,
    activation,
    bes_line,
    bes_name,
    mail_flow,
    only,
    rows,
    scan_json,
    scan_report,
    time_ordered,
    write_lines,
    write_server,
)


def test_complete_activation_2019_underscore_server_accented_user(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30, 0)
    write_server(tmp_path, EU1, activation(*JOERG, t0), encoding={"SYNC": "cp1252", "MAGT": "cp1252"})
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1
    a = rep["activations"][0]
    assert (a["server"], a["email"], a["user_id"], a["display_name"]) == (EU1, *JOERG)
    assert (a["status"], a["stage"], a["kb"]) == ("complete", 4, None)
    assert a["started"].startswith("2019-06-14T09:30")
    assert a["completed"].startswith("2019-06-14T09:43")
    assert a["attempts"] == []


def test_rotated_iteration_0002_continues_the_same_activation(tmp_path: Path) -> None:
    """The Messaging Agent restarts (_0002) between the ETP.DAT pickup and the key: one activation."""
    t0 = datetime(2019, 3, 5, 14, 0, 0)
    parts = activation("noah.weber@example.eu", 2210, "Weber, Noah", t0, scale=3.0)
    day = datetime(2019, 3, 5)
    folder = tmp_path / "20190305"
    magt = [line for _, line in sorted(parts["MAGT"])]
    restart = bes_line(
        t0 + timedelta(seconds=3),
        "BlackBerry Messaging Agent BES_EU_01 Agent 1 starting",
        tid="9C4",
        eid="50000",
    )
    write_lines(folder / bes_name(EU1, "MAGT", day, it=1), magt[:1])
    write_lines(folder / bes_name(EU1, "MAGT", day, it=2), [restart, *magt[1:]])
    write_lines(folder / bes_name(EU1, "POLC", day), [line for _, line in parts["POLC"]])
    write_lines(folder / bes_name(EU1, "SYNC", day), [line for _, line in parts["SYNC"]])
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["email"], a["user_id"], a["status"], a["attempts"]) == (
        "noah.weber@example.eu",
        2210,
        "complete",
        [],
    )


def test_rotated_iterations_and_services_merge_in_time_order(tmp_path: Path) -> None:
    lines = {
        "BB01_MAGT_01_20100521_0001.txt": [
            bes_line(
                "05/21 06:50:00.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1",
                user="ian.dundas@example.net",
            ),
        ],
        "BB01_MAGT_01_20100521_0002.txt": [
            bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
            bes_line("05/21 06:51:39.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="2"),
            bes_line(
                "05/21 06:51:45.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="3",
                user="ian.dundas@example.net",
            ),
        ],
    }
    for name, ls in lines.items():
        write_lines(tmp_path / name, ls)
    act = only(scan_report(tmp_path))
    assert [e.milestone for e in act.last.events] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
    ]
    assert len(act.attempts) == 1


def test_restarts_0001_0002_0003_in_the_middle_of_an_activation(tmp_path: Path) -> None:
    """The Messaging Agent restarts twice the same day while one user activates; each iteration
    starts with its start-up lines (Current Date) and other threads."""
    t0 = datetime(2017, 2, 8, 11, 0, 0)
    act = Activation(
        *KIM, t0, scale=20.0, site=LON_SITE
    )  # the steps 20x slower: ETP 11:00:00, key 11:00:20, books 11:02:20
    day = datetime(2017, 2, 8)
    folder = tmp_path / "20170208"
    by = {s: act.line(s) for s in act.keep}

    def start(t: datetime) -> list[str]:
        return [
            bes_line(t, "BlackBerry Messaging Agent BBX_LON_01 Agent 1 starting", tid="A10", eid="50000"),
            bes_line(t, "Current Date: 2017/02/08", tid="A10", eid="30000"),
        ]

    write_lines(folder / bes_name(LON, "MAGT", day, it=1), [*start(t0 - timedelta(hours=2)), by["etp"][2]])
    write_lines(
        folder / bes_name(LON, "MAGT", day, it=2), [*start(act.at(0.5)), by["key"][2], by["accept"][2]]
    )
    write_lines(
        folder / bes_name(LON, "MAGT", day, it=3), [*start(act.at(5)), by["books"][2], by["cical"][2]]
    )
    write_lines(folder / bes_name(LON, "POLC", day), [by["policy"][2]])
    write_lines(
        folder / bes_name(LON, "SYNC", day), [by["getconfig"][2], by["progress"][2], by["complete"][2]]
    )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(LON, *KIM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["attempts"] == []
    assert [m["milestone"] for m in a["milestones"]][:4] == [
        "etp_received",
        "key_generated",
        "key_accept_sent",
        "service_books_requested",
    ]


def test_second_messaging_agent_instance_and_other_services_are_ignored(tmp_path: Path) -> None:
    """MAGT_02 holds the user; the logs of services that write no activation lines (MDSS, BBIM,
    ALRT, CTRL, DISP, ROUT) are listed as ignored, not read and not skipped."""
    t0 = datetime(2019, 8, 20, 7, 0, 0)
    parts = activation("ella.nagy@example.eu", 880, "Nagy, Ella", t0)
    day = datetime(2019, 8, 20)
    folder = tmp_path / "20190820"
    write_lines(folder / bes_name(EU1, "MAGT", day, inst=2), [line for _, line in sorted(parts["MAGT"])])
    write_lines(folder / bes_name(EU1, "POLC", day), [line for _, line in parts["POLC"]])
    write_lines(folder / bes_name(EU1, "SYNC", day), [line for _, line in parts["SYNC"]])
    write_lines(
        folder / bes_name(EU1, "MAGT", day), [line for _, line in mail_flow(t0, t0 + timedelta(minutes=15))]
    )
    for code_ in ("MDSS", "BBIM", "ALRT", "CTRL", "DISP", "ROUT"):
        write_lines(
            folder / bes_name(EU1, code_, day),
            [
                bes_line(
                    t0,
                    "Performing system health check (BlackBerry Controller Version 4.1.7.12)",
                    tid="A2C",
                    eid="30000",
                ),
                bes_line(t0 + timedelta(minutes=14), "Agent 2: Missed 1 heartbeats", tid="A2C", eid="20000"),
            ],
        )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rep["inputs"]["files_read"] == 4
    ignored = [Path(i["path"]).name for i in rep["inputs"]["ignored"]]
    codes = ("MDSS", "BBIM", "ALRT", "CTRL", "DISP", "ROUT")
    assert sorted(next(c for c in codes if f"_{c}_" in name) for name in ignored) == sorted(codes)
    assert rep["inputs"]["skipped"] == []
    assert rows(rep) == [(EU1, "ella.nagy@example.eu", 880, "Nagy, Ella", "complete", 4, None)]


def test_service_comes_from_the_line_when_the_name_says_nothing(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "excerpt.txt",
        [
            bes_line(
                "05/21 06:51:45.000",
                "*** OTAKEYGEN *** Queuing service book data to Policy Server",
                tid="1AA8",
                user="ian.dundas@example.net",
            ),
            bes_line(
                "05/21 06:51:49.000",
                "SCS::CheckITPolicyInGroup - Queuing SET_ITPOLICY_REQUEST request for UserId=5",
                tid="E1C",
            ),
            bes_line(
                "05/21 06:52:24.000",
                '[SYNC-DSession] Received "GetConfig" command from device. [Dundas, Ian:5]',
                eid=46046,
            ),
        ],
    )
    act = only(scan_report(tmp_path, year=2010))
    assert [e.service for e in act.last.events] == ["MAGT", "POLC", "SYNC"]


def _unnamed(act: Activation) -> dict[str, list[str]]:
    p = act.parts()
    return {
        "agent.log": time_ordered(p["MAGT"]),
        "policy-service.txt": time_ordered(p["POLC"]),
        "sync export.txt": time_ordered(p["SYNC"]),
    }


def test_unnamed_files_in_a_day_folder(tmp_path: Path) -> None:
    act = Activation(*KIM, datetime(2012, 7, 30, 16, 0, 0), site=LON_SITE)
    for name, lines in _unnamed(act).items():
        write_lines(tmp_path / "ticket" / "20120730" / name, lines)
    code, rep, _ = scan_json(tmp_path / "ticket")
    assert code == 0
    assert rows(rep) == [(None, *KIM, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2012-07-30T16:00") and a["completed"].startswith("2012-07-30T16:14")
    services = {m["milestone"]: m["service"] for m in a["milestones"]}
    assert (services["etp_received"], services["itpolicy_queued"], services["slowsync_complete"]) == (
        "MAGT",
        "POLC",
        "SYNC",
    )


def test_unnamed_files_dated_by_current_date_lines(tmp_path: Path) -> None:
    act = Activation(*KIM, datetime(2012, 7, 30, 16, 0, 0), site=LON_SITE)
    for name, lines in _unnamed(act).items():
        write_lines(
            tmp_path / name,
            [
                bes_line(datetime(2012, 7, 30, 0, 0, 5), "Current Date: 2012/07/30", tid="9C4", eid="30000"),
                *lines,
            ],
        )
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(None, *KIM, "complete", 4, None)]
    assert rep["activations"][0]["started"].startswith("2012-07-30T16:00")
