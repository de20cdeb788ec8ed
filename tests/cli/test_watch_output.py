"""What ``watch`` writes: ndjson changes whose activation fields are scan's JSON's, lines for a
person, the -o file appended to (and a full disk behind it), what a terminal must never receive,
and the usage errors."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import bes_line, command_text, run_cli, scan_json
from test_watch_support import FAST, IAN, T0, Bes, started_watch, user, writer


def play(bes: Bes, monkeypatch: pytest.MonkeyPatch, upto: str = "complete") -> None:
    writer(started_watch(monkeypatch), bes.steps(user(IAN, T0, upto=upto)))


def test_a_change_carries_the_activation_as_scan_json_has_it(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(bes, monkeypatch)
    result = run_cli("watch", bes.root, "-u", IAN[0], "--until-done", "--timeout", "10s", *FAST)
    assert result.exit_code == 0, result.stderr
    done: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    assert (done.pop("change"), done.pop("attempt")) == ("completed", 1)
    event = done.pop("event")
    _, report, _ = scan_json(bes.root)
    (act,) = report["activations"]
    assert done == act
    assert event == act["milestones"][-1]


def test_lines_for_a_person_show_log_text_never_obey_it(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    evil = "Dun\x9b2Jdas\u202e, Ian"  # a C1 CSI (clear screen) and a right-to-left override
    line = bes_line(T0 + timedelta(seconds=40), command_text("GetConfig", evil, 1002), tid="1294", eid=46046)
    act = user(IAN, T0, upto="policy")
    steps = [*bes.steps(act), lambda: bes.write("SYNC", line)]
    writer(started_watch(monkeypatch), steps)
    result = run_cli("watch", bes.root, "--format", "lines", "--timeout", "0.8s", "--interval", "0.05s")
    assert result.exit_code == 3, result.stderr
    assert "\x9b" not in result.stdout and "\u202e" not in result.stdout
    assert "milestone slowsync_started (stage 4)" in result.stdout
    assert "(Dun\\x9b2Jdas\\u202e, Ian · 1002)" in result.stdout


def test_the_table_asked_for_off_a_terminal_gives_lines(bes: Bes, monkeypatch: pytest.MonkeyPatch) -> None:
    play(bes, monkeypatch, upto="etp")
    result = run_cli("watch", bes.root, "--format", "table", "--timeout", "0.5s", "--interval", "0.05s")
    assert result.exit_code == 3
    assert (
        result.stdout
        == "2024-03-11 09:00:00.000 BES_EU_01 ian.dundas@example.eu: started etp_received (stage 1)\n"
    )
    assert result.stderr.startswith(
        "bes-logdiag: --format table: a live table needs a terminal (and no NO_COLOR); one line per change instead\n"
    )


def test_the_output_file_is_appended_to(bes: Bes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "changes.ndjson"
    out.write_text('{"change": "earlier"}\n', encoding="utf-8")
    play(bes, monkeypatch, upto="key")
    result = run_cli("watch", bes.root, "-o", out, "--timeout", "0.5s", *FAST)
    assert result.exit_code == 3 and result.stdout == ""
    told = [json.loads(line)["change"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert told == ["earlier", "started", "milestone"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_behind_the_output_is_one_line_and_exit_2(
    bes: Bes, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(bes, monkeypatch, upto="etp")
    result = run_cli("watch", bes.root, "-o", "/dev/full", "--timeout", "5s", "--interval", "0.05s")
    assert result.exit_code == 2
    assert result.stderr == "bes-logdiag: error: -o /dev/full: cannot write: No space left on device\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until-done"], "Invalid value for --until-done: give --user to say whose activation to wait for"),
        (["--format", "table", "-o", "x.ndjson"], "Invalid value for --format: a file gets lines or ndjson"),
        (["--interval", "soon"], "Invalid value for --interval: 'soon' is not a duration"),
        (["--timeout", "0s"], "Invalid value for --timeout: '0s': must be longer than zero"),
    ],
)
def test_usage_errors_exit_2(bes: Bes, args: list[str], message: str) -> None:
    result = run_cli("watch", bes.root, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_standard_input_cannot_be_followed() -> None:
    result = run_cli("watch", "-")
    assert result.exit_code == 2
    assert "standard input cannot be followed" in result.stderr


def test_nothing_readable_exits_2(tmp_path: Path) -> None:
    result = run_cli("watch", tmp_path / "nowhere", "--timeout", "1s")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"bes-logdiag: error: nothing could be read ({tmp_path / 'nowhere'}: no such file or folder)\n"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="the help text's paths")
def test_watch_has_help_with_an_example() -> None:
    result = run_cli("watch", "--help")
    assert result.exit_code == 0
    assert "Example: bes-logdiag watch Logs/ --user" in result.stdout
