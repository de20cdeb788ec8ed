"""In progress or stalled: no progress for longer than the stage's threshold before the end of *that
server's* logs (its last line in any file), never the wall clock; ``--stall-after`` overrides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import (
    ERROR_USER,
    EU1,
    EU2,
    JOERG,
    LON,
    LON_SITE,
    Activation,
    Parts,
    activation,
    bes_line,
    mail_flow,
    merge,
    one,
    only,
    rows,
    scan_json,
    scan_report,
    write_activation,
    write_server,
)

from bes_logdiag.model import Status

U = ERROR_USER[0]


THRESHOLDS = [
    # upto, minutes between the last progress and the end of that server's logs, status
    ("etp", 10, "in_progress"),
    ("etp", 20, "stalled"),
    ("accept", 10, "in_progress"),
    ("accept", 20, "stalled"),
    ("books", 25, "in_progress"),
    ("books", 35, "stalled"),
    ("policy", 25, "in_progress"),
    ("policy", 35, "stalled"),
    ("getconfig", 50, "in_progress"),
    ("getconfig", 70, "stalled"),
    ("progress", 50, "in_progress"),
    ("progress", 70, "stalled"),
]


@pytest.mark.parametrize(
    ("upto", "minutes", "status"), THRESHOLDS, ids=[f"{u}-{m}min" for u, m, _ in THRESHOLDS]
)
def test_in_progress_or_stalled_against_end_of_that_servers_logs(
    tmp_path: Path, upto: str, minutes: int, status: str
) -> None:
    """The end of the logs is the last line of *this* server (here a Controller line), not the clock
    and not another server that logged for hours longer."""
    t0 = datetime(2009, 4, 7, 10, 0, 0)
    parts = activation("tomas.novak@example.eu", 5150, "Novak, Tomas", t0, upto=upto)
    last = max(t for items in parts.values() for t, _ in items)
    end = last + timedelta(minutes=minutes)
    parts = merge(
        parts,
        {
            "MAGT": mail_flow(t0 - timedelta(minutes=5), last + timedelta(minutes=3), step=30),
            "CTRL": [(end, bes_line(end, "Agent 1: Missed 1 heartbeats", tid="A2C", eid="20000"))],
        },
    )
    write_server(tmp_path / EU1, EU1, parts)
    other = merge(
        activation("tomas.novak@example.eu", 99, "Novak, Tomas", t0 - timedelta(hours=3)),
        {
            "CTRL": [
                (
                    t0 + timedelta(hours=8),
                    bes_line(
                        t0 + timedelta(hours=8), "Performing system health check", tid="A2C", eid="30000"
                    ),
                )
            ]
        },
    )
    write_server(tmp_path / EU2, EU2, other)
    code, rep, _ = scan_json(tmp_path)
    assert code == (1 if status == "stalled" else 0)
    a = one(rep, server=EU1)
    assert a["status"] == status
    assert a["stage"] == {"etp": 1, "accept": 2, "books": 3, "policy": 3, "getconfig": 4, "progress": 4}[upto]
    assert (a["kb"] is None) == (status == "in_progress")
    assert one(rep, server=EU2)["status"] == "complete"
    assert rep["log_end"][EU1].startswith(end.strftime("%Y-%m-%dT%H:%M"))


EDGES = [
    ("etp", 1, timedelta(minutes=15), "KB13840"),
    ("key", 2, timedelta(minutes=15), "KB13843"),
    ("accept", 2, timedelta(minutes=15), "KB13843"),
    ("books", 3, timedelta(minutes=30), "KB03410"),
    ("policy", 3, timedelta(minutes=30), "KB13847"),
    ("getconfig", 4, timedelta(hours=1), "KB03964"),
    ("cical", 4, timedelta(hours=1), "KB10496"),
    ("progress", 4, timedelta(hours=1), "KB13461"),
]


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["1s-under", "exactly", "1s-over"])
@pytest.mark.parametrize(("upto", "stage", "limit", "kb"), EDGES, ids=[e[0] for e in EDGES])
def test_threshold_to_the_second_with_log_end_from_other_services(
    tmp_path: Path, upto: str, stage: int, limit: timedelta, kb: str, delta: int
) -> None:
    """The logs end with a Dispatcher and a Router line; "no progress for longer than the stage's
    threshold" (README) makes exactly-the-threshold still in progress."""
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    act = Activation("nadia.haddad@corp.example", 777, "Haddad, Nadia", t0, upto=upto, site=LON_SITE)
    end = act.last() + limit + timedelta(seconds=delta)
    parts = merge(
        act.parts(),
        {
            "MAGT": mail_flow(t0 - timedelta(minutes=5), act.last(), step=20, site=LON_SITE),
            "DISP": [
                (
                    end - timedelta(minutes=3),
                    bes_line(end - timedelta(minutes=3), "Total Msgs Pending 2", tid="9C4", eid="30000"),
                )
            ],
            "ROUT": [
                (
                    end,
                    bes_line(
                        end, "Connection to SRP host established, 0 messages queued", tid="A2C", eid="30000"
                    ),
                )
            ],
        },
    )
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    status = "stalled" if delta > 0 else "in_progress"
    assert code == (1 if status == "stalled" else 0)
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == (status, stage, kb if status == "stalled" else None)
    assert rep["log_end"][LON] == end.isoformat(timespec="milliseconds") or rep["log_end"][LON].startswith(
        end.strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_last_line_of_an_unknown_service_sets_the_end_of_logs(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = activation(*JOERG, t0, upto="accept")
    end = t0 + timedelta(minutes=30)
    parts["MDSS"] = [(end, bes_line(end, "[HTTP] request served, size=2048", tid="77", eid="30000"))]
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert rows(rep)[0][4:] == ("stalled", 2, "KB13843")


def test_own_mail_flow_is_not_progress(tmp_path: Path) -> None:
    """The activating user's mailbox keeps receiving mail after the stall: still stalled."""
    t0 = datetime(2019, 11, 5, 10, 0)
    parts = merge(
        activation(U, 640, "Zielinski, Marek", t0, upto="accept"),
        {"MAGT": mail_flow(t0, t0 + timedelta(hours=1), step=30, users=(U, "anna.lind@example.eu"))},
    )
    write_server(tmp_path, EU1, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert rows(rep) == [(EU1, U, None, None, "stalled", 2, "KB13843")]


def _long_sync(t0: datetime, hours: int, every: timedelta, *, complete: bool) -> tuple[Parts, datetime]:
    act = Activation("pablo.ruiz@corp.example", 321, "Ruiz, Pablo", t0, upto="getconfig", site=LON_SITE)
    parts = act.parts()
    t = act.last()
    stop = t0 + timedelta(hours=hours)
    n = 0
    while True:
        t += every
        if t > stop:
            break
        kind = ("CalendarData", "ContactsData", "TasksData", "MemosData")[n % 4]
        parts["SYNC"].append(
            (
                t,
                bes_line(
                    t,
                    f'[SYNC-DSession] Received "{kind}" command from device. [Ruiz, Pablo:321]',
                    tid="1294",
                    eid="46047",
                ),
            )
        )
        n += 1
    last = t - every
    if complete:
        done = last + timedelta(minutes=2)
        parts["SYNC"].append(
            (
                done,
                bes_line(
                    done,
                    "[SYNC-DSession] *** SLOWSYNC COMPLETE *** [Ruiz, Pablo:321]",
                    tid="12AC",
                    eid="36023",
                ),
            )
        )
        last = done
    return parts, last


@pytest.mark.parametrize("every", [20, 55], ids=["every-20min", "every-55min"])
@pytest.mark.parametrize("complete", [False, True], ids=["running", "complete"])
def test_slow_sync_of_five_hours_with_steady_progress(tmp_path: Path, every: int, complete: bool) -> None:
    t0 = datetime(2011, 4, 18, 9, 0, 0)
    parts, last = _long_sync(t0, 5, timedelta(minutes=every), complete=complete)
    end = last + timedelta(minutes=40)
    parts["CTRL"] = [
        (
            end,
            bes_line(
                end,
                "Performing system health check (BlackBerry Controller Version 5.0.3.20)",
                tid="A2C",
                eid="30000",
            ),
        )
    ]
    write_server(tmp_path, LON, parts)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["kb"]) == ("complete" if complete else "in_progress", 4, None)
    assert a["last_progress"].startswith(last.strftime("%Y-%m-%dT%H:%M"))
    assert a["attempts"] == []


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
    assert only(scan_report(tmp_path)).last.status is Status.STALLED  # 1h08m after GetConfig, threshold 1h
    assert only(scan_report(tmp_path, stall_after={4: timedelta(hours=2)})).last.status is Status.IN_PROGRESS
    assert (
        only(scan_report(tmp_path, stall_after={None: timedelta(hours=3)})).last.status is Status.IN_PROGRESS
    )


def test_stall_after_override(tmp_path: Path) -> None:
    t0 = datetime(2019, 6, 14, 9, 30)
    parts = activation(*JOERG, t0, upto="getconfig")
    end = t0 + timedelta(minutes=70)
    parts["CTRL"] = [(end, bes_line(end, "Agent 1: Missed 1 heartbeats", tid="A2C", eid="20000"))]
    write_server(tmp_path, EU1, parts)
    assert rows(scan_json(tmp_path)[1])[0][4:] == ("stalled", 4, "KB03964")
    code, rep, _ = scan_json(tmp_path, "--stall-after", "4=2h")
    assert (code, rows(rep)[0][4:]) == (0, ("in_progress", 4, None))
    code, rep, _ = scan_json(tmp_path, "--fail-on", "failed")
    assert (code, rows(rep)[0][4]) == (0, "stalled")
