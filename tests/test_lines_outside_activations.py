"""Lines that can neither open an attempt nor steer one (a mailbox the service account cannot open,
logged on every poll) are held as compact runs while the files are read, and become events only
for a user with an attempt they may fall into (issues 14 and 15).  The report must say exactly
what it says when every line is held as an event: the same verdicts, evidence, unattached counts,
first and last lines, and notes; a line read twice (a copy of a file) still counts once."""

from __future__ import annotations

import pickle
import shutil
from dataclasses import astuple
from datetime import datetime, timedelta
from pathlib import Path

from builders import (
    EU1,
    JOERG,
    BusyDay,
    activation,
    bes_line,
    mailbox_error_text,
    merge,
    scan_json,
    unattached_users,
    write_busy_day,
    write_server,
)

from bes_logdiag.filescan import scan_source
from bes_logdiag.match import Matcher
from bes_logdiag.model import Report
from bes_logdiag.pattern_check import load_checked_library
from bes_logdiag.read import discover
from bes_logdiag.scan import run_scan
from bes_logdiag.settings import ScanConfig

T0 = datetime(2024, 3, 12, 9, 0)
MAILBOX = "magt.mailbox-open-failed"
BYSTANDERS = [f"user{i}@example.eu" for i in range(3)]


def _errors(
    user: str | None, start: datetime, every: timedelta, n: int, tid: str
) -> list[tuple[datetime, str]]:
    return [
        (start + k * every, bes_line(start + k * every, mailbox_error_text(), tid=tid, user=user))
        for k in range(n)
    ]


def _world(root: Path) -> Path:
    """Joerg's activation stops after the key exchange while his mailbox cannot be opened; three
    bystanders' mailboxes fail on every poll over two days, on threads the activation also uses;
    one file is copied in part (an earlier snapshot, not the same bytes)."""
    magt = _errors(JOERG[0], T0 + timedelta(minutes=3), timedelta(minutes=2), 5, "14D4")
    for i, user in enumerate(BYSTANDERS):
        magt += _errors(
            user, T0 - timedelta(hours=2, seconds=i), timedelta(minutes=7), 500, "14D4" if i else "1AEC"
        )
    magt += _errors(None, T0 - timedelta(hours=1), timedelta(minutes=11), 200, "2F0")
    write_server(root, EU1, merge(activation(*JOERG, T0, upto="key"), {"MAGT": magt}))
    (day,) = (root / f"{T0:%Y%m%d}").glob("*_MAGT_*")
    lines = day.read_bytes().splitlines(keepends=True)
    (day.parent / f"{day.stem} - Copy{day.suffix}").write_bytes(b"".join(lines[: len(lines) // 2]))
    return root


def _both(*paths: Path, **config: object) -> tuple[Report, Report]:
    """The report as the scan makes it, and as it is with every line held as an event."""
    cfg = ScanConfig(paths=tuple(str(p) for p in paths), jobs=1, **config)  # type: ignore[arg-type]
    return run_scan(cfg), run_scan(cfg, unattached_lines=True)


def _same(compact: Report, full: Report) -> None:
    assert [astuple(a) for a in compact.activations] == [astuple(a) for a in full.activations]
    assert sorted(map(repr, compact.unattached)) == sorted(map(repr, full.unattached))
    assert compact.notes == full.notes
    assert compact.inputs == full.inputs
    assert compact.log_end == full.log_end


def test_the_report_is_the_one_every_line_as_an_event_gives(tmp_path: Path) -> None:
    compact, full = _both(_world(tmp_path / "logs"))
    _same(compact, full)
    groups = {(u.email, u.pattern_id): u for u in compact.unattached}
    # 500 a user over two days (the copy's lines counted once), the first and last of them kept
    for i, user in enumerate(BYSTANDERS):
        g = groups[(user, MAILBOX)]
        assert g.count == 500
        assert g.first.time == T0 - timedelta(hours=2, seconds=i)
        assert g.last.time == T0 - timedelta(hours=2, seconds=i) + 499 * timedelta(minutes=7)
        assert g.last.time.date() > g.first.time.date()  # (the run crosses midnight into another file)
    assert groups[(None, MAILBOX)].count == 200
    assert any("266 matched lines" in n and "repeat lines already read" in n for n in compact.notes)


def test_a_users_errors_still_fall_into_the_attempt_they_interrupt(tmp_path: Path) -> None:
    report = run_scan(ScanConfig(paths=(str(_world(tmp_path / "logs")),), jobs=1))
    (act,) = [a for a in report.activations if a.email == JOERG[0]]
    (attempt,) = act.attempts
    errors = [e for e in attempt.events if e.pattern_id == MAILBOX]
    assert len(errors) == 5
    assert attempt.diagnosis.kb == "KB02276"
    assert (JOERG[0], MAILBOX) not in {(u.email, u.pattern_id) for u in report.unattached}


def test_the_busy_day_reads_the_same_either_way(busy_world: BusyDay, tmp_path: Path) -> None:
    """Sixty users of every outcome and every kind of join, mail flow, pushes, errors."""
    root = tmp_path / "busy"
    write_busy_day(busy_world, root)
    _same(*_both(root))


def test_a_clock_that_steps_back_orders_the_runs_by_moment(tmp_path: Path) -> None:
    """The night daylight saving time ends: the hour from 02:00 is written twice.  The first and
    last lines of a run are the first and last written, not the smallest and largest times."""
    night = datetime(2024, 10, 27, 1, 30)
    lines = [
        bes_line(night + timedelta(minutes=5 * k), mailbox_error_text(), user=BYSTANDERS[0])
        for k in range(18)
    ]
    again = night + timedelta(minutes=30, milliseconds=250)
    lines += [
        bes_line(again + timedelta(minutes=5 * k), mailbox_error_text(), user=BYSTANDERS[0])
        for k in range(12)
    ]
    root = tmp_path / "logs" / f"{night:%Y%m%d}"
    root.mkdir(parents=True)
    (root / f"{EU1}_MAGT_01_{night:%Y%m%d}_0001.txt").write_text("\r\n".join(lines) + "\r\n")
    compact, full = _both(tmp_path / "logs")
    _same(compact, full)
    (group,) = compact.unattached
    assert group.count == 30
    assert (group.first.line, group.last.line) == (1, 30)


def test_a_scanned_file_holds_the_bystanders_as_runs_not_events(tmp_path: Path) -> None:
    logs = _world(tmp_path / "logs")
    (src,) = [
        s
        for s in discover([str(logs)])[0]
        if "_MAGT_" in s.name and "Copy" not in s.name and f"{T0:%Y%m%d}" in s.name
    ]
    matcher = Matcher(load_checked_library(()))
    kw = {"year": None, "default_year": 2024, "thread_window": timedelta(minutes=5)}
    held = scan_source(src, matcher, **kw)
    assert not [e for e in held.events if e.pattern_id == MAILBOX]
    runs = {r.first.email: r for r in held.runs}
    assert set(runs) == {*BYSTANDERS, JOERG[0], None}
    assert runs[JOERG[0]].count == 5
    assert len(runs[BYSTANDERS[0]].times) == runs[BYSTANDERS[0]].count - 1  # (each line after the first)
    whole = scan_source(src, matcher, **kw, compact=False)
    assert whole.runs == ()
    assert sum(1 for e in whole.events if e.pattern_id == MAILBOX) == sum(r.count for r in held.runs)


def test_the_cli_counts_each_line_once_when_the_folder_is_given_twice(tmp_path: Path) -> None:
    logs = _world(tmp_path / "logs")
    shutil.copytree(logs, tmp_path / "again")
    code, report, _ = scan_json(logs, tmp_path / "again")
    counts = {u["email"]: u["count"] for u in unattached_users(report) if u["pattern"] == MAILBOX}
    assert counts == {**dict.fromkeys(BYSTANDERS, 500), None: 200}
    assert code == 1


def test_a_files_runs_cross_to_another_process_whole(tmp_path: Path) -> None:
    """A worker process hands its results over pickled (`runs.pack`): every line of every run,
    and where each run begins and ends, arrive as they were."""
    logs = _world(tmp_path / "logs")
    (src,) = [
        s
        for s in discover([str(logs)])[0]
        if "_MAGT_" in s.name and "Copy" not in s.name and f"{T0:%Y%m%d}" in s.name
    ]
    kw = {"year": None, "default_year": 2024, "thread_window": timedelta(minutes=5)}
    held = scan_source(src, Matcher(load_checked_library(())), **kw)
    back = pickle.loads(pickle.dumps(held))
    assert [(r.first, list(r.raw()), r.shape) for r in back.runs] == [
        (r.first, list(r.raw()), r.shape) for r in held.runs
    ]
    assert back.events == held.events and back.stats == held.stats
