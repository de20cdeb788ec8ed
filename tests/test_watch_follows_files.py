"""The live watch follows the logs as a BES writes them: appended lines read once, a rotation to
``_0002``, a new day folder, a file truncated or replaced, deleted, a folder that disappears and
comes back, NUL bytes a share shows before the data.  Driven through `live.Watch` with a clock the
test moves, so nothing here waits."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import Activation, accept_text, bes_line
from test_watch_support import (
    ANNA,
    DAY,
    ETP_TO_COMPLETE,
    IAN,
    SERVER,
    T0,
    Bes,
    Clock,
    refuse_reading,
    user,
    watch,
    watching,
)

from bes_logdiag import follow
from bes_logdiag.changes import Change, ChangeKind
from bes_logdiag.file_changes import Appended, Mode, Unreadable
from bes_logdiag.live import Tick, Watch
from bes_logdiag.settings import ScanConfig


def watching_ian(
    bes: Bes, first: str, *more: str, clock: Clock | None = None, **config: object
) -> tuple[Watch, Activation, Path]:
    """A watch started on ``bes``'s logs, then Ian's steps ``first, *more`` written (from T0): the
    watch, Ian, and the file the last step went to."""
    w = watching(bes.root, clock, **config)
    ian = user(IAN, T0)
    written = [bes.step(ian, step) for step in (first, *more)]
    return w, ian, written[-1]


def kinds(changes: tuple[Change, ...] | list[Change]) -> list[tuple[str, str | None]]:
    return [(c.kind.value, c.event.milestone if c.event else None) for c in changes]


def ticks(w: Watch, n: int) -> list[Tick]:
    return [w.next() for _ in range(n)]


def test_lines_appended_are_read_once(bes: Bes) -> None:
    w, _, magt = watching_ian(bes, "etp")
    assert kinds(w.next().changes) == [("started", "etp_received")]
    for n in range(3):
        bes.noise(T0 + timedelta(seconds=5 + n), n)
    assert all(not t.changes for t in ticks(w, 5))
    (result,) = [r for r in w.state.results() if r.stats.path == str(magt)]
    assert (result.stats.bytes, result.stats.lines) == (magt.stat().st_size, 5)
    assert [e.milestone for e in result.events] == ["etp_received"]


def test_a_key_accept_in_the_next_iteration_belongs_to_the_key_before_it(bes: Bes) -> None:
    w, ian, _ = watching_ian(bes, "etp", "key")
    w.next()
    first = w.follower.following
    # The Messaging Agent restarts: its next line, the KEY_ACCEPT on the key's thread, which
    # names no user, opens MAGT _0002.
    second = bes.restart("MAGT")
    bes.step(ian, "accept")
    (change,) = w.next().changes
    assert (change.kind, change.event and change.event.milestone) == (ChangeKind.MILESTONE, "key_accept_sent")
    assert change.event is not None and change.event.file == str(second)
    assert change.activation.email == IAN[0] and change.event.identity_from == "thread"
    assert w.follower.following == first + 1
    ticks(w, 6)  # _0001 grows no more: after a few polls it is no longer looked at
    assert w.follower.following == first


def test_an_activation_goes_on_in_the_next_day_folder(bes: Bes) -> None:
    w = watching(bes.root)
    ian = user(IAN, DAY.replace(hour=23, minute=59, second=58))
    bes.step(ian, "etp")
    assert kinds(w.next().changes) == [("started", "etp_received")]
    key = bes.step(ian, "key")  # 00:00:00, in Logs/20240312/
    assert key.parent.name == "20240312"
    (change,) = w.next().changes
    assert change.event is not None and change.event.file == str(key)
    assert (change.kind, change.event.milestone, change.activation.last.status.value) == (
        ChangeKind.MILESTONE, "key_generated", "in_progress",
    )  # fmt: skip


def test_a_truncated_file_is_read_again_from_its_start(bes: Bes) -> None:
    """Emptied, it may be a copy about to be written again: after the settle time it is read
    from its start."""
    w, ian, magt = watching_ian(bes, "etp")
    w.next()
    read = magt.stat().st_size
    magt.write_bytes(b"")
    notes = [n for t in ticks(w, 7) for n in t.notes]
    assert notes == [f"{magt}: shrank from {read:,} to 0 bytes: read again from its start"]
    bes.step(ian, "key")
    act = w.next().report.activations[0]
    assert [e.milestone for e in act.last.events] == ["etp_received", "key_generated"]


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_file_deleted_and_written_anew_is_read_at_once(bes: Bes, how: str) -> None:
    """A cleanup deletes (or empties) the log and the BES writes it again at its next line:
    another file under the name, shorter than what was read and beginning otherwise.  It was read
    only after the settle time, five polls later, its lines told after later ones of other logs."""
    w, ian, magt = watching_ian(bes, "etp")
    w.next()
    magt.unlink() if how == "deleted" else magt.write_bytes(b"")
    bes.step(ian, "key")
    assert magt.stat().st_size < len(ian.line("etp")[2]) * 2
    tick = w.next()
    assert tick.notes == (
        f"{magt}: was written anew ({magt.stat().st_size:,} bytes): read again from its start",
    )
    assert kinds(tick.changes) == [("milestone", "key_generated")]


def test_a_file_replaced_by_a_longer_copy_of_itself_is_not_read_twice(bes: Bes) -> None:
    """A mirror of the logs on a share (robocopy) writes each file anew: what was read is there
    again, with more after it."""
    w, ian, magt = watching_ian(bes, "etp")
    w.next()
    copy = magt.with_suffix(".tmp")
    shutil.copyfile(magt, copy)
    with open(copy, "ab") as f:
        f.write(ian.line("key")[2].encode() + b"\r\n")
    os.replace(copy, magt)
    tick = w.next()
    assert kinds(tick.changes) == [("milestone", "key_generated")] and not tick.notes
    (result,) = [r for r in w.state.results() if r.stats.path == str(magt)]
    assert (result.stats.bytes, result.stats.lines) == (magt.stat().st_size, 3)


def test_a_file_replaced_by_other_content_is_read_again(bes: Bes) -> None:
    w, _, magt = watching_ian(bes, "etp")
    w.next()
    size = magt.stat().st_size
    magt.write_bytes(b"")
    for n in range(40):  # longer than what was read, and different
        bes.noise(T0 + timedelta(seconds=n), n)
    tick = w.next()
    assert tick.notes == (f"{magt}: was replaced by other content: read again from its start",)
    assert magt.stat().st_size > size


def test_a_deleted_file_is_told_once_and_what_was_read_stays(bes: Bes) -> None:
    w, _, _ = watching_ian(bes, "etp", "key", "accept", "books", "policy", "getconfig")
    w.next()
    sync = bes.path("SYNC", DAY)
    sync.unlink()
    notes = [n for t in ticks(w, 4) for n in t.notes]
    assert notes == [f"{sync}: deleted or moved away while followed; what was read of it is kept"]
    act = w.next().report.activations[0]
    assert act.last.last_milestone == "slowsync_started"


def test_a_folder_that_disappears_and_comes_back_is_followed_on(bes: Bes) -> None:
    w, ian, magt = watching_ian(bes, "etp")
    w.next()
    away = bes.root.with_name("Logs.away")
    bes.root.rename(away)
    gone = w.next()
    assert gone.notes == (f"{bes.root}: the folder has disappeared (a network share that dropped?); "
                          "its 3 files followed on if it returns",)  # fmt: skip
    assert gone.report.activations[0].last.last_milestone == "etp_received"
    away.rename(bes.root)
    bes.step(ian, "key")
    back = w.next()
    assert back.notes == (f"{bes.root}: there again; followed on",)
    assert kinds(back.changes) == [("milestone", "key_generated")]
    (result,) = [r for r in w.state.results() if r.stats.path == str(magt)]
    assert (result.stats.bytes, result.stats.lines) == (magt.stat().st_size, 3)


def test_an_unreadable_new_file_is_told_once_and_read_when_it_can_be(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = watching(bes.root)
    locked = bes.path("CMNG", DAY)
    readable = refuse_reading(monkeypatch, locked)
    bes.write("CMNG", bes_line(T0, "Total Msgs Pending 0", tid="9C4", eid=30000))
    told = [s for t in ticks(w, 4) for s in t.report.inputs.skipped]
    assert {(s.path, s.reason) for s in told} == {(str(locked), "permission denied")}
    readable()
    tick = ticks(w, 2)[-1]
    assert not tick.report.inputs.skipped
    assert str(locked) in {f.path for f in tick.report.inputs.files}


def test_a_log_that_becomes_readable_with_a_milestone_in_it_is_no_longer_skipped(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read that ends the refusal also brings an activation's first milestone: the report
    shows the activation and no longer lists the file as skipped."""
    w = watching(bes.root)
    ian = user(IAN, T0)
    magt = bes.path("MAGT", DAY)
    readable = refuse_reading(monkeypatch, magt)
    bes.step(ian, "etp")
    told = [s for t in ticks(w, 3) for s in t.report.inputs.skipped]
    assert {(s.path, s.reason) for s in told} == {(str(magt), "permission denied")}
    readable()
    after = ticks(w, 2)
    assert [k for t in after for k in kinds(t.changes)] == [("started", "etp_received")]
    assert not after[-1].report.inputs.skipped


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in a folder are POSIX")
def test_a_named_pipe_that_appears_is_told_once_never_opened(bes: Bes) -> None:
    w = watching(bes.root)
    pipe = bes.root / "20240311" / "capture.pipe"
    os.mkfifo(pipe)
    changes = [c for _ in range(3) for c in list(w.follower.poll())]
    assert changes == [Unreadable(str(pipe), "a named pipe, not a file")]


def test_nul_bytes_a_share_shows_before_the_data_are_waited_for(bes: Bes) -> None:
    w, ian, magt = watching_ian(bes, "etp")
    end = magt.stat().st_size
    key = ian.line("key")[2].encode() + b"\r\n"
    with open(magt, "ab") as f:
        f.write(b"\0" * len(key))  # the new size, not yet the data
    assert kinds(w.next().changes) == [("started", "etp_received")]
    with open(magt, "r+b") as f:
        f.seek(end)
        f.write(key)
    tick = w.next()
    assert kinds(tick.changes) == [("milestone", "key_generated")]
    assert not tick.report.inputs.skipped  # no "NUL bytes" damage


def test_a_utf16_log_s_lines_are_told_at_the_next_poll(bes: Bes) -> None:
    """UTF-16 text ends in a NUL byte (``\\n\\0``): it is no share's padding, so a line of a
    UTF-16 log is told at the next poll, not after the settle time (5 s at a 1 s interval)."""
    clock = Clock()
    w = watching(bes.root, clock)
    ian = user(IAN, T0)
    magt = bes.root / "20240311" / f"{SERVER}_MAGT_02_20240311_0001.txt"
    magt.write_bytes(("\ufeff" + ian.line("etp")[2] + "\r\n").encode("utf-16-le"))
    assert kinds(w.next().changes) == [("started", "etp_received")]
    with open(magt, "ab") as f:
        f.write((ian.line("key")[2] + "\r\n").encode("utf-16-le"))
    assert kinds(w.next().changes) == [("milestone", "key_generated")]


def test_a_stall_is_judged_by_the_newest_line_and_the_wall_time_since(bes: Bes) -> None:
    clock = Clock()
    w, _, _ = watching_ian(bes, "etp", "key", clock=clock, stall_after={None: timedelta(seconds=30)})
    w.next()
    read_at = clock.now
    seen: list[tuple[float, str]] = []
    for _ in range(35):
        seen += [(clock.now - read_at, c.kind.value) for c in w.next().changes]
    ((after, kind),) = seen
    assert kind == "stalled" and 30 < after <= 32
    assert w.next().report.activations[0].last.diagnosis.kb == "KB13843"


def test_lines_that_arrive_late_undo_no_stall(bes: Bes) -> None:
    """Ian stalls; then lines written before the time the server had reached arrive (a slow share
    delivers them late): his stall stands, not "resumed" and "stalled" again."""
    clock = Clock()
    w, ian, _ = watching_ian(bes, "etp", "key", clock=clock, stall_after={None: timedelta(seconds=30)})
    w.next()
    changes = [c.kind.value for _ in range(35) for c in w.next().changes]
    assert changes == ["stalled"]
    bes.step(user(ANNA, ian.at(2) + timedelta(seconds=10)), "etp")  # (another user's line: a new report)
    later = [(c.kind.value, c.activation.email) for _ in range(5) for c in w.next().changes]
    assert ("resumed", IAN[0]) not in later and ("stalled", IAN[0]) not in later, later
    assert w.next().report.activations[0].last.status.value == "stalled"


def test_a_silent_server_is_told_silent_and_stalls_nobody(bes: Bes) -> None:
    clock = Clock()
    w, ian, key = watching_ian(bes, "etp", "key", clock=clock)  # stage 2 threshold: 15 minutes
    w.next()
    clock.now += 3600  # an hour with no line from the server
    quiet = w.next()
    assert list(quiet.silent) == [SERVER]
    last, how_long = quiet.silent[SERVER]
    assert last == ian.at(2) and how_long > timedelta(minutes=59)
    assert quiet.report.activations[0].last.status.value == "in_progress"
    assert not quiet.changes
    # The logs grow again, 20 minutes later by their own clock: now the key's wait is a stall.
    bes.noise(T0 + timedelta(minutes=20))
    back = ticks(w, 2)
    assert not back[-1].silent
    assert kinds([c for t in back for c in t.changes]) == [("stalled", None)]
    assert key.exists()


def test_nothing_written_means_nothing_read_and_no_change(bes: Bes) -> None:
    w = watch(bes.root)
    first = w.start()
    polls = [list(w.follower.poll()) for _ in range(3)]
    assert polls == [[], [], []]
    tick = w.next()
    assert tick.report is first.report and not tick.changes and not tick.notes


def test_the_order_of_changes_from_etp_to_slowsync_complete(bes: Bes) -> None:
    w = watching(bes.root)
    ian = user(IAN, T0)
    told: list[tuple[str, str | None]] = []
    for s in ian.keep:
        bes.step(ian, s)
        told += kinds(w.next().changes)
    assert told == ETP_TO_COMPLETE


def test_the_watch_reads_the_24_hours_before_the_newest_line(bes: Bes) -> None:
    old = DAY - timedelta(days=3)
    bes.write("MAGT", bes_line(old.replace(hour=8), accept_text(1), tid="1"), old)
    w = watch(bes.root)
    tick = w.start()
    assert tick.notes == ("1 file of days before 2024-03-09 not read (give --since to read further back)",)
    assert w.since == DAY.replace(hour=8, minute=55) - timedelta(hours=24)


def test_a_watch_left_open_for_days_keeps_a_window_of_the_logs(bes: Bes) -> None:
    w, _, _ = watching_ian(bes, "etp")
    assert kinds(w.next().changes) == [("started", "etp_received")]
    later = DAY + timedelta(days=3, hours=9)
    bes.start_day(later)  # the BES writes on, three days later, in a new day folder
    ticks(w, 8)  # (the old day's files are closed once they have stayed still a few polls)
    bes.noise(later + timedelta(minutes=1))
    tick = w.next()
    assert w.since is not None and later - timedelta(hours=24) <= w.since <= later - timedelta(hours=23)
    assert {Path(r.stats.path).parent.name for r in w.state.results()} == {"20240314"}
    assert tick.report.activations == ()


def test_an_empty_folder_is_nothing_to_read(tmp_path: Path) -> None:
    from bes_logdiag.errors import InputError

    (tmp_path / "Logs").mkdir()
    with pytest.raises(InputError, match=r"nothing could be read \(.*Logs: folder holds no files\)"):
        watch(tmp_path / "Logs", Clock()).start()


def test_a_new_servers_folder_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "captured"
    first = Bes(root / SERVER / "Logs")
    first.start_day(T0 - timedelta(minutes=5))
    w = watching(root)
    second = Bes(root / "BES_EAST_02" / "Logs", server="BES_EAST_02")
    second.start_day(T0 - timedelta(minutes=1))
    second.step(user(IAN, T0), "etp")
    (change,) = w.next().changes
    assert (change.kind, change.activation.server) == (ChangeKind.STARTED, "BES_EAST_02")


def test_gzip_logs_beside_are_read_whole_once(bes: Bes) -> None:
    import gzip

    earlier = bes.root / "20240311" / f"{SERVER}_MAGT_02_20240311_0001.txt.gz"
    ian = user(IAN, T0 - timedelta(hours=1), upto="key")
    earlier.write_bytes(gzip.compress(b"".join(ian.line(s)[2].encode() + b"\r\n" for s in ian.keep)))
    w = watch(bes.root)
    tick = w.start()
    (act,) = tick.report.activations
    assert [e.milestone for e in act.last.events] == ["etp_received", "key_generated"]
    assert act.last.events[0].file == str(earlier)
    ticks(w, 3)
    assert [r.stats.path for r in w.state.results()].count(str(earlier)) == 1


def test_a_file_bigger_than_one_read_is_read_whole_over_several_polls(bes: Bes) -> None:
    for n in range(200):
        bes.noise(T0 + timedelta(seconds=n), n)
    magt = bes.path("MAGT", DAY)
    f = follow.Follower([str(bes.root)], lambda src: Mode.READ, clock=Clock(), max_read=1000)
    got = b""
    polls = 0
    while polls == 0 or f.behind:
        got += b"".join(c.data for c in f.poll() if isinstance(c, Appended) and c.src.path == str(magt))
        polls += 1
    assert got == magt.read_bytes()
    assert polls > magt.stat().st_size // 1000
    assert not [c for c in f.poll() if isinstance(c, Appended)]


def test_the_watch_starts_from_what_scan_says() -> None:
    """Read from the start of the sample logs, the watch's first report has scan's verdicts."""
    from datetime import datetime

    from builders import SAMPLE_LOGS, scan_report

    def verdicts(report: object) -> list[tuple[object, ...]]:
        return sorted(
            ((a.server, a.email, a.user_id, a.display_name, a.last.status, a.last.stage, a.last.diagnosis.kb,
              len(a.attempts)) for a in report.activations),  # type: ignore[attr-defined]
            key=str,
        )  # fmt: skip

    clock = Clock()
    w = Watch(
        ScanConfig(paths=(str(SAMPLE_LOGS),), jobs=1),
        since=datetime(2000, 1, 1),
        clock=clock,
        sleep=clock.sleep,
    )
    assert verdicts(w.start().report) == verdicts(scan_report(SAMPLE_LOGS))


@pytest.mark.parametrize(
    "given, placed",
    [
        ("08:00", datetime(2024, 3, 11, 8, 0)),
        ("03/11 08:30", datetime(2024, 3, 11, 8, 30)),
        ("2h", T0.replace(hour=7)),
    ],
)
def test_since_is_placed_in_the_logs_time_not_the_machines(bes: Bes, given: str, placed: datetime) -> None:
    """The logs are of 2024-03-11; ``--since 08:00`` was today's 08:00 on the machine running the
    watch (in another time zone, or days later), and the watch read nothing ("nothing could be
    read") or showed nothing.  Placed as scan places it: on the logs' last day, their year, or
    before their end."""
    from bes_logdiag.cli.watch import parse_when

    bes.step(user(IAN, T0), "etp")
    clock = Clock()
    w = Watch(
        ScanConfig(paths=(str(bes.root),), jobs=1),
        since=parse_when(given, "--since"),
        clock=clock,
        sleep=clock.sleep,
    )
    tick = w.start()
    assert w.since == placed
    assert [a.email for a in tick.report.activations] == [IAN[0]]
    assert any(n.startswith(f"--since {given}") or n.startswith(f"--since {given!r}") for n in tick.notes)


@pytest.mark.parametrize("archive", ["gz", "zip"])
def test_a_copy_of_a_followed_log_archived_beside_it_tells_nothing_again(bes: Bes, archive: str) -> None:
    """An admin gzips (or zips) today's log into the Logs folder, keeping it, while an activation
    is under way: the copy's lines repeat the log's, and the report kept the copy's.  Every
    milestone was told again, the ETP.DAT line as a milestone of its own activation."""
    import gzip
    import zipfile

    w, ian, magt = watching_ian(bes, "etp", "key", "accept")
    w.next()
    if archive == "gz":
        magt.with_name(magt.name + ".gz").write_bytes(gzip.compress(magt.read_bytes()))
    else:
        with zipfile.ZipFile(magt.with_suffix(".zip"), "w") as zf:
            zf.write(magt, magt.name)
    assert [kinds(t.changes) for t in ticks(w, 3)] == [[], [], []]
    bes.step(ian, "books")
    assert kinds([c for t in ticks(w, 2) for c in t.changes]) == [("milestone", "service_books_requested")]
