"""Years and clocks (BES-LOGS.md section 2): lines carry no year; it comes from the file name, the day
folder, a ``Current Date`` line or ``--year``, and rolls over at New Year inside a file or across folders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    EU1,
    LON,
    LON_SITE,
    RUTH,
    Activation,
    Parts,
    activation,
    bes_line,
    bes_name,
    mail_flow,
    merge,
    one,
    only,
    rows,
    scan_json,
    scan_report,
    time_ordered,
    tries,
    write_lines,
    write_server,
)


def test_year_comes_from_the_file_and_rolls_over_in_the_file(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "BB01_MAGT_01_20091231_0001.txt",
        [
            bes_line(
                "12/31 23:59:50.000",
                "Queuing DATA from network@etp1.etp.na.blackberry.net",
                tid="1",
                user="ian.dundas@example.net",
            ),
            bes_line("01/01 00:00:10.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
            bes_line("01/01 00:00:10.000", "*** OTAKEYGEN *** sending KEY_ACCEPT transID = 5", tid="2"),
        ],
    )
    act = only(scan_report(tmp_path))
    times = [e.time for e in act.last.events]
    assert [t.year for t in times] == [2009, 2010, 2010]
    assert act.last.started.year == 2009


def test_year_option_for_undated_input(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "excerpt.txt",
        [
            bes_line("05/21 06:51:39.000", "Generating 3DES key", tid="2", user="ian.dundas@example.net"),
        ],
    )
    act = only(scan_report(tmp_path, year=2007))
    assert act.last.started.year == 2007 and act.server is None


def test_new_year_2009_into_2010_in_one_file(tmp_path: Path) -> None:
    """A MAGT file of 2009-12-31 runs past midnight; the activation finishes on 2010-01-01."""
    t0 = datetime(2009, 12, 31, 23, 58, 0)
    parts = activation("hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", t0, scale=2.0)
    # everything in the 12/31 files (the MAGT file keeps running over New Year)
    folder = tmp_path / "20091231"
    day = datetime(2009, 12, 31)
    for svc, items in parts.items():
        write_lines(folder / bes_name(EU1, svc, day), [line for _, line in sorted(items)])
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert len(rep["activations"]) == 1, rows(rep)
    a = rep["activations"][0]
    assert (a["status"], a["stage"], a["user_id"]) == ("complete", 4, 3120)
    assert a["started"].startswith("2009-12-31T23:58")
    assert a["completed"].startswith("2010-01-01T00:24")
    assert rep["log_end"][EU1].startswith("2010-01-01T00:24")


def test_new_year_across_day_folders_2019(tmp_path: Path) -> None:
    """The same over two day folders (20191231, 20200101), with a stall verdict crossing the year."""
    t0 = datetime(2019, 12, 31, 23, 59, 0)
    done = activation("lukas.berger@example.eu", 610, "Berger, Lukas", t0)  # 00:12 on 01/01
    stuck = activation(
        "mira.koch@example.eu",
        611,
        "Koch, Mira",
        datetime(2019, 12, 31, 23, 40),
        upto="accept",
        key_tid="1500",
    )
    tail = {"MAGT": mail_flow(datetime(2020, 1, 1, 0, 0), datetime(2020, 1, 1, 0, 20), step=60)}
    write_server(tmp_path, EU1, merge(done, stuck, tail))
    assert (tmp_path / "20200101" / bes_name(EU1, "SYNC", datetime(2020, 1, 1))).exists()
    code, rep, _ = scan_json(tmp_path)
    assert code == 1
    assert len(rep["activations"]) == 2, rows(rep)
    a = one(rep, email="lukas.berger@example.eu")
    assert (a["status"], a["user_id"]) == ("complete", 610)
    assert a["completed"].startswith("2020-01-01T00:12")
    b = one(rep, email="mira.koch@example.eu")
    assert (b["status"], b["stage"], b["kb"]) == ("stalled", 2, "KB13843")
    assert b["started"].startswith("2019-12-31T23:40")


def _new_year_retry() -> Parts:
    first = Activation(*RUTH, datetime(2015, 12, 31, 23, 48, 0), upto="etp", site=LON_SITE)
    second = Activation(*RUTH, datetime(2016, 1, 1, 0, 20, 0), site=LON_SITE)
    return merge(
        first.parts(),
        second.parts(),
        {
            "MAGT": mail_flow(
                datetime(2015, 12, 31, 23, 40), datetime(2016, 1, 1, 0, 40), step=45, site=LON_SITE
            )
        },
    )


def _check_new_year_retry(rep: dict) -> None:  # type: ignore[type-arg]
    assert rows(rep) == [(LON, *RUTH, "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2016-01-01T00:20")
    assert a["completed"].startswith("2016-01-01T00:34")
    assert tries(a) == [("stalled", 1, "KB13840")]
    assert a["attempts"][0]["started"].startswith("2015-12-31T23:48")


def test_retry_across_new_year_in_one_file(tmp_path: Path) -> None:
    """Every service's 12/31 file runs on past midnight (no restart): 12/31 -> 01/01 inside the file."""
    day = datetime(2015, 12, 31)
    for svc, items in _new_year_retry().items():
        write_lines(tmp_path / "20151231" / bes_name(LON, svc, day), time_ordered(items))
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    _check_new_year_retry(rep)
    assert rep["log_end"][LON].startswith("2016-01-01T00:3")


def test_retry_across_new_year_in_day_folders(tmp_path: Path) -> None:
    write_server(tmp_path, LON, _new_year_retry())
    assert (tmp_path / "20160101" / bes_name(LON, "SYNC", datetime(2016, 1, 1))).exists()
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    _check_new_year_retry(rep)


def test_files_given_in_reverse_order_give_the_same_report(tmp_path: Path) -> None:
    paths = write_server(tmp_path, LON, _new_year_retry())
    forward = sorted(paths)
    code1, rep1, _ = scan_json(*forward)
    code2, rep2, _ = scan_json(*reversed(forward))
    assert code1 == code2 == 0
    _check_new_year_retry(rep1)
    _check_new_year_retry(rep2)
    strip = ("evidence", "milestones", "errors", "attempts", "joins")
    assert [{k: v for k, v in a.items() if k not in strip} for a in rep1["activations"]] == [
        {k: v for k, v in a.items() if k not in strip} for a in rep2["activations"]
    ]


def _excerpt_lines() -> list[str]:
    parts = activation(
        "hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", datetime(2009, 12, 31, 23, 58), scale=2.0
    )
    return [line for _, line in sorted(x for items in parts.values() for x in items)]


def test_excerpt_with_current_date_line_over_new_year(tmp_path: Path) -> None:
    lines = ["[30000] (12/31 23:50:00.000):{0x9C4} Current Date: 2009/12/31", *_excerpt_lines()]
    write_lines(tmp_path / "ticket_4711_excerpt.txt", lines)
    code, rep, _ = scan_json(tmp_path)
    assert code == 0
    assert rows(rep) == [(None, "hannah.schmidt@example.eu", 3120, "Schmidt, Hannah", "complete", 4, None)]
    a = rep["activations"][0]
    assert a["started"].startswith("2009-12-31T23:58") and a["completed"].startswith("2010-01-01T00:24")


def test_excerpt_in_day_folder_and_with_year_option(tmp_path: Path) -> None:
    write_lines(tmp_path / "20091231" / "pasted.txt", _excerpt_lines())
    for extra in ([], ["--year", "2009"]):
        code, rep, _ = scan_json(tmp_path / "20091231" / "pasted.txt" if extra else tmp_path, *extra)
        assert code == 0
        a = one(rep, email="hannah.schmidt@example.eu")
        assert a["started"].startswith("2009-12-31T23:58") and a["completed"].startswith("2010-01-01T00:24")


def _undated(tmp_path: Path, month: int, day: int) -> dict[str, object]:
    """An excerpt with no date anywhere: one ETP.DAT line on ``month/day`` at 06:51."""
    stamp = f"{month:02d}/{day:02d} 06:51:39.000"
    etp = "Queuing DATA from network@etp1006.etp.na.blackberry.net, Tag=1, EntryId=2"
    write_lines(tmp_path / "excerpt.txt", [bes_line(stamp, etp, tid="2", user="ian.dundas@example.net")])
    code, rep, _ = scan_json(tmp_path)
    return rep


def test_undated_lines_are_put_in_no_year_yet_to_come(tmp_path: Path) -> None:
    """Lines pasted without a date are given the latest year in which they are not in the future:
    a day later than today is last year's."""
    now = datetime.now()
    ahead = now + timedelta(days=2)
    rep = _undated(tmp_path, ahead.month, ahead.day)
    started = datetime.fromisoformat(rep["activations"][0]["started"])  # type: ignore[index]
    assert started <= now
    assert started > now - timedelta(days=366)
    assert (started.month, started.day) == (ahead.month, ahead.day)


def test_an_undated_29_february_is_read_in_the_last_leap_year(tmp_path: Path) -> None:
    """Unless ``--year`` says otherwise, 02/29 is a day of the last leap year (it was unreadable
    in any other year, and the excerpt's lines were lost)."""
    rep = _undated(tmp_path, 2, 29)
    started = datetime.fromisoformat(rep["activations"][0]["started"])  # type: ignore[index]
    assert (started.month, started.day) == (2, 29)
    assert started.year % 4 == 0 and started <= datetime.now()
    assert datetime.now() - started < timedelta(days=4 * 366)


def test_an_undated_excerpt_that_runs_into_29_february_is_read_in_a_leap_year(tmp_path: Path) -> None:
    """The first line is 02/28: the year guessed from it alone (this one, or the last in which it
    is no future day) has no 02/29, and the later lines were dropped; the activation, complete at
    00:15 on the 29th, was told in progress with no SYNC log."""
    t0 = datetime(2024, 2, 28, 23, 50, 0)
    parts = activation("ian.dundas@example.net", 2573, "Dundas, Ian", t0)
    write_lines(tmp_path / "ticket.txt", [x for _, x in sorted(t for items in parts.values() for t in items)])
    code, rep, _ = scan_json(tmp_path)
    (act,) = rep["activations"]
    assert (act["status"], act["stage"]) == ("complete", 4)
    done = datetime.fromisoformat(act["completed"])
    assert (done.month, done.day) == (2, 29) and done.year % 4 == 0 and done <= datetime.now()
    assert rep["inputs"]["unparsed"] == 0
