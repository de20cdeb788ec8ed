"""Local time that steps: the night daylight saving ends (01:00-01:59 happens twice), a clock an
admin set back, and the hour daylight saving skips.  File order is the true order, durations count
the time that passed, and a note names the server and the moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import regex
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
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bes_logdiag.clock import _stamp_texts

SERVER = "BESDST01"
FALL = datetime(2024, 11, 3)  # a Sunday: US daylight saving ends at 02:00, back to 01:00
SPRING = datetime(2024, 3, 10)  # a Sunday: US daylight saving begins at 02:00, on to 03:00
USER, UID, NAME = "rosa.diaz@example.com", 5150, "Diaz, Rosa"

_ANY_HEADER_STAMP = regex.compile(rb"(?m)^[^\n(]{0,24}\(\s*(\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}:\d{2})")
"""A line's header stamp, written the plain way (``^`` at every line start): what the clock
check's two faster patterns must agree with."""


def at(day: datetime, hh: int, mm: int, ss: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm, second=ss)


def noise(day: datetime, times: list[tuple[int, int, int]], tid: str = "0AA", svc: str = "MAGT") -> list[str]:
    """Idle lines at the given local times, in the order given (file order)."""
    if svc == "MAGT":
        return [
            bes_line(at(day, *t), mail_text(100 + i), tid=tid, user="idle@example.com")
            for i, t in enumerate(times)
        ]
    return [
        bes_line(at(day, *t), "CheckResponseReceived - no changes detected.", tid=tid, user="Idle, Ivy")
        for t in times
    ]


def waiting_at_stage_3(d: datetime, hh: int, mm: int) -> list[str]:
    """ETP, key, KEY_ACCEPT and service books from hh:mm on: the user then waits for the IT policy."""
    return [
        bes_line(at(d, hh, mm, 0), etp_text(), tid="1F4", user=USER),
        bes_line(at(d, hh, mm, 1), key_text(), tid="1F4", user=USER),
        bes_line(at(d, hh, mm, 1), accept_text(7), tid="1F4"),
        bes_line(at(d, hh, mm, 5), BOOKS_TEXT, tid="1F4", user=USER),
    ]


def write(folder: Path, day: datetime, svc: str, lines: list[str], it: int = 1) -> None:
    write_lines(folder / f"{day:%Y%m%d}" / bes_name(SERVER, svc, day, it=it), lines)


def one_waiting(
    folder: Path, d: datetime, start: tuple[int, int], after: list[tuple[int, int, int]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A MAGT log of idle lines at 01:40, a user waiting at stage 3 from ``start`` and idle lines
    at the local times ``after``, in that order: the scan's report and its one activation."""
    write(folder, d, "MAGT", [*noise(d, [(1, 40, 0)]), *waiting_at_stage_3(d, *start), *noise(d, after)])
    _, report, _ = scan_json(folder)
    (act,) = report["activations"]
    return report, act


def fall_back_night(folder: Path, *, sync_rotates: bool = False) -> None:
    """ETP and key at 01:50 (first pass); the step at 02:00 -> 01:00 in every file; GetConfig at
    01:05 and SLOWSYNC COMPLETE at 01:20 (second pass)."""
    d = FALL
    magt = (
        noise(d, [(0, 30, 0), (1, 40, 0)])
        + [
            bes_line(at(d, 1, 50, 0), etp_text(), tid="1F4", user=USER),
            bes_line(at(d, 1, 50, 1), key_text(), tid="1F4", user=USER),
            bes_line(at(d, 1, 50, 1), accept_text(99), tid="1F4"),
            bes_line(at(d, 1, 50, 5), BOOKS_TEXT, tid="1F4", user=USER),
        ]
        + noise(d, [(1, 59, 58), (1, 0, 2), (1, 30, 0), (3, 0, 0)])
    )
    write(folder, d, "MAGT", magt)
    write(
        folder,
        d,
        "POLC",
        [
            bes_line(at(d, 1, 50, 9), policy_text(UID), tid="E1C"),
            *noise(d, [(1, 59, 59), (1, 0, 1)], svc="POLC"),
            *noise(d, [(3, 0, 0)], svc="POLC"),
        ],
    )
    sync_before = noise(d, [(0, 10, 0), (1, 59, 0)], svc="SYNC")
    sync_after = [
        *noise(d, [(1, 0, 30)], svc="SYNC"),
        bes_line(at(d, 1, 5, 0), command_text("GetConfig", NAME, UID), tid="D10"),
        bes_line(at(d, 1, 20, 0), complete_text(NAME, UID), tid="D10"),
        *noise(d, [(3, 0, 0)], svc="SYNC"),
    ]
    if sync_rotates:  # the agent went on into a new file during the repeated hour
        write(folder, d, "SYNC", sync_before + sync_after[:1], it=1)
        write(folder, d, "SYNC", sync_after[1:], it=2)
    else:
        write(folder, d, "SYNC", sync_before + sync_after)


def test_an_activation_across_the_fall_back_is_one_complete_attempt(tmp_path: Path) -> None:
    fall_back_night(tmp_path)
    code, report, stderr = scan_json(tmp_path)
    assert rows(report) == [(SERVER, USER, UID, NAME, "complete", 4, None)]
    (act,) = report["activations"]
    assert act["attempts"] == []
    assert act["started"].startswith("2024-11-03T01:50:00") and act["completed"].startswith(
        "2024-11-03T01:20:00"
    )
    notes = [n for n in report["notes"] if SERVER in n and "goes back" in n]
    assert notes and "2024-11-03 01:59:5" in notes[0], report["notes"]
    assert code == 0


def test_timeline_gaps_are_never_negative_on_the_fall_back_night(tmp_path: Path) -> None:
    fall_back_night(tmp_path)
    result = run_cli("timeline", USER, tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    import json

    steps = json.loads(result.stdout)["milestones"]
    gaps = [s["since_previous_seconds"] for s in steps if s["since_previous_seconds"] is not None]
    assert gaps and min(gaps) >= 0, gaps
    assert steps[-1]["milestone"] == "slowsync_complete"
    assert sum(gaps) == 30 * 60  # 01:50 to 02:00 (first pass), then 01:00 to 01:20 (second pass)


def test_a_file_begun_in_the_repeated_hour_follows_its_agent(tmp_path: Path) -> None:
    fall_back_night(tmp_path, sync_rotates=True)
    _, report, _ = scan_json(tmp_path)
    assert rows(report) == [(SERVER, USER, UID, NAME, "complete", 4, None)]
    assert report["activations"][0]["attempts"] == []


def test_a_clock_set_back_does_not_split_or_stall(tmp_path: Path) -> None:
    """An admin corrects a fast clock by 20 minutes while a user waits at stage 3."""
    d = datetime(2024, 6, 12)
    write(
        tmp_path,
        d,
        "MAGT",
        [
            *waiting_at_stage_3(d, 10, 0),
            *noise(d, [(10, 10, 0), (9, 50, 30), (10, 5, 0)]),
        ],
    )
    code, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    # 10:00:05 -> 10:10 (20 minutes set back) -> 10:05 local is 25 minutes later: under 30
    assert (act["status"], act["stage"]) == ("in_progress", 3), act["reason"]
    assert any("goes back 19m30s" in n for n in report["notes"]), report["notes"]


def test_the_skipped_hour_of_spring_forward_is_no_stall(tmp_path: Path) -> None:
    report, act = one_waiting(tmp_path, SPRING, (1, 55), [(1, 59, 50), (3, 0, 5), (3, 10, 0)])
    # 01:55 to 03:10 local is 15 minutes of real time: still within stage 3's 30 minutes
    assert (act["status"], act["stage"]) == ("in_progress", 3), act["reason"]
    assert any("jumps forward 1h" in n for n in report["notes"]), report["notes"]


@pytest.mark.parametrize(
    ("day", "hour"),
    [
        (datetime(2024, 3, 31), 1),  # the UK, Ireland, Portugal: 01:00 -> 02:00
        (datetime(2024, 3, 31), 3),  # eastern Europe (Finland, Greece): 03:00 -> 04:00
        (datetime(2024, 9, 8), 0),  # Chile: Saturday 24:00 -> Sunday 01:00
    ],
)
def test_the_skipped_hour_elsewhere_is_no_stall(tmp_path: Path, day: datetime, hour: int) -> None:
    """The hour is skipped at another time where the server runs: the same 15 minutes of waiting."""
    before = day + timedelta(hours=hour) - timedelta(minutes=5)
    after = day + timedelta(hours=hour + 1, seconds=5)
    lines = [
        *noise(before, [(before.hour, before.minute - 15, 0)]),
        *waiting_at_stage_3(before, before.hour, before.minute),
        *noise(before, [(before.hour, before.minute + 4, 50)]),
        *noise(after, [(after.hour, 0, 5), (after.hour, 10, 0)]),
    ]
    write_lines(tmp_path / bes_name(SERVER, "MAGT", day), lines)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert (act["status"], act["stage"]) == ("in_progress", 3), act["reason"]
    assert any("jumps forward 1h" in n for n in report["notes"]), report["notes"]


def test_a_quiet_hour_on_an_ordinary_night_is_not_mistaken_for_spring_forward(tmp_path: Path) -> None:
    d = datetime(2024, 3, 12)  # a Tuesday
    write(
        tmp_path,
        d,
        "MAGT",
        [
            *waiting_at_stage_3(d, 1, 55),
            *noise(d, [(1, 59, 50), (3, 0, 5), (3, 10, 0)]),
        ],
    )
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert act["status"] == "stalled" and act["kb"] == "KB03410"
    assert not any("jumps forward" in n for n in report["notes"])


def test_a_busy_log_finds_the_step_between_its_samples(tmp_path: Path) -> None:
    """Megabytes of mail flow around the step: the step is found though only samples are read."""
    d = FALL
    t = at(d, 1, 50, 0)
    lines = []
    stepped = False
    for i in range(40000):  # about 3 MB: a line every 0.1 s from 01:50, stepping back at 02:00
        lines.append(bes_line(t, mail_text(i), tid="0AA", user="idle@example.com"))
        t += timedelta(milliseconds=100)
        if t.hour == 2 and not stepped:
            t -= timedelta(hours=1)
            stepped = True
    write(tmp_path, d, "MAGT", lines)
    _, report, _ = scan_json(tmp_path)
    assert any(SERVER in n and "goes back 1h" in n for n in report["notes"]), report["notes"]


_STAMP_LINE = st.one_of(
    # as servers write them, and as a paste or an older build leaves them
    st.builds(lambda e, t: f"[{e:05d}] ({t:%m/%d %H:%M:%S}.{t.microsecond // 1000:03d}):{{0x1A}} x",
              st.integers(0, 99999), st.datetimes(datetime(2023, 1, 1), datetime(2024, 12, 31))),
    st.builds(lambda e, t: f"[{e}] ({t.month}/{t.day} {t:%H:%M:%S}):{{0x1A}} x",
              st.integers(0, 99), st.datetimes(datetime(2023, 1, 1), datetime(2024, 12, 31))),
    st.text(alphabet="[]()0123456789/:. x\r", max_size=40),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_STAMP_LINE, max_size=30), st.booleans(), st.data())
def test_the_stamps_a_stretch_is_checked_by_are_every_lines(
    lines: list[str], end_nl: bool, data: st.DataObject
) -> None:
    """The stamps the clock check reads from a stretch of lines (`clock._stamp_texts`) are those
    of the lines that begin in it, whichever of its two patterns finds them."""
    buf = ("\n".join(lines) + ("\n" if end_nl else "")).encode()
    start = data.draw(st.integers(0, len(buf)))
    end = data.draw(st.integers(start, len(buf)))
    expected = [
        m.group(1)
        for m in _ANY_HEADER_STAMP.finditer(buf, start, end)
        if m.start() == 0 or buf[m.start() - 1 : m.start()] == b"\n"
    ]
    assert _stamp_texts(buf, start, end) == expected
    assert _stamp_texts(buf, start, end, buf.count(b"\n", start, end)) == expected  # (counted by the reader)


def test_logs_that_end_in_the_repeated_hour_end_at_their_last_line(tmp_path: Path) -> None:
    """A MAGT log of the fall-back night: the user waits for the IT policy from 01:40 (first pass);
    the clock goes back at 02:00 and the log ends at 01:05 (second pass), 25 minutes later, under
    stage 3's 30-minute threshold.  The logs end at their last line, not at the latest local time
    they hold (01:59, before the step): in progress, not stalled for an hour."""
    minutes = [(1, m, 0) for m in range(30, 60)] + [(1, m, 0) for m in range(6)]
    lines = noise(FALL, minutes[:10]) + waiting_at_stage_3(FALL, 1, 40) + noise(FALL, minutes[10:])
    write(tmp_path, FALL, "MAGT", lines)
    code, rep, _ = scan_json(tmp_path)
    assert rep["log_end"] == {SERVER: "2024-11-03T01:05:00.000"}
    (act,) = rep["activations"]
    assert (act["status"], act["stage"], act["last_milestone"]) == (
        "in_progress",
        3,
        "service_books_requested",
    )


def test_a_quiet_log_set_back_an_hour_on_an_ordinary_day_shows_the_step(tmp_path: Path) -> None:
    """A line every 3 s (a quiet server), 680 KB of them; on a Wednesday at 14:00 an admin sets the
    clock back an hour.  The last read block then spans an hour and a half of real time but under
    half an hour of local time from its first line to its last, as if nothing had happened: the
    samples inside it still show the step.  The user waits for the IT policy from 13:40 and the log
    ends at 13:15 local, 35 minutes later: stalled, not in progress."""
    d = datetime(2024, 9, 18)  # a Wednesday
    lines, real, n = [], at(d, 8, 10), 0
    while real <= at(d, 14, 15):
        shown = real if real < at(d, 14, 0) else real - timedelta(hours=1)
        lines.append(bes_line(shown, mail_text(n), tid="0AA", user=f"user{n % 50}@example.com"))
        if real == at(d, 13, 40):
            lines += waiting_at_stage_3(d, 13, 40)
        real += timedelta(seconds=3)
        n += 1
    write(tmp_path, d, "MAGT", lines)
    _, report, _ = scan_json(tmp_path)
    (act,) = report["activations"]
    assert (act["status"], act["stage"], act["kb"]) == ("stalled", 3, "KB03410"), act["reason"]
    assert any("local time goes back 1h" in n for n in report["notes"]), report["notes"]


def test_stage_times_over_the_fall_back_count_the_time_that_passed(tmp_path: Path) -> None:
    """Stage 3 runs from the service books at 01:50:05 (first pass) to GetConfig at 01:05 (second
    pass): 14m55s passed, though the clock reads 45 minutes less.  The report's statistics say so."""
    fall_back_night(tmp_path)
    _, report, _ = scan_json(tmp_path)
    stages = {s["stage"]: s for s in report["stats"]["overall"]["stages"]}
    assert (stages[3]["count"], stages[3]["median_seconds"]) == (1, 14 * 60 + 55)
    assert (stages[4]["count"], stages[4]["median_seconds"]) == (1, 15 * 60)


def test_the_timelines_closing_row_counts_the_silence_over_the_fall_back(tmp_path: Path) -> None:
    """A user waits for the IT policy from 01:50:05 (first pass); the logs end at 01:30 (second
    pass), 39m55s later: the stall's closing row says that, as the verdict does."""
    report, act = one_waiting(tmp_path, FALL, (1, 50), [(1, 59, 58), (1, 0, 2), (1, 30, 0)])
    assert (act["status"], act["stage"]) == ("stalled", 3)
    assert "no progress for 39m55s" in act["reason"]
    table = run_cli("timeline", USER, tmp_path, env={"COLUMNS": "200"}).stdout
    (closing,) = [line for line in table.splitlines() if "no progress" in line]
    assert "2024-11-03 01:30:00" in closing and "+39m55s" in closing, closing


def test_a_ticket_pasted_in_sections_is_no_clock_step(tmp_path: Path) -> None:
    """A ticket holds the Messaging Agent's lines, then the Policy Service's, then the
    Synchronization Service's: time goes back twice, at each new section, which is no clock.
    The steps are ordered by their times, with no note of a step."""
    d = datetime(2024, 6, 12)
    magt = [*waiting_at_stage_3(d, 10, 0), *noise(d, [(10, 10, 0), (10, 20, 0)])]
    polc = [bes_line(at(d, 10, 0, 9), policy_text(UID), tid="E1C")]
    sync = [
        bes_line(at(d, 10, 1, 0), command_text("GetConfig", NAME, UID), tid="D10"),
        bes_line(at(d, 10, 15, 0), complete_text(NAME, UID), tid="D10"),
    ]
    write_lines(tmp_path / "ticket.txt", [*magt, *polc, *sync])
    _, report, _ = scan_json(tmp_path, "--year", "2024")
    assert rows(report) == [(None, USER, UID, NAME, "complete", 4, None)]
    assert not any("goes back" in n for n in report["notes"]), report["notes"]
    import json

    steps = json.loads(run_cli("timeline", USER, tmp_path, "--year", "2024", "--format", "json").stdout)[
        "milestones"
    ]
    assert [s["milestone"] for s in steps] == [
        "etp_received", "key_generated", "key_accept_sent", "service_books_requested",
        "itpolicy_queued", "slowsync_started", "slowsync_complete",
    ]  # fmt: skip
    assert [s["since_previous_seconds"] for s in steps][1:] == [1.0, 0.0, 4.0, 4.0, 51.0, 840.0]


def test_an_excerpt_of_the_autumn_night_still_steps_back_an_hour(tmp_path: Path) -> None:
    """Only the autumn night's hour is a step in an excerpt: the same user's wait through it is
    measured in the time that passed, as in a log under its BES name."""
    one_waiting(tmp_path, FALL, (1, 50), [(1, 59, 58), (1, 0, 2), (1, 30, 0)])
    (logged,) = list(tmp_path.rglob("*.txt"))
    logged.rename(tmp_path / "ticket.txt")
    _, excerpt, _ = scan_json(tmp_path / "ticket.txt", "--year", "2024")
    (act,) = excerpt["activations"]
    assert (act["status"], act["stage"]) == ("stalled", 3)
    assert "no progress for 39m55s" in act["reason"]
    assert any("goes back 1h" in n for n in excerpt["notes"]), excerpt["notes"]
