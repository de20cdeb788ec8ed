"""What the live table shows (`render.live.board_view`): activations under way with the time left
before their stage's threshold, stalls and failures with their KB and one line of why, completed
ones for a while and then only counted, silent servers; and the JSON object of a change."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from test_watch_support import ANNA, IAN, SERVER, T0, Clock, day_begun, user, watching

from bes_logdiag.changes import ChangeKind
from bes_logdiag.live import Tick
from bes_logdiag.render.live import KEEP, Board, Recent, board_view, change_dict


def shown(tick: Tick, recent: Recent, width: int = 160) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, highlight=False)
    board = Board(tick.report.activations, tick.ends, tick.silent, tick.now, recent, 3)
    console.print(board_view(board, width))
    return [line.rstrip() for line in out.getvalue().splitlines()]


def row(lines: list[str], who: str) -> list[str]:
    """The cells of the table row that begins with `who` (columns are two spaces apart or more)."""
    (line,) = [x.strip() for x in lines if x.strip().startswith(who)]
    return re.split(r"\s{2,}", line)


def test_the_board_shows_what_is_under_way_stalled_and_done(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    clock = Clock()
    w = watching(bes.root, clock)
    recent = Recent()
    ian, anna = user(IAN, T0), user(ANNA, T0, upto="key", etp_tid="2AEC", key_tid="24D4")
    for s in ian.keep[:6]:
        bes.step(ian, s)
    for s in anna.keep:
        bes.step(anna, s)
    bes.noise(T0 + timedelta(minutes=16))  # the server's logs go on: Anna's key waits 16 minutes
    tick = w.next()
    recent.saw(tick.changes, tick.now)
    lines = shown(tick, recent, width=200)
    assert lines[0] == "bes-logdiag watch · 3 files followed on 1 server · 1 under way · 1 stalled or failed"
    assert row(lines, ANNA[0]) == [
        ANNA[0], SERVER, "stalled", "2 Verifying encryption", "key_generated", "key_accept_sent",
        "KB13843 Activation error: Contact Service Administrator",
    ]  # fmt: skip
    assert row(lines, IAN[0]) == [
        IAN[0], SERVER, "in_progress", "4 Slow synchronization", "slowsync_started", "slowsync_complete", "44m48s",
    ]  # fmt: skip
    # The last line and its why: how long ago, cut to one line each where the terminal is narrower.
    at = [n for n, x in enumerate(lines) if x.strip().startswith(ANNA[0])][0]
    assert re.split(r"\s{2,}", lines[at + 1].strip()) == [
        "15m58s ago", "the encryption key was generated but no KEY_ACCEPT followed on its thread;…",
    ]  # fmt: skip
    narrow = shown(tick, recent)
    assert row(narrow, ANNA[0])[-1] == "KB13843 Activation error: Contact Service Administr…"
    assert all(len(x) <= 160 for x in narrow)
    assert lines[-1] == "Ctrl-C to stop"

    for s in ian.keep[6:]:
        bes.step(ian, s)
    done = w.next()
    recent.saw(done.changes, done.now)
    assert [c.kind for c in done.changes][-1] is ChangeKind.COMPLETED
    assert row(shown(done, recent), IAN[0])[-1] == "done 2m51s ago"  # (by the server's newest line, 09:16)
    # Once it has not changed for a while, a completed activation is only counted.
    clock.now += KEEP + 1
    quiet = w.next()
    lines = shown(quiet, recent)
    assert not any(x.strip().startswith(IAN[0]) for x in lines)
    assert "earlier in the window: 1 complete" in lines


def test_a_stall_shows_its_kb_at_every_width(tmp_path: Path) -> None:
    """With long addresses the KB and why got no column of their own from 140 to 149 columns (the
    wide table), and the KB was then nowhere: only the narrow table put it under the status."""
    bes = day_begun(tmp_path)
    w = watching(bes.root, Clock())
    long = ("christopher.vandenberg-oyelaran@corp.example.com", 1004, "Vandenberg-Oyelaran, Christopher")
    margaret = user(long, T0, upto="accept", etp_tid="2AEC", key_tid="24D4")
    for s in margaret.keep:
        bes.step(margaret, s)
    bes.noise(T0 + timedelta(minutes=16))
    tick = w.next()
    for width in range(70, 201):
        lines = shown(tick, Recent(), width=width)
        assert any("KB13843" in x for x in lines), (width, lines)
        assert all(len(x) <= width for x in lines), width


def test_a_silent_server_is_named_above_the_table(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    clock = Clock()
    w = watching(bes.root, clock)
    bes.step(user(IAN, T0), "etp")
    w.next()
    clock.now += 600
    lines = shown(w.next(), Recent())
    assert lines[1] == (
        f"{SERVER}: silent, no new line for 10m1s (the newest at 2024-03-11 09:00:00); stalls there wait for its logs"
    )


def test_a_narrow_terminal_keeps_names_whole(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    w = watching(bes.root)
    bes.step(user(IAN, T0), "etp")
    for width in (100, 70):
        lines = shown(w.next(), Recent(), width=width)
        assert all(len(x) <= width for x in lines)
        assert any(x.strip().startswith(IAN[0]) for x in lines)
        assert any(f"on {SERVER}" in x for x in lines)


def test_a_change_is_the_activation_of_scan_json_and_what_changed(tmp_path: Path) -> None:
    bes = day_begun(tmp_path)
    w = watching(bes.root)
    bes.step(user(IAN, T0), "etp")
    (change,) = w.next().changes
    doc = json.loads(json.dumps(change_dict(change)))
    assert (doc["change"], doc["attempt"], doc["email"], doc["status"]) == (
        "started",
        1,
        IAN[0],
        "in_progress",
    )
    assert doc["event"]["milestone"] == "etp_received" and doc["event"]["line"] == 2
    assert doc["milestones"] == [doc["event"]]
